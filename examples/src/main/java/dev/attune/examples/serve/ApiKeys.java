package dev.attune.examples.serve;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The API keys a server accepts, stored only as SHA-256 hashes. The file has one key a line,
 * {@code sha256:<64 hex digits> [label]} (what {@link #hashLine(String)} prints); blank lines and lines starting
 * with {@code #} are ignored. The label (default {@code key-<line>}) names the key in the access log; the key itself
 * is never logged.
 */
public final class ApiKeys {
    private static final String PREFIX = "sha256:";

    private record Entry(byte[] hash, String label) {
    }

    private final List<Entry> entries;

    private ApiKeys(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /** The line to add to a keys file for {@code key}. */
    public static String hashLine(String key) {
        if (key == null || key.isBlank()) {
            throw new IllegalArgumentException("the API key is empty");
        }
        return PREFIX + HexFormat.of().formatHex(sha256(key));
    }

    /** Reads a keys file; every malformed line is reported with its number. */
    public static ApiKeys load(Path file) throws IOException {
        try {
            return parse(Files.readAllLines(file, StandardCharsets.UTF_8), "API keys file " + file);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
    }

    /** Keys given as hash lines ({@code sha256:<hex> [label]}), for embedding applications and tests. */
    public static ApiKeys ofHashLines(List<String> lines) {
        return parse(lines, "API keys");
    }

    private static ApiKeys parse(List<String> lines, String source) {
        List<Entry> entries = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] parts = line.split("\\s+", 2);
            String hex = parts[0].startsWith(PREFIX) ? parts[0].substring(PREFIX.length()) : null;
            if (hex == null || !hex.matches("[0-9a-fA-F]{64}")) {
                problems.add("line " + (i + 1) + ": expected 'sha256:<64 hex digits> [label]' (from attune serve"
                        + " --hash-key KEY), got '" + (parts[0].length() > 12 ? parts[0].substring(0, 12) + "..."
                        : parts[0]) + "'");
                continue;
            }
            entries.add(new Entry(HexFormat.of().parseHex(hex.toLowerCase(java.util.Locale.ROOT)),
                    parts.length > 1 ? parts[1].strip() : "key-" + (i + 1)));
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(source + ": " + String.join("; ", problems));
        }
        if (entries.isEmpty()) {
            throw new IllegalArgumentException(source + " holds no keys; add lines printed by attune serve"
                    + " --hash-key KEY");
        }
        return new ApiKeys(entries);
    }

    public int size() {
        return entries.size();
    }

    /**
     * The label of the key, when {@code presented} is one of them. Every stored hash is compared, each in constant
     * time, so the time taken does not tell which key, or how much of one, matched.
     */
    public Optional<String> verify(String presented) {
        byte[] hash = sha256(presented == null ? "" : presented);
        String match = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(e.hash(), hash) & match == null) {
                match = e.label();
            }
        }
        return Optional.ofNullable(match);
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM lacks SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return "ApiKeys[" + entries.size() + " keys]";
    }
}
