package dev.attune.core.tokenizer;

import java.util.Arrays;

/**
 * One encoded text: token ids with the character span each token came from.
 *
 * <p>Token {@code i} covers {@code text.substring(starts[i], ends[i])}. Spans are Java {@code String} indices. A
 * character whose UTF-8 bytes are split over several tokens (an emoji, a rare CJK character) gives each of those
 * tokens the whole character's span, so spans of neighbouring tokens can be equal but never cross.
 *
 * @param ids    token ids
 * @param starts start index (inclusive) of each token's span
 * @param ends   end index (exclusive) of each token's span
 */
public record Encoding(int[] ids, int[] starts, int[] ends) {

    public Encoding {
        if (ids.length != starts.length || ids.length != ends.length) {
            throw new IllegalArgumentException("ids, starts and ends differ in length: " + ids.length + ", "
                    + starts.length + ", " + ends.length);
        }
    }

    /** Number of tokens. */
    public int length() {
        return ids.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Encoding e && Arrays.equals(ids, e.ids) && Arrays.equals(starts, e.starts)
                && Arrays.equals(ends, e.ends);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(ids) + Arrays.hashCode(starts)) + Arrays.hashCode(ends);
    }

    @Override
    public String toString() {
        return "Encoding" + Arrays.toString(ids);
    }
}
