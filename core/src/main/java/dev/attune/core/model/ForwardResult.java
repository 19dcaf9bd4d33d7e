package dev.attune.core.model;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What one {@link GptModel#forward(TokenBatch, Output...)} call computed: only the outputs that were asked for are
 * present; reading another throws. Arrays are fresh and belong to the caller.
 */
public final class ForwardResult {

    private final INDArray logits;
    private final INDArray hidden;
    private final double[] targetLogProbs;
    private final int[] targetCounts;
    private final boolean[] greedy;

    ForwardResult(INDArray logits, INDArray hidden, double[] targetLogProbs, int[] targetCounts, boolean[] greedy) {
        this.logits = logits;
        this.hidden = hidden;
        this.targetLogProbs = targetLogProbs;
        this.targetCounts = targetCounts;
        this.greedy = greedy;
    }

    /** Next-token logits, [B, T, V] ({@link Output#LOGITS}). */
    public INDArray logits() {
        return require(logits, Output.LOGITS);
    }

    /** Final hidden states after {@code ln_f}, [B, T, C] ({@link Output#HIDDEN}). */
    public INDArray hidden() {
        return require(hidden, Output.HIDDEN);
    }

    /** Per row, the sum of {@code log p(target | prefix)} over its counted targets ({@link Output#TARGET_LOGPROBS}). */
    public double[] targetLogProbs() {
        return require(targetLogProbs, Output.TARGET_LOGPROBS).clone();
    }

    /** Per row, the number of counted targets (targets {@code >= 0}). */
    public int[] targetCounts() {
        return require(targetCounts, Output.TARGET_LOGPROBS).clone();
    }

    /**
     * Per row, whether every counted target is its position's most likely token (the continuation is what greedy
     * decoding would produce; ties count as greedy). True for rows without targets.
     */
    public boolean[] greedy() {
        return require(greedy, Output.TARGET_LOGPROBS).clone();
    }

    private static <T> T require(T value, Output output) {
        if (value == null) {
            throw new IllegalStateException(output + " was not asked for in this forward call");
        }
        return value;
    }

    @Override
    public String toString() {
        return "ForwardResult[" + (logits != null ? "logits " + Arrays.toString(logits.shape()) + " " : "")
                + (hidden != null ? "hidden " + Arrays.toString(hidden.shape()) + " " : "")
                + (targetLogProbs != null ? "target log-probs of " + targetLogProbs.length + " rows" : "") + "]";
    }
}
