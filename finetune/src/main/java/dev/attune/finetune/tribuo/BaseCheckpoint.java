package dev.attune.finetune.tribuo;

import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import dev.attune.core.checkpoint.Pretrained;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * The base checkpoint a trainer starts from, with the identity its model's provenance records: the absolute path
 * and the SHA-256 of its config and weights ({@link Checkpoints#sha256}).
 */
record BaseCheckpoint(Path path, Pretrained pretrained, String sha256) {

    /** Instance-provenance keys. */
    static final String SHA256_KEY = "base-checkpoint-sha256";
    static final String PATH_KEY = "base-checkpoint-path";

    /** Loads {@code directory}; a failure is unchecked, as Tribuo's {@code train} declares no IOException. */
    static BaseCheckpoint load(String directory) {
        Path base = Path.of(directory).toAbsolutePath().normalize();
        try {
            return new BaseCheckpoint(base, Pretrained.load(base), Checkpoints.sha256(base));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the base checkpoint " + directory + ": " + e.getMessage(), e);
        }
    }

    /** {@code runProvenance} with this checkpoint's path and hash added. */
    Map<String, Provenance> instanceProvenance(Map<String, Provenance> runProvenance) {
        Map<String, Provenance> instance = new HashMap<>(runProvenance);
        instance.put(SHA256_KEY, new StringProvenance(SHA256_KEY, sha256));
        instance.put(PATH_KEY, new StringProvenance(PATH_KEY, path.toString()));
        return instance;
    }
}
