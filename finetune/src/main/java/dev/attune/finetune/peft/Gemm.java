package dev.attune.finetune.peft;

import org.nd4j.linalg.api.blas.params.MMulTranspose;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code c = alpha * op(a) op(b) + beta * c} for the adapters' small matrix products. Mmul, not
 * {@code Nd4j.gemm}: the outputs are often views into the flat gradient buffers, which {@code Nd4j.gemm} rejects.
 */
public final class Gemm {

    private static final MMulTranspose[] TRANSPOSES = {
        MMulTranspose.builder().build(),
        MMulTranspose.builder().transposeB(true).build(),
        MMulTranspose.builder().transposeA(true).build(),
        MMulTranspose.builder().transposeA(true).transposeB(true).build(),
    };

    private Gemm() {
    }

    public static void gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha,
                            double beta) {
        Nd4j.exec(new Mmul(a, b, c, alpha, beta, TRANSPOSES[(transA ? 2 : 0) + (transB ? 1 : 0)]));
    }
}
