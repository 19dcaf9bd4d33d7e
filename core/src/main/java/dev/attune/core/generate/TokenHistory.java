package dev.attune.core.generate;

import java.util.Arrays;

/**
 * The real tokens of one sequence being generated: its prompt followed by what was generated so far. Padding never
 * enters it, which is why penalties give the same result for a row in a batch and for that row alone.
 */
final class TokenHistory {
    private int[] tokens;
    private int length;
    private final int promptLength;

    TokenHistory(int[] prompt) {
        this.tokens = Arrays.copyOf(prompt, Math.max(16, prompt.length * 2));
        this.length = prompt.length;
        this.promptLength = prompt.length;
    }

    private TokenHistory(TokenHistory other) {
        this.tokens = Arrays.copyOf(other.tokens, other.tokens.length);
        this.length = other.length;
        this.promptLength = other.promptLength;
    }

    void append(int token) {
        if (length == tokens.length) {
            tokens = Arrays.copyOf(tokens, tokens.length * 2);
        }
        tokens[length++] = token;
    }

    int length() {
        return length;
    }

    int get(int i) {
        return tokens[i];
    }

    int promptLength() {
        return promptLength;
    }

    /** Number of generated tokens. */
    int generated() {
        return length - promptLength;
    }

    int last() {
        return tokens[length - 1];
    }

    /** The backing array (valid up to {@link #length()}); callers copy what they keep. */
    int[] tokensView() {
        return tokens;
    }

    int[] generatedIds() {
        return Arrays.copyOfRange(tokens, promptLength, length);
    }

    TokenHistory copy() {
        return new TokenHistory(this);
    }
}
