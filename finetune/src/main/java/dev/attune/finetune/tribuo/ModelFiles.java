package dev.attune.finetune.tribuo;

import com.oracle.labs.mlrg.olcut.config.json.JsonProvenanceSerialization;
import com.oracle.labs.mlrg.olcut.provenance.ObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import com.oracle.labs.mlrg.olcut.provenance.io.ProvenanceSerializationException;
import com.oracle.labs.mlrg.olcut.util.Pair;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tribuo.classification.Label;
import org.tribuo.provenance.ModelProvenance;

/**
 * What saved task models share: the descriptor file's common fields, the provenance file, the fine-tuned checkpoint
 * or the base they refer to, the training part of a card.
 */
final class ModelFiles {

    static final String PROVENANCE_FILE = "provenance.json";
    /** The fine-tuned checkpoint of a model trained with {@link TuningMethod#FULL}. */
    static final String MODEL_DIRECTORY = "model";
    /** The adapter of a model trained with {@link TuningMethod#PEFT}, in PEFT's files. */
    static final String ADAPTER_DIRECTORY = "adapter";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The fields every saved task model's descriptor file ({@code classifier.json}, {@code tagger.json}) holds: its
     * format, labels in output order, how it was trained, and the base checkpoint's path and SHA-256.
     */
    record Descriptor(String format, List<String> labels, TuningMethod method, Path base, String baseSha256) {

        /** These fields as a JSON object, to which a model adds its own before {@link #write}. */
        ObjectNode toJson() {
            ObjectNode o = JSON.createObjectNode();
            o.put("format", format);
            o.put("version", 1);
            o.putPOJO("labels", labels);
            o.put("method", method.id());
            o.put("base_model", base.toString());
            o.put("base_sha256", baseSha256);
            return o;
        }

        /** Reads {@code directory/fileName}, a {@code what} (e.g. "classifier") saved in {@code format}. */
        static Descriptor read(Path directory, String fileName, String format, String what) throws IOException {
            return of(readJson(directory, fileName, format, what), directory.resolve(fileName));
        }

        /** The common fields of {@code o}, the JSON of {@code file} ({@link #readJson}). */
        static Descriptor of(JsonNode o, Path file) throws IOException {
            String format = o.path("format").asText();
            List<String> labels = new ArrayList<>();
            o.path("labels").forEach(n -> labels.add(n.asText()));
            try {
                return new Descriptor(format, labels, TuningMethod.parse(o.path("method").asText()),
                        Path.of(o.path("base_model").asText()), o.path("base_sha256").asText());
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": " + e.getMessage(), e);
            }
        }

        /** The fine-tuned checkpoint saved beside the descriptor (full fine-tuning), else the base it refers to. */
        Pretrained loadModel(Path directory, String fileName) throws IOException {
            return method == TuningMethod.FULL ? Pretrained.load(directory.resolve(MODEL_DIRECTORY))
                    : loadBase(base, baseSha256, directory.resolve(fileName));
        }
    }

    /** The whole descriptor file, checked to be there and to be in {@code format}. */
    static JsonNode readJson(Path directory, String fileName, String format, String what) throws IOException {
        Path file = directory.resolve(fileName);
        if (!Files.isRegularFile(file)) {
            throw new IOException(directory + " is not a saved " + what + ": no " + fileName);
        }
        JsonNode o = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
        if (o == null || !format.equals(o.path("format").asText())) {
            throw new IOException(file + ": \"format\" is " + (o == null ? "missing" : o.path("format"))
                    + ", expected \"" + format + "\"");
        }
        return o;
    }

    /**
     * Writes into {@code dir} (a directory being written atomically) what every saved task model has: the descriptor,
     * the provenance, and, for full fine-tuning, the fine-tuned checkpoint with its tokenizer.
     */
    static void writeCommon(Path dir, String fileName, ObjectNode descriptor, ModelProvenance provenance,
            TuningMethod method, GptModel model, Tokenizer tokenizer) throws IOException {
        if (method == TuningMethod.FULL) {
            new Pretrained(model, (BpeTokenizer) tokenizer).save(dir.resolve(MODEL_DIRECTORY));
        }
        Files.writeString(dir.resolve(PROVENANCE_FILE), provenanceJson(provenance));
        Files.writeString(dir.resolve(fileName), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(descriptor)
                + "\n");
    }

    private ModelFiles() {
    }

    /** The provenance in OLCUT's JSON form. */
    static String provenanceJson(ModelProvenance provenance) {
        return new JsonProvenanceSerialization(true).serializeToString(ProvenanceUtil.marshalProvenance(provenance));
    }

    /** Reads {@code directory/provenance.json}. */
    static ModelProvenance readProvenance(Path directory) throws IOException {
        Path file = directory.resolve(PROVENANCE_FILE);
        try {
            ObjectProvenance p = ProvenanceUtil.unmarshalProvenance(new JsonProvenanceSerialization(true)
                    .deserializeFromString(Files.readString(file)));
            return (ModelProvenance) p;
        } catch (ProvenanceSerializationException | ClassCastException e) {
            throw new IOException(file + ": not a model provenance: " + e.getMessage(), e);
        }
    }

    /**
     * Loads the base checkpoint a saved model (described by {@code file}) refers to, refusing one that is missing or
     * whose SHA-256 is no longer {@code sha256}.
     */
    static Pretrained loadBase(Path base, String sha256, Path file) throws IOException {
        if (!Files.isDirectory(base)) {
            throw new IOException(file + " refers to the base checkpoint " + base + ", which is not there");
        }
        String now = Checkpoints.sha256(base);
        if (!now.equals(sha256)) {
            throw new IOException("the base checkpoint " + base + " has changed since training: SHA-256 " + now
                    + ", the model was trained on " + sha256);
        }
        return Pretrained.load(base);
    }

    /** The card's lines on training: when, on what, by which trainer with which settings, in which environment. */
    static void appendTraining(StringBuilder s, ModelProvenance provenance) {
        s.append("trained: ").append(provenance.getTrainingTime()).append('\n');
        s.append("training data: ").append(provenance.getDatasetProvenance().getSourceProvenance()).append('\n');
        s.append("trainer: ").append(provenance.getTrainerProvenance().getClassName()).append('\n');
        for (Iterator<Pair<String, Provenance>> it = provenance.getTrainerProvenance().iterator(); it.hasNext(); ) {
            Pair<String, Provenance> p = it.next();
            s.append("  ").append(p.getA()).append(": ").append(p.getB()).append('\n');
        }
        s.append("environment: java ").append(provenance.getJavaVersion()).append(", tribuo ")
                .append(provenance.getTribuoVersion()).append(", ").append(provenance.getOS()).append('\n');
    }

    /** Tribuo's label-to-id map for labels in their output order (id = position). */
    static Map<Label, Integer> labelIds(List<String> labels) {
        Map<Label, Integer> ids = new LinkedHashMap<>();
        for (int i = 0; i < labels.size(); i++) {
            ids.put(new Label(labels.get(i)), i);
        }
        return ids;
    }
}
