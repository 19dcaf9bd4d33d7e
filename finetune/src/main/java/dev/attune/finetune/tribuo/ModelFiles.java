package dev.attune.finetune.tribuo;

import com.oracle.labs.mlrg.olcut.config.json.JsonProvenanceSerialization;
import com.oracle.labs.mlrg.olcut.provenance.ObjectProvenance;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.ProvenanceUtil;
import com.oracle.labs.mlrg.olcut.provenance.io.ProvenanceSerializationException;
import com.oracle.labs.mlrg.olcut.util.Pair;
import dev.attune.core.checkpoint.Pretrained;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tribuo.classification.Label;
import org.tribuo.provenance.ModelProvenance;

/** What saved task models share: their provenance file, the base they refer to, the training part of a card. */
final class ModelFiles {

    static final String PROVENANCE_FILE = "provenance.json";

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
