package dev.attune.core.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The output projection, tied to the token embedding ({@code logits = x wte^T}), and the cross-entropy loss. */
final class LmHead {

    private final GptModel model;
    private final INDArray wte;      // [V, C]

    LmHead(GptModel model) {
        this.model = model;
        this.wte = model.parameter("wte.weight");
    }

    /** x [R, C] -> logits [R, V]. */
    void forward(INDArray x, INDArray logits) {
        Ops.gemm(x, false, wte, true, logits, 1.0, 0.0);
    }

    /** dlogits [R, V] -> dx [R, C] (overwritten) and the wte gradient (overwritten, or added to). */
    void backward(INDArray x, INDArray dlogits, INDArray dx, boolean accumulate) {
        Ops.gemm(dlogits, true, x, false, model.gradient("wte.weight"), 1.0, accumulate ? 1.0 : 0.0);
        Ops.gemm(dlogits, false, wte, false, dx, 1.0, 0.0);
    }

    /**
     * Summed cross-entropy of {@code targets} (entries below zero skipped) under {@code logits} [R, V]. When
     * {@code gradScale} is not NaN, turns logits in place into d(loss * gradScale)/d(logits); otherwise leaves
     * softmax probabilities there.
     */
    static double crossEntropy(INDArray logits, int[] targets, double gradScale) {
        int rows = (int) logits.rows();
        INDArray max = logits.max(1);
        logits.subiColumnVector(max);
        double[] targetLogit = new double[rows];
        for (int r = 0; r < rows; r++) {
            if (targets[r] >= 0) {
                targetLogit[r] = logits.getDouble(r, targets[r]);
            }
        }
        Transforms.exp(logits, false);
        INDArray sums = logits.sum(1);
        logits.diviColumnVector(sums);
        double loss = 0;
        double[] sum = sums.toDoubleVector();
        for (int r = 0; r < rows; r++) {
            if (targets[r] >= 0) {
                loss += Math.log(sum[r]) - targetLogit[r];
            }
        }
        if (!Double.isNaN(gradScale)) {
            double[] rowScale = new double[rows];
            for (int r = 0; r < rows; r++) {
                if (targets[r] >= 0) {
                    logits.putScalar(r, targets[r], logits.getDouble(r, targets[r]) - 1.0);
                    rowScale[r] = gradScale;
                }
            }
            logits.muliColumnVector(Nd4j.createFromArray(rowScale).castTo(logits.dataType()).reshape(rows, 1));
        }
        return loss;
    }
}
