package dev.attune.finetune.tribuo;

import com.fasterxml.jackson.databind.JsonNode;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import dev.attune.core.io.StrictJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.tribuo.Example;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuo.sequence.MutableSequenceDataset;
import org.tribuo.sequence.SequenceExample;

/**
 * Tagged sentences as Tribuo sequence datasets, in one call: {@code TaggedDatasets.read(Path.of("train.jsonl"))},
 * one {@code {"tokens": [...], "tags": [...]}} object per line.
 *
 * <p>How words travel through Tribuo: a sentence is a {@link SequenceExample}, and each of its words one
 * {@link Example} in order, whose output is the word's tag and whose metadata holds the word itself under
 * {@link #WORD} ({@code example.getMetadataValue("word")}): that is what the language-model tagger reads. The
 * word's features are {@link #wordFeatures}' (the word, its shape, suffix and neighbours), so Tribuo's own sequence
 * trainers (the linear-chain CRF) train on the same dataset as a baseline. The dataset's provenance names the file
 * and its SHA-256.
 */
public final class TaggedDatasets {

    /** The metadata key that holds a word. */
    public static final String WORD = "word";

    private static final LabelFactory LABELS = new LabelFactory();

    private TaggedDatasets() {
    }

    /**
     * Reads JSON Lines with {@code "tokens"} and {@code "tags"} arrays of strings (other keys ignored, blank lines
     * skipped). A missing field, a non-string entry, an empty word, a word with whitespace, no tokens, or a
     * different number of tokens and tags is an error naming the file, line and field.
     */
    public static MutableSequenceDataset<Label> read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "tagged sentence file not found");
        }
        List<SequenceExample<Label>> sentences = new ArrayList<>();
        StrictJson.readLines(file, true, (line, o) -> {
            String where = file + ", line " + line;
            if (!o.isObject()) {
                throw new IOException(where + ": expected a JSON object {\"tokens\": [...], \"tags\": [...]}");
            }
            List<String> tokens = strings(o, "tokens", where);
            List<String> tags = strings(o, "tags", where);
            if (tokens.isEmpty()) {
                throw new IOException(where + ": \"tokens\" is empty: a sentence needs at least one token");
            }
            if (tokens.size() != tags.size()) {
                throw new IOException(where + ": " + tokens.size() + " \"tokens\" but " + tags.size() + " \"tags\"");
            }
            for (int i = 0; i < tokens.size(); i++) {
                if (tokens.get(i).codePoints().anyMatch(Character::isWhitespace)) {
                    throw new IOException(where + ": \"tokens\"[" + i + "] ('" + tokens.get(i) + "') holds whitespace;"
                            + " a token is one word");
                }
            }
            sentences.add(sentence(tokens, tags));
        });
        if (sentences.isEmpty()) {
            throw new IOException(file + ": no sentences (expected one {\"tokens\": [...], \"tags\": [...]} per line)");
        }
        String hash = ProvenanceUtil.hashResource(ProvenanceUtil.HashType.SHA256, file);
        SimpleDataSourceProvenance provenance = new SimpleDataSourceProvenance(
                file.toAbsolutePath() + " (" + sentences.size() + " sentences, sha256 " + hash + ")", LABELS);
        return new MutableSequenceDataset<>(sentences, provenance, LABELS);
    }

    private static List<String> strings(JsonNode o, String key, String where) throws IOException {
        JsonNode array = o.get(key);
        if (array == null) {
            throw new IOException(where + ": missing field \"" + key + "\"");
        }
        if (!array.isArray()) {
            throw new IOException(where + ": \"" + key + "\" must be an array of strings, got "
                    + array.getNodeType().name().toLowerCase(Locale.ROOT));
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            JsonNode v = array.get(i);
            if (!v.isTextual() || v.asText().isEmpty()) {
                throw new IOException(where + ": \"" + key + "\"[" + i + "] must be a non-empty string, got " + v);
            }
            out.add(v.asText());
        }
        return out;
    }

    /** One sentence: each word an example with its tag, the word in metadata and its features. */
    public static SequenceExample<Label> sentence(List<String> words, List<String> tags) {
        if (words.size() != tags.size()) {
            throw new IllegalArgumentException(words.size() + " words but " + tags.size() + " tags");
        }
        List<Example<Label>> examples = new ArrayList<>(words.size());
        for (int i = 0; i < words.size(); i++) {
            examples.add(word(words, i, tags.get(i) == null ? LabelFactory.UNKNOWN_LABEL : new Label(tags.get(i))));
        }
        return new SequenceExample<>(examples);
    }

    /** Sentences to tag, without tags: what {@code SequenceModel.predict} takes. */
    public static List<SequenceExample<Label>> unlabelled(List<List<String>> sentences) {
        List<SequenceExample<Label>> out = new ArrayList<>();
        for (List<String> words : sentences) {
            List<Example<Label>> examples = new ArrayList<>(words.size());
            for (int i = 0; i < words.size(); i++) {
                examples.add(word(words, i, LabelFactory.UNKNOWN_LABEL));
            }
            out.add(new SequenceExample<>(examples));
        }
        return out;
    }

    private static Example<Label> word(List<String> words, int i, Label label) {
        ArrayExample<Label> e = new ArrayExample<>(label);
        for (String f : wordFeatures(words, i)) {
            e.add(f, 1.0);
        }
        e.setMetadataValue(WORD, words.get(i));
        return e;
    }

    /** The words a sentence carries; an example without one is an error that says how words travel. */
    public static List<String> words(SequenceExample<?> sentence) {
        List<String> out = new ArrayList<>(sentence.size());
        int i = 0;
        for (Example<?> e : sentence) {
            i++;
            Optional<Object> w = e.getMetadataValue(WORD);
            if (w.isEmpty() || !(w.get() instanceof String s)) {
                throw new IllegalArgumentException("token " + i + " carries no word: language-model taggers read it "
                        + "from each example's metadata key \"" + WORD + "\" (TaggedDatasets.read, sentence and "
                        + "unlabelled put it there)");
            }
            out.add(s);
        }
        return out;
    }

    /**
     * The classic features of word {@code i} for Tribuo's CRF: the lower-cased word, whether it is capitalised, its
     * last three characters, whether it opens the sentence, and the neighbouring words.
     */
    public static List<String> wordFeatures(List<String> words, int i) {
        String w = words.get(i);
        List<String> f = new ArrayList<>(List.of("w=" + w.toLowerCase(Locale.ROOT),
                "cap=" + (!w.isEmpty() && Character.isUpperCase(w.codePointAt(0))), "suf=" + w.substring(Math.max(0, w.length() - 3)),
                "first=" + (i == 0)));
        f.add("prev=" + (i > 0 ? words.get(i - 1).toLowerCase(Locale.ROOT) : "<s>"));
        f.add("next=" + (i + 1 < words.size() ? words.get(i + 1).toLowerCase(Locale.ROOT) : "</s>"));
        f.add("prevcap=" + (i > 0 && !words.get(i - 1).isEmpty()
                && Character.isUpperCase(words.get(i - 1).codePointAt(0))));
        return f;
    }
}
