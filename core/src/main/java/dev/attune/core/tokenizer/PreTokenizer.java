package dev.attune.core.tokenizer;

/**
 * GPT-2's pre-tokenization, written out by hand instead of as a regular expression. It splits text exactly where
 * the original encoder's pattern does:
 *
 * <pre>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</pre>
 *
 * with Python {@code regex} semantics: contractions are case-sensitive, {@code \s} is Unicode White_Space (U+0085
 * and U+00A0 count, U+FEFF and U+001C..U+001F do not), and only U+0020 can be the optional leading space.
 * {@code java.util.regex} would need flags to get {@code \s} right and is several times slower; the hand-written
 * scanner also avoids allocating a matcher per call.
 *
 * <p>Letters and numbers are judged by the running JDK's Unicode tables (Unicode 13 in Java 17): characters
 * assigned in later Unicode versions count as neither, where a newer Python {@code regex} would call them letters.
 */
final class PreTokenizer {

    private PreTokenizer() {
    }

    /**
     * Returns the end (exclusive) of the piece that starts at {@code start}, for {@code start < end}. Only the
     * characters in {@code [start, end)} are considered, as if the text ended at {@code end}.
     */
    static int pieceEnd(CharSequence s, int start, int end) {
        char c = s.charAt(start);
        if (c == '\'' && start + 1 < end) {
            char c1 = s.charAt(start + 1);
            if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') {
                return start + 2;
            }
            if (start + 2 < end) {
                char c2 = s.charAt(start + 2);
                if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) {
                    return start + 3;
                }
            }
        }
        int j = c == ' ' ? start + 1 : start;
        if (j < end) {
            int cp = codePointAt(s, j, end);
            int kind = kind(cp);
            if (kind != SPACE) {
                // " ?\p{L}+", " ?\p{N}+" or " ?[^\s\p{L}\p{N}]+": extend over code points of the same kind.
                j += Character.charCount(cp);
                while (j < end) {
                    int next = codePointAt(s, j, end);
                    if (kind(next) != kind) {
                        break;
                    }
                    j += Character.charCount(next);
                }
                return j;
            }
        }
        // Whitespace (all White_Space characters are single UTF-16 units).
        int k = start + 1;
        while (k < end && isWhiteSpace(s.charAt(k))) {
            k++;
        }
        if (k == end) {
            return k; // "\s+(?!\S)" at the end of the text takes the whole run
        }
        // Followed by a non-space: "\s+(?!\S)" backs off one character, leaving it to join the next piece;
        // a single whitespace character is matched by the final "\s+" instead.
        return k - start >= 2 ? k - 1 : k;
    }

    static final int LETTER = 0;
    static final int NUMBER = 1;
    static final int SPACE = 2;
    static final int OTHER = 3;

    static int kind(int cp) {
        if (cp < 0x80) {
            return ASCII_KIND[cp];
        }
        if (isWhiteSpace(cp)) {
            return SPACE;
        }
        switch (Character.getType(cp)) {
            case Character.UPPERCASE_LETTER:
            case Character.LOWERCASE_LETTER:
            case Character.TITLECASE_LETTER:
            case Character.MODIFIER_LETTER:
            case Character.OTHER_LETTER:
                return LETTER;
            case Character.DECIMAL_DIGIT_NUMBER:
            case Character.LETTER_NUMBER:
            case Character.OTHER_NUMBER:
                return NUMBER;
            default:
                return OTHER;
        }
    }

    private static final byte[] ASCII_KIND = new byte[128];

    static {
        for (int c = 0; c < 128; c++) {
            ASCII_KIND[c] = (byte) (Character.isLetter(c) ? LETTER : Character.isDigit(c) ? NUMBER
                    : isWhiteSpace(c) ? SPACE : OTHER);
        }
    }

    /** Unicode White_Space, the set Python's {@code regex} uses for {@code \s}. */
    static boolean isWhiteSpace(int c) {
        if (c <= 0x20) {
            return c == 0x20 || (c >= 0x09 && c <= 0x0D);
        }
        if (c < 0x85) {
            return false;
        }
        return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029
                || c == 0x202F || c == 0x205F || c == 0x3000;
    }

    private static int codePointAt(CharSequence s, int i, int end) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c) && i + 1 < end) {
            char d = s.charAt(i + 1);
            if (Character.isLowSurrogate(d)) {
                return Character.toCodePoint(c, d);
            }
        }
        return c;
    }

    /**
     * Throws if {@code text} holds a lone surrogate, which is not text and has no UTF-8 encoding.
     *
     * @throws IllegalArgumentException naming the index and the code unit
     */
    static void requireWellFormed(CharSequence text) {
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (Character.isSurrogate(c)) {
                if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                    continue;
                }
                throw new IllegalArgumentException(String.format(
                        "text holds a lone surrogate U+%04X at index %d; it is not valid Unicode and cannot be encoded",
                        (int) c, i));
            }
        }
    }
}
