package dev.attune.core.io;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Reads JSON and JSON Lines input so that nothing is read wrongly without a word: a key given twice, text after the
 * value, or bytes that are not UTF-8 are errors naming the file, the line and (where it helps) the column, instead
 * of keeping the last key, ignoring the rest of the line, or failing "somewhere after line 0". A byte-order mark at
 * the start of a file (or, in JSON Lines, of a line: files joined with {@code cat}) is skipped.
 */
public final class StrictJson {

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build();
    private static final String BOM = "\uFEFF";

    private StrictJson() {
    }

    /** Receives one JSON Lines value with its 1-based line number. */
    @FunctionalInterface
    public interface LineHandler {
        void accept(int line, JsonNode value) throws IOException;
    }

    /** A mapper that refuses duplicate keys (for callers that parse text themselves). */
    public static ObjectMapper mapper() {
        return MAPPER;
    }

    /**
     * Reads a whole JSON file.
     *
     * @throws IOException naming the file, line and column of malformed JSON, a duplicate key or trailing text
     */
    public static JsonNode readFile(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "file not found");
        }
        String text = decode(file, Files.readAllBytes(file), 0);
        return parse(text.startsWith(BOM) ? text.substring(1) : text, file + "");
    }

    /**
     * Parses one JSON value from {@code text}; {@code where} (a file name, "FILE, line N") starts every message.
     *
     * @throws IOException when the text is not exactly one JSON value, or holds a key twice
     */
    public static JsonNode parse(String text, String where) throws IOException {
        try (JsonParser p = MAPPER.createParser(text)) {
            JsonNode node = MAPPER.readTree(p);
            if (node == null) {
                throw new IOException(where + ": no JSON value");
            }
            if (p.nextToken() != null) {
                throw new IOException(where + at(p.currentLocation(), where) + ": text after the JSON value (expected one "
                        + "value" + (where.contains(", line ") ? " per line" : "") + ")");
            }
            return node;
        } catch (JsonProcessingException e) {
            String message = e.getOriginalMessage();
            if (message != null && message.startsWith("Duplicate field '")) {
                message = "the key \"" + message.substring(17, message.lastIndexOf('\'')) + "\" appears twice";
            } else {
                int noise = message == null ? -1 : message.indexOf(" (start marker at [Source");
                message = "not valid JSON: " + (noise > 0 ? message.substring(0, noise) : message);
            }
            throw new IOException(where + at(e.getLocation(), where) + ": " + message, e);
        }
    }

    /**
     * Reads JSON Lines: one JSON value a line, each handed to {@code handler} with its line number.
     *
     * @param skipBlankLines whether blank lines are skipped (else they are an error: callers whose output lines
     *                       answer input lines must not lose one)
     * @throws IOException naming the file and line of anything malformed, and the byte of invalid UTF-8
     */
    public static void readLines(Path file, boolean skipBlankLines, LineHandler handler) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "file not found");
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int lineNumber = 0;
            boolean more = true;
            while (more) {
                line.reset();
                int b;
                while ((b = in.read()) >= 0 && b != '\n') {
                    line.write(b);
                }
                more = b >= 0;
                if (!more && line.size() == 0) {
                    break; // the newline that ends the last line
                }
                lineNumber++;
                byte[] bytes = line.toByteArray();
                int length = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                String where = file + ", line " + lineNumber;
                String text = decode(where, ByteBuffer.wrap(bytes, 0, length));
                if (text.startsWith(BOM)) { // a file's start, or a file joined on with cat
                    text = text.substring(1);
                }
                if (text.isBlank()) {
                    if (skipBlankLines) {
                        continue;
                    }
                    throw new IOException(where + ": blank line (expected one JSON value a line)");
                }
                handler.accept(lineNumber, parse(text, where));
            }
        }
    }

    /** ", column C" after "FILE, line N"; ", line L, column C" after a file name. */
    private static String at(JsonLocation location, String where) {
        if (location == null || location.getColumnNr() < 1) {
            return "";
        }
        return (where.contains(", line ") ? "" : ", line " + location.getLineNr()) + ", column "
                + location.getColumnNr();
    }

    /** UTF-8 of a whole file, naming the line and byte of the first invalid sequence. */
    static String decode(Path file, byte[] bytes, int from) throws IOException {
        try {
            return newDecoder().decode(ByteBuffer.wrap(bytes, from, bytes.length - from)).toString();
        } catch (CharacterCodingException e) {
            int bad = firstInvalid(bytes, from);
            int line = 1;
            for (int i = from; i < bad; i++) {
                if (bytes[i] == '\n') {
                    line++;
                }
            }
            throw new IOException(file + ", line " + line + ": not valid UTF-8 (byte " + bad + String.format(
                    " of the file is 0x%02X)", bytes[bad] & 0xFF), e);
        }
    }

    private static String decode(String where, ByteBuffer bytes) throws IOException {
        int start = bytes.position();
        try {
            return newDecoder().decode(bytes.duplicate()).toString();
        } catch (CharacterCodingException e) {
            byte[] b = new byte[bytes.remaining()];
            bytes.duplicate().get(b);
            int bad = firstInvalid(b, 0);
            throw new IOException(where + ", byte " + (bad + 1) + ": not valid UTF-8" + String.format(" (0x%02X)",
                    b[bad] & 0xFF), e);
        }
    }

    /** Index of the first byte where UTF-8 decoding fails. */
    static int firstInvalid(byte[] bytes, int from) {
        CharsetDecoder decoder = newDecoder();
        ByteBuffer in = ByteBuffer.wrap(bytes, from, bytes.length - from);
        java.nio.CharBuffer out = java.nio.CharBuffer.allocate(Math.max(16, bytes.length - from));
        java.nio.charset.CoderResult r = decoder.decode(in, out, true);
        return r.isError() ? in.position() : bytes.length - 1;
    }

    private static CharsetDecoder newDecoder() {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
    }
}
