package dev.attune.core.tokenizer;

/**
 * GPT-2's reversible byte-to-character table. Byte-level BPE vocabularies ({@code vocab.json}, {@code merges.txt})
 * spell tokens with one printable character per byte: bytes 33-126, 161-172 and 174-255 stand for themselves, the
 * other 68 bytes map in ascending order to U+0100, U+0101, ... (space is {@code Ġ} U+0120, newline {@code Ċ}).
 */
final class ByteLevel {

    /** BYTE_TO_CHAR[b] is the character that spells byte b. */
    private static final char[] BYTE_TO_CHAR = new char[256];
    /** CHAR_TO_BYTE[c] is the byte spelled by character c (c < 0x144), or -1. */
    private static final int[] CHAR_TO_BYTE = new int[0x144];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
            char c = printable ? (char) b : (char) (256 + next++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevel() {
    }

    /** The character that spells byte {@code b} (0..255). */
    static char charOf(int b) {
        return BYTE_TO_CHAR[b & 0xFF];
    }

    /** Spells raw bytes as a byte-level token string. */
    static String encode(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = BYTE_TO_CHAR[bytes[i] & 0xFF];
        }
        return new String(out);
    }

    /**
     * The bytes a byte-level token string stands for, or {@code null} when the string holds a character outside the
     * byte alphabet (such entries are not byte-level tokens; the vocabulary takes the string's UTF-8 instead).
     */
    static byte[] decodeOrNull(String token) {
        byte[] out = new byte[token.length()];
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
            if (b < 0) {
                return null;
            }
            out[i] = (byte) b;
        }
        return out;
    }
}
