package dev.attune.finetune.peft.lora;

import static dev.attune.core.model.Gemm.gemm;

import dev.attune.core.model.ProjectionAdapter;
import dev.attune.core.model.Step;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * LoRA on one projection {@code y = x W + b}: {@code y' = y + scaling * drop(x) A^T B^T (+ db)}, with PEFT's layout
 * {@code A [r, in]}, {@code B [out, r]}. Forward and backward side by side; the base projection is untouched.
 *
 * <pre>
 *   d  = drop(x)                     [R, in]   (dropout on the adapter's input only, as PEFT)
 *   h  = d A^T                       [R, r]
 *   y' = y + scaling * h B^T (+ db)  [R, out]
 * backward, given dy' = dL/dy':
 *   dL/dy = dy'                      (the base output enters y' unchanged)
 *   dB = scaling * dy'^T h           [out, r]
 *   g  = dy' B                       [R, r]
 *   dA = scaling * g^T d             [r, in]
 *   dx += scaling * (g A) * mask     [R, in]
 *   db = sum over rows of dy'        [out]     (bias lora_only or all: a {@link BiasShift})
 * </pre>
 * The backward computes {@code dB^T = h^T dy'} and {@code g^T = B^T dy'^T}, r rows by R or out columns: MKL ran these
 * products 2.4-2.7x faster with the rank as the short output dimension M than as N (512 x 2304 GPT-2 c_attn shapes,
 * r = 8, 2 threads; they read dy' and are a few percent of a LoRA step).
 */
final class LoraLayer implements ProjectionAdapter {

    final INDArray a;          // [r, in]
    final INDArray b;          // [out, r]
    final BiasShift bias;      // the projection's bias as it trains; null unless it does
    private final INDArray gradA;
    private final INDArray gradB;
    private final double scaling;
    private final double dropout;
    private final long site;

    // kept from the training forward for the backward
    private INDArray h;        // [R, r]
    private INDArray dropped;  // [R, in], only with dropout
    private INDArray mask;     // [R, in], only with dropout
    private INDArray gT;       // [r, R] = (dy' B)^T, from backwardOutput for backwardInput
    private INDArray gradBT;   // [r, out] scratch for dB^T

    LoraLayer(INDArray a, INDArray b, BiasShift bias, INDArray gradA, INDArray gradB, double scaling, double dropout,
              long site) {
        this.a = a;
        this.b = b;
        this.bias = bias;
        this.gradA = gradA;
        this.gradB = gradB;
        this.scaling = scaling;
        this.dropout = dropout;
        this.site = site;
    }

    @Override
    public void forwardOutput(INDArray x, INDArray y, Step s) {
        long rows = x.size(0);
        INDArray in = x;
        boolean drop = s.training() && dropout > 0;
        if (drop) {
            mask = s.dropoutMask(dropout, site, rows, x.size(1));
            in = x.mul(mask);
        }
        INDArray hh = s.training() && h != null && h.size(0) == rows ? h : Nd4j.create(x.dataType(), rows, a.size(0));
        gemm(in, false, a, true, hh, 1.0, 0.0);
        gemm(hh, false, b, true, y, scaling, 1.0);
        if (bias != null) {
            bias.forwardOutput(x, y, s);
        }
        if (s.training()) {
            h = hh;
            dropped = drop ? in : null;
            mask = drop ? mask : null;
            gT = null;
        }
    }

    @Override
    public INDArray backwardOutput(INDArray x, INDArray dy, Step s) {
        checkForward();
        double beta = s.accumulate() ? 1.0 : 0.0;
        INDArray in = dropped != null ? dropped : x;
        if (gradBT == null || gradBT.dataType() != dy.dataType()) {
            gradBT = Nd4j.create(dy.dataType(), b.size(1), b.size(0));
        }
        gemm(h, true, dy, false, gradBT, scaling, 0.0);                     // dB^T [r, out]
        if (s.accumulate()) {
            gradB.addi(gradBT.transpose());
        } else {
            gradB.assign(gradBT.transpose());
        }
        gT = transposedG(dy);
        gemm(gT, false, in, false, gradA, scaling, beta);
        if (bias != null) {
            bias.backwardOutput(x, dy, s);
        }
        return dy;
    }

    /** backwardInput only adds the adapter's own path to dx: it never reads the base's input gradient. */
    @Override
    public boolean readsInputGradient() {
        return false;
    }

    @Override
    public void backwardInput(INDArray x, INDArray dy, INDArray dx, Step s) {
        checkForward();
        if (gT == null) {
            gT = transposedG(dy);
        }
        if (mask == null) {
            gemm(gT, true, a, false, dx, scaling, 1.0);
        } else {
            INDArray t = Nd4j.create(dx.dataType(), dx.size(0), dx.size(1));
            gemm(gT, true, a, false, t, scaling, 0.0);
            dx.addi(t.muli(mask));
        }
        gT = null;
    }

    /** {@code g^T = B^T dy^T} [r, R]. */
    private INDArray transposedG(INDArray dy) {
        INDArray t = Nd4j.create(dy.dataType(), b.size(1), dy.size(0));
        gemm(b, true, dy, true, t, 1.0, 0.0);
        return t;
    }

    private void checkForward() {
        if (h == null) {
            throw new IllegalStateException("LoRA backward without a training forward pass");
        }
    }

    /** {@code W [in, out] += scaling * A^T B^T}, {@code bias += db}: the update folded into the base weights. */
    void merge(INDArray weight, INDArray baseBias) {
        gemm(a, true, b, true, weight, scaling, 1.0);
        if (bias != null) {
            bias.merge(baseBias);
        }
    }
}
