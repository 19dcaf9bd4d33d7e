package dev.attune.core.model;

import java.util.Arrays;

/**
 * A batch of token sequences for training and scoring: {@code batchSize} rows of {@code length} input ids, and for
 * each input the id that should follow it. Targets below zero are ignored by the loss (padding, prompt tokens).
 *
 * <p>Arrays are row-major, {@code [batchSize * length]}. Causal attention needs no padding mask as long as padding
 * is on the right: real tokens never attend to the padding after them.
 */
public record TokenBatch(int batchSize, int length, int[] inputs, int[] targets) {

    /** Target id that the loss skips. */
    public static final int IGNORE = -1;

    public TokenBatch {
        if (batchSize <= 0 || length <= 0) {
            throw new IllegalArgumentException("batch needs at least one row and one position, got "
                    + batchSize + " x " + length);
        }
        long n = (long) batchSize * length;
        if (inputs.length != n || targets.length != n) {
            throw new IllegalArgumentException("batch " + batchSize + " x " + length + " needs " + n
                    + " inputs and targets, got " + inputs.length + " and " + targets.length);
        }
    }

    /** A batch from per-row arrays; every row must have the same length. */
    public static TokenBatch of(int[][] inputs, int[][] targets) {
        if (inputs.length == 0 || inputs.length != targets.length) {
            throw new IllegalArgumentException("need the same, non-zero number of input and target rows, got "
                    + inputs.length + " and " + targets.length);
        }
        int t = inputs[0].length;
        int[] in = new int[inputs.length * t];
        int[] tg = new int[inputs.length * t];
        for (int b = 0; b < inputs.length; b++) {
            if (inputs[b].length != t || targets[b].length != t) {
                throw new IllegalArgumentException("row " + b + " has " + inputs[b].length + " inputs and "
                        + targets[b].length + " targets, expected " + t);
            }
            System.arraycopy(inputs[b], 0, in, b * t, t);
            System.arraycopy(targets[b], 0, tg, b * t, t);
        }
        return new TokenBatch(inputs.length, t, in, tg);
    }

    /** Next-token prediction on whole sequences: inputs are {@code seq[0..n-1)}, targets {@code seq[1..n)}. */
    public static TokenBatch shifted(int[][] sequences) {
        int[][] in = new int[sequences.length][];
        int[][] tg = new int[sequences.length][];
        for (int b = 0; b < sequences.length; b++) {
            if (sequences[b].length < 2) {
                throw new IllegalArgumentException("row " + b + " needs at least 2 tokens to predict one, got "
                        + sequences[b].length);
            }
            in[b] = Arrays.copyOfRange(sequences[b], 0, sequences[b].length - 1);
            tg[b] = Arrays.copyOfRange(sequences[b], 1, sequences[b].length);
        }
        return of(in, tg);
    }

    /** Number of targets the loss counts. */
    public int validTargets() {
        int n = 0;
        for (int t : targets) {
            if (t >= 0) {
                n++;
            }
        }
        return n;
    }

    /** Total positions, {@code batchSize * length}. */
    public int positions() {
        return batchSize * length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TokenBatch other && batchSize == other.batchSize && length == other.length
                && Arrays.equals(inputs, other.inputs) && Arrays.equals(targets, other.targets);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * batchSize + length) + Arrays.hashCode(inputs) * 7 + Arrays.hashCode(targets);
    }

    @Override
    public String toString() {
        return "TokenBatch[" + batchSize + " x " + length + ", " + validTargets() + " targets]";
    }
}
