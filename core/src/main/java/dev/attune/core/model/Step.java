package dev.attune.core.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The pass an adapter is called in: its shape, whether it trains, and how its gradients are to be written. One
 * {@code Step} serves the forward and the backward of one training micro-batch, so an adapter may keep what its
 * backward needs from its forward.
 */
public interface Step {

    /** True for a training forward (dropout on; a backward follows); false for scoring and generation. */
    boolean training();

    /** In a backward: add to your gradients instead of overwriting them (gradient accumulation). */
    boolean accumulate();

    /** Rows of the pass. */
    int batchSize();

    /** New positions per row (soft-prompt positions included); the pass has {@code batchSize() * length()} rows. */
    int length();

    /**
     * A dropout mask, 0 or {@code 1/(1-p)} per element, derived only from the step's seed and {@code site}: the
     * same step and site give the same mask, so a resumed run draws exactly the masks the uninterrupted one did.
     * Sites are the adapter's own numbers (its layer and kind, say); they never collide with the model's own.
     */
    INDArray dropoutMask(double p, long site, long... shape);
}
