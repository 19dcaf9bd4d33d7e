package dev.attune.core.tokenizer;

import java.util.Random;

/** Random text for property tests: a mix of scripts, emoji, whitespace kinds, digits and punctuation. */
final class TokenizerTestData {

    private TokenizerTestData() {
    }

    private static final int[][] RANGES = {
        {0x20, 0x7E}, {0x20, 0x7E}, {0x00, 0x20}, {0xA0, 0x2FF}, {0x300, 0x36F}, {0x370, 0x52F}, {0x590, 0x6FF},
        {0x900, 0x97F}, {0xE00, 0xE7F}, {0x1100, 0x11FF}, {0x2000, 0x206F}, {0x2100, 0x27BF}, {0x3000, 0x30FF},
        {0x4E00, 0x4EFF}, {0xAC00, 0xACFF}, {0xFF00, 0xFFEF}, {0x1F300, 0x1FAFF}, {0x10000, 0x1007F},
        {0x1D400, 0x1D7FF},
    };
    private static final String SPACES = "  \n\t\r\u00A0\u0085\u3000\u2028'";

    /** {@code n} random code points (never surrogates). */
    static String randomText(Random random, int n) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            if (random.nextInt(4) == 0) {
                sb.append(SPACES.charAt(random.nextInt(SPACES.length())));
                continue;
            }
            int[] r = RANGES[random.nextInt(RANGES.length)];
            int cp = r[0] + random.nextInt(r[1] - r[0] + 1);
            sb.appendCodePoint(Character.isSurrogate((char) cp) && cp < 0x10000 ? 'x' : cp);
        }
        return sb.toString();
    }

    /** Java-escaped form for assertion messages. */
    static String escape(String s) {
        StringBuilder sb = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            sb.append(c >= 0x20 && c < 0x7F ? String.valueOf(c) : String.format("\\u%04X", (int) c));
        }
        return sb.append('"').toString();
    }
}
