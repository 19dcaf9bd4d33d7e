package dev.attune.core.tokenizer;

import java.util.List;
import java.util.stream.IntStream;

/**
 * A batch of encoded texts, row {@code b} for text {@code b}.
 *
 * <p>With padding, every row has the same length; pad positions hold the pad id, a {@code false} mask entry and
 * the span (0, 0). Spans of real tokens index into the row's original text (see {@link Encoding}).
 *
 * @param ids           token ids per row
 * @param attentionMask true for real tokens, false for padding
 * @param starts        span start of each token in its text
 * @param ends          span end (exclusive) of each token in its text
 * @param lengths       number of real tokens in each row (after truncation)
 * @param truncated     number of tokens each row lost to truncation
 */
public record BatchEncoding(int[][] ids, boolean[][] attentionMask, int[][] starts, int[][] ends, int[] lengths,
                            int[] truncated) {

    /** Number of rows. */
    public int size() {
        return ids.length;
    }

    static BatchEncoding encode(Tokenizer tokenizer, List<String> texts, BatchOptions options) {
        int n = texts.size();
        int padId = options.padId() >= 0 ? options.padId() : tokenizer.padId().orElseThrow(() ->
                new IllegalArgumentException("the tokenizer has no pad or eos token; set BatchOptions.padId"));
        Encoding[] encoded = new Encoding[n];
        IntStream range = IntStream.range(0, n);
        (n >= 64 ? range.parallel() : range).forEach(i ->
                encoded[i] = tokenizer.encodeWithOffsets(texts.get(i), options.allowedSpecial()));
        int[] lengths = new int[n];
        int[] truncated = new int[n];
        int[] keepFrom = new int[n];
        int longest = 0;
        for (int b = 0; b < n; b++) {
            int len = encoded[b].length();
            int keep = options.maxLength() > 0 ? Math.min(len, options.maxLength()) : len;
            lengths[b] = keep;
            truncated[b] = len - keep;
            keepFrom[b] = options.truncationSide() == BatchOptions.Side.LEFT ? len - keep : 0;
            longest = Math.max(longest, keep);
        }
        int[][] ids = new int[n][];
        boolean[][] mask = new boolean[n][];
        int[][] starts = new int[n][];
        int[][] ends = new int[n][];
        for (int b = 0; b < n; b++) {
            int width = switch (options.padding()) {
                case NONE -> lengths[b];
                case LONGEST -> longest;
                case MAX_LENGTH -> options.maxLength();
            };
            int offset = options.paddingSide() == BatchOptions.Side.LEFT ? width - lengths[b] : 0;
            ids[b] = new int[width];
            mask[b] = new boolean[width];
            starts[b] = new int[width];
            ends[b] = new int[width];
            java.util.Arrays.fill(ids[b], padId);
            Encoding e = encoded[b];
            System.arraycopy(e.ids(), keepFrom[b], ids[b], offset, lengths[b]);
            System.arraycopy(e.starts(), keepFrom[b], starts[b], offset, lengths[b]);
            System.arraycopy(e.ends(), keepFrom[b], ends[b], offset, lengths[b]);
            java.util.Arrays.fill(mask[b], offset, offset + lengths[b], true);
        }
        return new BatchEncoding(ids, mask, starts, ends, lengths, truncated);
    }
}
