package dev.attune.finetune.peft.adalora;

import static dev.attune.core.model.Gemm.gemm;

import dev.attune.core.model.ProjectionAdapter;
import dev.attune.core.model.Step;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * AdaLoRA on one projection: LoRA in SVD form, {@code y' = y + c * drop(x) (A * e)^T B^T} with
 * {@code e = E * keep} (pruned triplets contribute nothing) and {@code c = alpha / init_r}, PEFT's layout
 * {@code A [r, in]}, {@code E [r, 1]}, {@code B [out, r]}.
 *
 * <pre>
 *   ae = A * e (rows)       [r, in]
 *   h  = d ae^T             [R, r]       d = drop(x)
 *   y' = y + c h B^T
 * backward:
 *   dB  = c dy'^T h          g = dy' B [R, r]
 *   dae = c g^T d            dA = dae * e (rows)     dE = keep * rowsum(dae * A)
 *   dx += c (g ae) * mask
 * </pre>
 */
final class AdaLoraLayer implements ProjectionAdapter {

    final INDArray a;      // [r, in]
    final INDArray e;      // [r, 1]
    final INDArray b;      // [out, r]
    final INDArray gradA;
    final INDArray gradE;
    final INDArray gradB;
    final INDArray keep;   // [r, 1], 1 = kept, 0 = pruned
    private final double scaling;
    private final double dropout;
    private final long site;

    private INDArray ae;
    private INDArray h;
    private INDArray dropped;
    private INDArray mask;
    private INDArray g;

    AdaLoraLayer(INDArray a, INDArray e, INDArray b, INDArray gradA, INDArray gradE, INDArray gradB, double scaling,
                 double dropout, long site) {
        this.a = a;
        this.e = e;
        this.b = b;
        this.gradA = gradA;
        this.gradE = gradE;
        this.gradB = gradB;
        this.keep = Nd4j.ones(a.dataType(), a.size(0), 1);
        this.scaling = scaling;
        this.dropout = dropout;
        this.site = site;
    }

    /** {@code A * (E * keep)}, [r, in]. */
    INDArray effective() {
        return a.mulColumnVector(e.mul(keep));
    }

    @Override
    public void forwardOutput(INDArray x, INDArray y, Step s) {
        INDArray in = x;
        boolean drop = s.training() && dropout > 0;
        INDArray m = null;
        if (drop) {
            m = s.dropoutMask(dropout, site, x.size(0), x.size(1));
            in = x.mul(m);
        }
        INDArray eff = effective();
        INDArray hh = Nd4j.create(x.dataType(), x.size(0), a.size(0));
        gemm(in, false, eff, true, hh, 1.0, 0.0);
        gemm(hh, false, b, true, y, scaling, 1.0);
        if (s.training()) {
            ae = eff;
            h = hh;
            dropped = drop ? in : null;
            mask = m;
            g = null;
        }
    }

    @Override
    public INDArray backwardOutput(INDArray x, INDArray dy, Step s) {
        if (h == null) {
            throw new IllegalStateException("AdaLoRA backward without a training forward pass");
        }
        double beta = s.accumulate() ? 1.0 : 0.0;
        INDArray in = dropped != null ? dropped : x;
        gemm(dy, true, h, false, gradB, scaling, beta);
        g = Nd4j.create(dy.dataType(), dy.size(0), b.size(1));
        gemm(dy, false, b, false, g, 1.0, 0.0);
        INDArray dae = Nd4j.create(dy.dataType(), a.size(0), a.size(1));
        gemm(g, true, in, false, dae, scaling, 0.0);
        INDArray da = dae.mulColumnVector(e.mul(keep));
        INDArray de = dae.mul(a).sum(true, 1).muli(keep);
        if (s.accumulate()) {
            gradA.addi(da);
            gradE.addi(de);
        } else {
            gradA.assign(da);
            gradE.assign(de);
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
        if (g == null) {
            g = Nd4j.create(dy.dataType(), dy.size(0), b.size(1));
            gemm(dy, false, b, false, g, 1.0, 0.0);
        }
        if (mask == null) {
            gemm(g, false, ae, false, dx, scaling, 1.0);
        } else {
            INDArray t = Nd4j.create(dx.dataType(), dx.size(0), dx.size(1));
            gemm(g, false, ae, false, t, scaling, 0.0);
            dx.addi(t.muli(mask));
        }
        g = null;
    }

    /** {@code W [in, out] += c * (A * e)^T B^T}. */
    void merge(INDArray weight) {
        gemm(effective(), true, b, true, weight, scaling, 1.0);
    }

    /** Number of kept triplets. */
    int rank() {
        return keep.sumNumber().intValue();
    }
}
