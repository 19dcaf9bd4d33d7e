package dev.attune.finetune.tribuo;

import dev.attune.core.checkpoint.HfCheckpoint;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** The identity of a base checkpoint recorded in provenance. */
final class Checkpoints {

    private Checkpoints() {
    }

    /** SHA-256 over {@code config.json} followed by the weight files in order (one file: its bytes after the config). */
    static String sha256(Path directory) throws IOException {
        List<Path> files = new ArrayList<>();
        files.add(directory.resolve(HfCheckpoint.CONFIG_FILE));
        files.addAll(HfCheckpoint.inspect(directory).weightFiles());
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] buffer = new byte[1 << 16];
        for (Path f : files) {
            try (InputStream in = Files.newInputStream(f)) {
                for (int n; (n = in.read(buffer)) > 0; ) {
                    digest.update(buffer, 0, n);
                }
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
