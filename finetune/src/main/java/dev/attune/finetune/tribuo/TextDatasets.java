package dev.attune.finetune.tribuo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.tribuo.Example;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;

/**
 * Labelled texts as Tribuo datasets, in one call: {@code TextDatasets.read(Path.of("train.jsonl"))}.
 *
 * <p>How a text travels through Tribuo: each {@link Example} keeps the raw text in its metadata under
 * {@link #TEXT} ({@code example.getMetadataValue("text")}), which is what the language-model classifiers read; its
 * features are the text's lower-cased words as bag-of-words counts ({@code word=...}), so Tribuo's own trainers
 * (logistic regression, ...) train on the same dataset as a baseline. The dataset's provenance names the file and
 * its SHA-256.
 */
public final class TextDatasets {

    /** The metadata key that holds an example's text. */
    public static final String TEXT = "text";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final LabelFactory LABELS = new LabelFactory();

    private TextDatasets() {
    }

    /** Reads {@code .jsonl} ({@code {"text": ..., "label": ...}} per line) or {@code .csv} (header with text, label). */
    public static MutableDataset<Label> read(Path file) throws IOException {
        return read(file, "text", "label");
    }

    /**
     * Reads labelled texts from JSON Lines or CSV (by the file's extension), with the given field names. A missing
     * field, an empty text or a malformed line is an error naming the file, line and field.
     */
    public static MutableDataset<Label> read(Path file, String textField, String labelField) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "labelled text file not found");
        }
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        List<Example<Label>> examples = name.endsWith(".csv") ? readCsv(file, textField, labelField)
                : readJsonl(file, textField, labelField);
        if (examples.isEmpty()) {
            throw new IOException(file + ": no examples");
        }
        String hash = ProvenanceUtil.hashResource(ProvenanceUtil.HashType.SHA256, file);
        SimpleDataSourceProvenance provenance = new SimpleDataSourceProvenance(
                file.toAbsolutePath() + " (" + examples.size() + " examples, sha256 " + hash + ")", LABELS);
        return new MutableDataset<>(examples, provenance, LABELS);
    }

    /** Texts to predict, without labels: what {@code Model.predict} takes. */
    public static List<Example<Label>> unlabelled(List<String> texts) {
        List<Example<Label>> out = new ArrayList<>();
        for (String t : texts) {
            out.add(example(t, LabelFactory.UNKNOWN_LABEL));
        }
        return out;
    }

    /** One example: the text in its metadata, its words as features. */
    public static Example<Label> example(String text, Label label) {
        Map<String, Double> counts = new LinkedHashMap<>();
        for (String w : text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}']+")) {
            if (!w.isEmpty()) {
                counts.merge("word=" + w, 1.0, Double::sum);
            }
        }
        ArrayExample<Label> e = new ArrayExample<>(label, counts.keySet().toArray(String[]::new),
                counts.values().stream().mapToDouble(Double::doubleValue).toArray());
        e.setMetadataValue(TEXT, text);
        return e;
    }

    /** The text an example carries; an example without one is an error that says how texts travel. */
    public static String text(Example<?> example) {
        Optional<Object> t = example.getMetadataValue(TEXT);
        if (t.isEmpty() || !(t.get() instanceof String s)) {
            throw new IllegalArgumentException("the example carries no text: language-model classifiers read it "
                    + "from the example's metadata key \"" + TEXT + "\" (TextDatasets.read and "
                    + "TextDatasets.example put it there)");
        }
        return s;
    }

    private static List<Example<Label>> readJsonl(Path file, String textField, String labelField) throws IOException {
        List<Example<Label>> out = new ArrayList<>();
        int lineNumber = 0;
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                if (line.isBlank()) {
                    continue;
                }
                JsonNode o;
                try {
                    o = JSON.readTree(line);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IOException(file + ", line " + lineNumber + ": not valid JSON: " + e.getOriginalMessage());
                }
                if (o == null || !o.isObject()) {
                    throw new IOException(file + ", line " + lineNumber + ": expected a JSON object");
                }
                String where = file + ", line " + lineNumber;
                out.add(labelled(field(o, textField, where), field(o, labelField, where), textField, where));
            }
        }
        return out;
    }

    private static String field(JsonNode o, String key, String where) throws IOException {
        JsonNode n = o.get(key);
        if (n == null || n.isNull()) {
            throw new IOException(where + ": missing field \"" + key + "\"");
        }
        if (!n.isValueNode()) {
            throw new IOException(where + ": field \"" + key + "\" must be a string");
        }
        return n.asText();
    }

    private static Example<Label> labelled(String text, String label, String textField, String where)
            throws IOException {
        if (text.isBlank()) {
            throw new IOException(where + ": field \"" + textField + "\" is empty");
        }
        if (label.isBlank()) {
            throw new IOException(where + ": the label is empty");
        }
        return example(text, new Label(label));
    }

    private static List<Example<Label>> readCsv(Path file, String textField, String labelField) throws IOException {
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        if (lines.isEmpty()) {
            throw new IOException(file + ": empty file (expected a header naming " + textField + " and " + labelField + ")");
        }
        List<String> header = Csv.split(lines.get(0), file + ", line 1");
        int ti = header.indexOf(textField);
        int li = header.indexOf(labelField);
        if (ti < 0 || li < 0) {
            throw new IOException(file + ", line 1: the header " + header + " lacks field \""
                    + (ti < 0 ? textField : labelField) + "\"");
        }
        List<Example<Label>> out = new ArrayList<>();
        for (int i = 1; i < lines.size(); i++) {
            if (lines.get(i).isBlank()) {
                continue;
            }
            String where = file + ", line " + (i + 1);
            List<String> cells = Csv.split(lines.get(i), where);
            if (cells.size() != header.size()) {
                throw new IOException(where + ": " + cells.size() + " fields, the header has " + header.size());
            }
            out.add(labelled(cells.get(ti), cells.get(li), textField, where));
        }
        return out;
    }

    /** RFC 4180 fields of one line (quoted fields with doubled quotes; no line breaks inside fields). */
    static final class Csv {
        static List<String> split(String line, String where) throws IOException {
            List<String> out = new ArrayList<>();
            StringBuilder cell = new StringBuilder();
            boolean quoted = false;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (quoted) {
                    if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                        cell.append('"');
                        i++;
                    } else if (c == '"') {
                        quoted = false;
                    } else {
                        cell.append(c);
                    }
                } else if (c == '"' && cell.length() == 0) {
                    quoted = true;
                } else if (c == ',') {
                    out.add(cell.toString());
                    cell.setLength(0);
                } else {
                    cell.append(c);
                }
            }
            if (quoted) {
                throw new IOException(where + ": unterminated quoted field");
            }
            out.add(cell.toString());
            return out;
        }
    }
}
