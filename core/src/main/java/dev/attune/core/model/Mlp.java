package dev.attune.core.model;

import dev.attune.core.config.GptConfig;
import dev.attune.core.engine.HostBuffers;
import dev.attune.core.engine.StepTeam;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The feed-forward block: {@code c_fc}, GELU (tanh approximation, "gelu_new"), {@code c_proj}. ND4J's
 * {@code PreciseGELU} is wrong in M2.1, so GELU is composed from simple ops and checked against its closed form.
 */
final class Mlp {

    private static final double K = Math.sqrt(2.0 / Math.PI);
    private static final double A = 0.044715;

    final Linear cFc;
    final Linear cProj;
    private final double residualDropout;
    private final int width;
    private final int layer;

    /** Activations of one layer's MLP, kept for the backward pass. */
    static final class Acts {
        INDArray h;        // [R, 4C] before GELU
        INDArray g;        // [R, 4C] after GELU
        INDArray out;      // [R, C]
        INDArray outMask;  // residual dropout mask, or null
    }

    /** Scratch for the backward pass, shared by all layers. */
    static final class Grads {
        INDArray dg;  // [R, 4C]
    }

    Mlp(GptConfig config, int layer, Linear cFc, Linear cProj) {
        this.cFc = cFc;
        this.cProj = cProj;
        this.residualDropout = config.residualDropout();
        this.width = config.embeddingSize();
        this.layer = layer;
    }

    /** x [R, C] (already layer-normed) -> a.out [R, C]. */
    void forward(Pass p, INDArray x, Acts a) {
        forward(p, x, a, null, null);
    }

    /**
     * x [R, C] (already layer-normed) -> a.out [R, C], and {@code sum = residual + a.out} where residual is not null:
     * the residual add on each block of c_proj's rows as it is written where no dropout follows the product (same
     * bits as {@link Ops#add} afterwards).
     */
    void forward(Pass p, INDArray x, Acts a, INDArray residual, INDArray sum) {
        boolean host = Ops.hostKernels(a.h.dataType());
        if (host) {
            cFc.forward(x, a.h, p, geluRows(a.h, a.g, false));   // [R, 4C], GELU on each block as it is written
        } else {
            cFc.forward(x, a.h, p);                            // [R, 4C]
            gelu(a.h, a.g);                                    // [R, 4C]
        }
        boolean dropout = p.dropout(residualDropout);
        if (residual != null && host && !dropout && Ops.denseAlike(residual, a.out) && Ops.denseAlike(sum, a.out)) {
            cProj.forward(a.g, a.out, p, Ops.addRows(residual, a.out, sum));  // [R, C]
            return;
        }
        cProj.forward(a.g, a.out, p);                          // [R, C]
        if (dropout) {
            a.outMask = p.mask(residualDropout, Pass.mlpOutSite(layer), p.rows, width);
            a.out.muli(a.outMask);
        }
        if (residual != null) {
            Ops.add(residual, a.out, sum);
        }
    }

    /**
     * dout [R, C] -> parameter gradients and dx [R, C] (input of c_fc, overwritten). {@code x} and {@code gelu} (the
     * projections' inputs) may be null where nothing reads them (see {@link Activations.Keep}).
     */
    void backward(Pass p, INDArray x, INDArray gelu, Acts a, INDArray dout, Grads g, INDArray dx) {
        if (a.outMask != null) {
            dout = dout.mul(a.outMask);
        }
        if (Ops.hostKernels(a.h.dataType())) {
            cProj.backward(gelu, dout, g.dg, p, true, geluRows(a.h, g.dg, true));   // dh [R, 4C]
        } else {
            cProj.backward(gelu, dout, g.dg, p);              // dg [R, 4C]
            geluBackward(a.h, g.dg);                          // now dh, in place
        }
        cFc.backward(x, g.dg, dx, p);
    }

    /** g = 0.5 h (1 + tanh(K (h + A h^3))). */
    static void gelu(INDArray h, INDArray g) {
        if (Ops.hostKernels(h.dataType())) {
            geluHost(h, g, false);
            return;
        }
        g.assign(tanhOfInner(h)).addi(1.0).muli(h).muli(0.5);
    }

    private static INDArray tanhOfInner(INDArray h) {
        return Transforms.tanh(h.mul(h).muli(h).muli(A).addi(h).muli(K), false);
    }

    /**
     * dg -> dh in place: d/dh = 0.5 (1 + t) + 0.5 h (1 - t^2) K (1 + 3A h^2), with t = tanh(K (h + A h^3)) computed
     * again from h: keeping it from the forward pass would cost a [R, 4C] buffer per layer for one cheap pass.
     */
    static void geluBackward(INDArray h, INDArray dg) {
        if (Ops.hostKernels(h.dataType())) {
            geluHost(h, dg, true);
            return;
        }
        INDArray tanh = tanhOfInner(h);
        INDArray sech2 = tanh.mul(tanh).rsubi(1.0);                        // 1 - t^2
        INDArray inner = h.mul(h).muli(3 * A).addi(1.0).muli(K);          // K (1 + 3A h^2)
        INDArray local = sech2.muli(inner).muli(h).addi(tanh).addi(1.0).muli(0.5);
        dg.muli(local);
    }

    /**
     * Both GELU passes in one sweep over host memory, a row at a time through {@link RowKernels} (nine ND4J calls
     * each otherwise). Forward: out = g. Backward: out holds dg and becomes dh.
     */
    private static void geluHost(INDArray h, INDArray out, boolean backward) {
        Ops.split((int) h.rows(), 4, geluRows(h, out, backward));
    }

    /**
     * {@link #geluHost}'s work on a range of rows, for {@link Linear#forward(INDArray, INDArray, Pass,
     * StepTeam.RowRange)} and {@link Linear#backward} to run on each block of the product as it is written.
     */
    static StepTeam.RowRange geluRows(INDArray h, INDArray out, boolean backward) {
        int cols = (int) h.columns();
        FloatBuffer hb = HostBuffers.floats(h);
        FloatBuffer ob = HostBuffers.floats(out);
        return (from, to) -> {
            float[] x = new float[cols];
            float[] o = new float[cols];
            for (int r = from; r < to; r++) {
                hb.get(r * cols, x);
                if (backward) {
                    ob.get(r * cols, o);
                    RowKernels.geluBackward(x, o, cols);
                } else {
                    RowKernels.gelu(x, o, cols);
                }
                ob.put(r * cols, o);
            }
        };
    }
}
