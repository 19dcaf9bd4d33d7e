package dev.attune.core.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * GPT-2's Conv1D: {@code y = x W + b} with {@code W [in, out]} (the transpose of torch's Linear layout), and the slot
 * where a {@link ProjectionAdapter} wraps it. Forward and backward side by side.
 */
final class Linear {

    private final Param weightParam;
    private final Param biasParam;
    final INDArray weight;      // [in, out]; null when compressed
    final INDArray bias;        // [out]
    final CompressedTensor compressed;  // null: float32 weights
    ProjectionAdapter adapter;  // null: the plain projection
    private INDArray adaptedInput;  // what the base read in the last training forward, when the adapter changed it

    Linear(Param weight, Param bias, CompressedTensor compressed) {
        this.weightParam = weight;
        this.biasParam = bias;
        this.weight = weight.value;
        this.bias = bias.value;
        this.compressed = compressed;
    }

    /** x [R, in] -> y [R, out]. */
    void forward(INDArray x, INDArray y, Pass p) {
        INDArray in = adapter == null ? x : adapter.forwardInput(x, p);
        if (compressed != null) {
            compressed.multiply(in, y, bias);                    // bf16 / int8 weights, read as stored
        } else {
            Ops.gemm(in, false, weight, false, y, 1.0, 0.0);
            y.addiRowVector(bias);
        }
        if (adapter != null) {
            adapter.forwardOutput(x, y, p);
            adaptedInput = in == x ? null : in;
        }
    }

    /**
     * dy [R, out] -> dW, db (overwritten, or added to when the pass accumulates; skipped while the base is frozen)
     * and dx [R, in] (overwritten), through the adapter's hooks when one wraps this projection.
     */
    void backward(INDArray x, INDArray dy, INDArray dx, Pass p) {
        if (compressed != null) {
            throw new IllegalStateException("compressed weights are for inference only: train the float32 model");
        }
        INDArray dBase = adapter == null ? dy : adapter.backwardOutput(x, dy, p);
        INDArray in = adapter == null || adaptedInput == null ? x : adaptedInput;
        INDArray weightGrad = weightParam.grad();
        if (weightGrad != null) {
            double beta = p.accumulate() ? 1.0 : 0.0;
            Ops.gemm(in, true, dBase, false, weightGrad, 1.0, beta);
            Ops.sumRows(dBase, biasParam.grad(), p.accumulate());
        }
        Ops.gemm(dBase, false, weight, true, dx, 1.0, 0.0);
        if (adapter != null) {
            adapter.backwardInput(x, dy, dx, p);
        }
    }
}
