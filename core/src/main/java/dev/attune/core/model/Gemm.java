package dev.attune.core.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The model's matrix product, for adapters and heads written outside the core: {@code c = alpha * op(a) op(b) +
 * beta * c} on rank-2 (or batched rank-3) arrays. Any of the three may be a strided view, such as a tensor of a flat
 * gradient buffer. On the CPU backend it goes straight to the BLAS ND4J loaded (no per-call bookkeeping, which
 * dominates small adapter products); elsewhere through ND4J's {@code Mmul}.
 */
public final class Gemm {

    private Gemm() {
    }

    /** {@code c = alpha * op(a) op(b) + beta * c}, where {@code op} transposes when asked. */
    public static void gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha,
                            double beta) {
        Ops.gemm(a, transA, b, transB, c, alpha, beta);
    }
}
