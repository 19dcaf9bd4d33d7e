package dev.attune.core.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * GPT-2's Conv1D: {@code y = x W + b} with {@code W [in, out]} (the transpose of torch's Linear layout).
 * Forward and backward side by side.
 */
final class Linear {

    private final GptModel model;
    private final String prefix;
    final INDArray weight;      // [in, out]
    final INDArray bias;        // [out]

    Linear(GptModel model, String prefix) {
        this.model = model;
        this.prefix = prefix;
        this.weight = model.parameter(prefix + ".weight");
        this.bias = model.parameter(prefix + ".bias");
    }

    /** x [R, in] -> y [R, out]. */
    void forward(INDArray x, INDArray y) {
        Ops.gemm(x, false, weight, false, y, 1.0, 0.0);
        y.addiRowVector(bias);
    }

    /**
     * dy [R, out] -> dW, db (overwritten, or added to when {@code accumulate}) and dx [R, in] (overwritten, or
     * added to when {@code addToDx}, for the residual stream).
     */
    void backward(INDArray x, INDArray dy, INDArray dx, boolean accumulate, boolean addToDx) {
        Ops.gemm(x, true, dy, false, model.gradient(prefix + ".weight"), 1.0, accumulate ? 1.0 : 0.0);
        Ops.sumRows(dy, model.gradient(prefix + ".bias"), accumulate);
        if (dx != null) {
            Ops.gemm(dy, false, weight, true, dx, 1.0, addToDx ? 1.0 : 0.0);
        }
    }
}
