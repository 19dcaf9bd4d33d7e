package dev.attune.core.tokenizer;

import java.util.Set;

/**
 * How {@link Tokenizer#encodeBatch} pads and truncates. Make one with {@link #builder()}; the defaults pad on the
 * right to the longest text and never truncate.
 *
 * <pre>{@code
 * BatchOptions opts = BatchOptions.builder().maxLength(512).truncation(Side.LEFT).paddingSide(Side.LEFT).build();
 * }</pre>
 *
 * @param maxLength      the most tokens a row keeps (0 = unlimited); longer texts are truncated
 * @param truncationSide which end loses tokens: RIGHT keeps the beginning, LEFT keeps the end
 * @param padding        what length rows are padded to
 * @param paddingSide    where pad tokens go (LEFT for batched generation, RIGHT for training)
 * @param padId          the id used for padding, or -1 for the tokenizer's {@link Tokenizer#padId()}
 * @param allowedSpecial special tokens recognised in the texts (see {@link Tokenizer#encode(String, Set)})
 */
public record BatchOptions(int maxLength, Side truncationSide, Padding padding, Side paddingSide, int padId,
                           Set<String> allowedSpecial) {

    /** An end of a sequence. */
    public enum Side { LEFT, RIGHT }

    /** Target length of padded rows. */
    public enum Padding {
        /** No padding: rows keep their own lengths. */
        NONE,
        /** Pad every row to the longest row in the batch. */
        LONGEST,
        /** Pad every row to {@code maxLength}. */
        MAX_LENGTH
    }

    public BatchOptions {
        if (maxLength < 0) {
            throw new IllegalArgumentException("maxLength must be >= 0 (0 = unlimited), got " + maxLength);
        }
        if (truncationSide == null || padding == null || paddingSide == null || allowedSpecial == null) {
            throw new IllegalArgumentException("truncationSide, padding, paddingSide and allowedSpecial are required");
        }
        if (padding == Padding.MAX_LENGTH && maxLength == 0) {
            throw new IllegalArgumentException("padding to MAX_LENGTH needs maxLength > 0");
        }
        if (padId < -1) {
            throw new IllegalArgumentException("padId must be a token id or -1 (tokenizer default), got " + padId);
        }
        allowedSpecial = Set.copyOf(allowedSpecial);
    }

    /** Right padding to the longest row, no truncation. */
    public static BatchOptions defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder().maxLength(maxLength).truncation(truncationSide).padding(padding).paddingSide(paddingSide)
                .padId(padId).allowedSpecial(allowedSpecial);
    }

    /** Fluent builder for {@link BatchOptions}. */
    public static final class Builder {
        private int maxLength;
        private Side truncationSide = Side.RIGHT;
        private Padding padding = Padding.LONGEST;
        private Side paddingSide = Side.RIGHT;
        private int padId = -1;
        private Set<String> allowedSpecial = Set.of();

        private Builder() {
        }

        /** Truncate rows to at most this many tokens (0 = unlimited). */
        public Builder maxLength(int n) { this.maxLength = n; return this; }
        /** Which end loses tokens when truncating (default RIGHT: keep the beginning). */
        public Builder truncation(Side side) { this.truncationSide = side; return this; }
        /** Target length of padded rows (default LONGEST). */
        public Builder padding(Padding p) { this.padding = p; return this; }
        /** Where pad tokens go (default RIGHT). */
        public Builder paddingSide(Side side) { this.paddingSide = side; return this; }
        /** Pad id (default: the tokenizer's pad id). */
        public Builder padId(int id) { this.padId = id; return this; }
        /** Special tokens recognised in the texts (default none). */
        public Builder allowedSpecial(Set<String> tokens) { this.allowedSpecial = tokens; return this; }

        public BatchOptions build() {
            return new BatchOptions(maxLength, truncationSide, padding, paddingSide, padId, allowedSpecial);
        }
    }
}
