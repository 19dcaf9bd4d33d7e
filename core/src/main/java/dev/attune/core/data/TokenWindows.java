package dev.attune.core.data;

import dev.attune.core.model.TokenBatch;
import java.util.ArrayList;
import java.util.List;

/**
 * Language-model training data from one long token stream (a {@link TokenFile} or an array), as in nanoGPT: each row
 * is a window of {@code T + 1} consecutive tokens at a random offset, inputs its first {@code T}, targets its last
 * {@code T}. Documents are separated by end-of-sequence tokens in the stream, so windows may span two documents,
 * which is how GPT-2 was trained.
 *
 * <p>Offsets are drawn uniformly from a hash of (seed, micro-batch index, row): seeded, and resumable without
 * state. Evaluation uses consecutive non-overlapping windows from the start, the same every time.
 *
 * <p>A stream shorter than {@code T + 1} tokens gives shorter windows (all of it). Immutable and thread-safe.
 */
public final class TokenWindows implements TrainingData {

    /** Reads tokens from the backing store. */
    private interface Source {
        void read(long from, int[] destination, int offset, int length);
    }

    private final Source source;
    private final long from;
    private final long to;
    private final String name;

    private TokenWindows(Source source, long from, long to, String name) {
        if (to - from < 2) {
            throw new IllegalArgumentException(name + " has " + (to - from)
                    + " tokens; language-model data needs at least 2 (one input and its target)");
        }
        this.source = source;
        this.from = from;
        this.to = to;
        this.name = name;
    }

    /** Windows over a whole token file. */
    public static TokenWindows of(TokenFile file) {
        return new TokenWindows(file::read, 0, file.size(), "from " + file.path().getFileName());
    }

    /** Windows over tokens in memory (the array is copied). */
    public static TokenWindows of(int[] tokens) {
        int[] copy = tokens.clone();
        return new TokenWindows((at, dst, off, len) -> System.arraycopy(copy, (int) at, dst, off, len), 0,
                copy.length, "held in memory");
    }

    /** A training part and a validation part of one stream. */
    public record Split(TokenWindows train, TokenWindows validation) {
    }

    /**
     * Splits the stream in two at a token position, as nanoGPT does: the first {@code 1 - validationFraction}
     * for training, the rest for validation.
     */
    public Split split(double validationFraction) {
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in (0, 1), got " + validationFraction);
        }
        long cut = from + Math.round((to - from) * (1 - validationFraction));
        return new Split(new TokenWindows(source, from, cut, name + " (training part)"),
                new TokenWindows(source, cut, to, name + " (validation part)"));
    }

    /** Number of tokens in this stream. */
    public long size() {
        return to - from;
    }

    private int windowLength(int maxLength) {
        if (maxLength < 1) {
            throw new IllegalArgumentException("window length must be positive, got " + maxLength);
        }
        return (int) Math.min(maxLength, size() - 1);
    }

    @Override
    public TokenBatch batch(long index, int batchSize, int maxLength, long seed) {
        int t = windowLength(maxLength);
        long starts = size() - t; // offsets 0 .. size - t - 1 leave room for the last target
        int[] inputs = new int[batchSize * t];
        int[] targets = new int[batchSize * t];
        int[] window = new int[t + 1];
        for (int r = 0; r < batchSize; r++) {
            long offset = from + Seeds.below(Seeds.of(seed, index, r), starts);
            source.read(offset, window, 0, t + 1);
            System.arraycopy(window, 0, inputs, r * t, t);
            System.arraycopy(window, 1, targets, r * t, t);
        }
        return new TokenBatch(batchSize, t, inputs, targets);
    }

    @Override
    public List<TokenBatch> evaluationBatches(int batchSize, int maxLength, int maxBatches) {
        int t = windowLength(maxLength);
        long windows = (size() - 1) / t;
        if (maxBatches > 0) {
            windows = Math.min(windows, (long) maxBatches * batchSize);
        }
        List<TokenBatch> out = new ArrayList<>();
        int[] window = new int[t + 1];
        for (long w = 0; w < windows; w += batchSize) {
            int rows = (int) Math.min(batchSize, windows - w);
            int[] inputs = new int[rows * t];
            int[] targets = new int[rows * t];
            for (int r = 0; r < rows; r++) {
                source.read(from + (w + r) * t, window, 0, t + 1);
                System.arraycopy(window, 0, inputs, r * t, t);
                System.arraycopy(window, 1, targets, r * t, t);
            }
            out.add(new TokenBatch(rows, t, inputs, targets));
        }
        return out;
    }

    @Override
    public String description() {
        return String.format("%,d tokens %s", size(), name); // "2,852 tokens held in memory (training part)"
    }

    @Override
    public String toString() {
        return "TokenWindows[" + description() + "]";
    }
}
