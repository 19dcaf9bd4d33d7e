package dev.attune.core.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Decodes ids that arrive one at a time (streamed generation) and only ever emits whole characters: a character
 * whose UTF-8 bytes are spread over several tokens is held back until its last byte arrives.
 *
 * <pre>{@code
 * StreamingDecoder out = tokenizer.streamingDecoder();
 * for (int id : generatedIds) System.out.print(out.push(id));
 * System.out.print(out.finish());
 * }</pre>
 *
 * The concatenation of everything {@link #push} and {@link #finish} return equals {@link Tokenizer#decode} of all
 * the ids. Not thread-safe: one decoder per stream.
 */
public final class StreamingDecoder {

    private final Tokenizer tokenizer;
    private byte[] pending = new byte[16];
    private int length;

    StreamingDecoder(Tokenizer tokenizer) {
        this.tokenizer = tokenizer;
    }

    /**
     * Adds one id and returns the text that is now complete (often empty mid-character, sometimes several
     * characters at once).
     *
     * @throws IllegalArgumentException for an id outside the vocabulary
     */
    public String push(int id) {
        byte[] bytes = tokenizer.tokenBytes(id);
        if (length + bytes.length > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, length + bytes.length));
        }
        System.arraycopy(bytes, 0, pending, length, bytes.length);
        length += bytes.length;
        int complete = completePrefix(pending, length);
        if (complete == 0) {
            return "";
        }
        String text = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, length - complete);
        length -= complete;
        return text;
    }

    /**
     * Ends the stream: returns whatever is held back, with an incomplete character as U+FFFD, and resets the
     * decoder for reuse.
     */
    public String finish() {
        String text = new String(pending, 0, length, StandardCharsets.UTF_8);
        length = 0;
        return text;
    }

    /** Number of bytes held back waiting for the rest of a character. */
    public int pendingBytes() {
        return length;
    }

    /**
     * Length of the longest prefix of {@code buf[0, n)} that does not end inside a character that could still be
     * completed. Invalid bytes are not held back (they decode to U+FFFD whatever follows).
     */
    static int completePrefix(byte[] buf, int n) {
        // A character is at most 4 bytes, so only a lead byte among the last 3 can start an unfinished one.
        for (int i = n - 1; i >= Math.max(0, n - 3); i--) {
            int b = buf[i] & 0xFF;
            if (b < 0x80) {
                return n; // ASCII: nothing after it can be unfinished
            }
            if (b >= 0xC0) {
                int need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
                if (b >= 0xF5 || b == 0xC0 || b == 0xC1) {
                    return n; // never a valid lead byte
                }
                if (n - i >= need) {
                    return n; // the character at i is complete (or invalid, which waiting does not fix)
                }
                return validSoFar(buf, i, n) ? i : n;
            }
            // continuation byte: keep looking for its lead
        }
        return n;
    }

    /** Whether the bytes after the lead at {@code i} could still be the start of a valid character. */
    private static boolean validSoFar(byte[] buf, int i, int n) {
        int lead = buf[i] & 0xFF;
        for (int k = i + 1; k < n; k++) {
            int b = buf[k] & 0xFF;
            int lo = 0x80;
            int hi = 0xBF;
            if (k == i + 1) { // the second byte's range depends on the lead (no overlongs, surrogates, > U+10FFFF)
                if (lead == 0xE0) {
                    lo = 0xA0;
                } else if (lead == 0xED) {
                    hi = 0x9F;
                } else if (lead == 0xF0) {
                    lo = 0x90;
                } else if (lead == 0xF4) {
                    hi = 0x8F;
                }
            }
            if (b < lo || b > hi) {
                return false;
            }
        }
        return true;
    }
}
