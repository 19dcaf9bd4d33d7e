package dev.attune.core.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A module on a stream of hidden states {@code [R, C]}. On one residual branch of one layer, attached with
 * {@link Adapters#insert}, it sees the branch's output ({@code attn(ln_1(x))} or {@code mlp(ln_2(x))}, after dropout)
 * before it is added to the residual stream: a bottleneck adapter (Houlsby, Pfeiffer) computes
 * {@code y + up(act(down(y)))}. On a LayerNorm's output, attached with {@link Adapters#afterNorm} or
 * {@link Adapters#afterFinalNorm}, it adjusts what the next module reads: {@code y + d} trains that LayerNorm's bias
 * by the shift {@code d}. The adapter owns its parameters and gradients.
 */
public interface ResidualAdapter {

    /** Adjusts the branch output {@code y [R, C]} in place. */
    void forward(INDArray y, Step step);

    /**
     * From {@code dy [R, C]}, the loss gradient of the adjusted branch output (an array the adapter may change),
     * returns the gradient of the original branch output, and writes the adapter's parameter gradients.
     */
    INDArray backward(INDArray dy, Step step);
}
