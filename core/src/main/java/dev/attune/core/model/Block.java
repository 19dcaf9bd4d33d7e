package dev.attune.core.model;

import dev.attune.core.engine.HostBuffers;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One transformer layer, nanoGPT's {@code Block}: {@code x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))}, with slots for a
 * {@link ResidualAdapter} on each residual branch's output and on each LayerNorm's output.
 */
final class Block {

    final LayerNorm ln1;
    final Attention attention;
    final LayerNorm ln2;
    final Mlp mlp;
    ResidualAdapter afterAttention;  // null: none
    ResidualAdapter afterMlp;        // null: none
    ResidualAdapter afterLn1;        // on ln_1's output, what attention reads; null: none
    ResidualAdapter afterLn2;        // on ln_2's output, what the MLP reads; null: none

    /** Set by tests (and speed comparisons) to decode through the general path instead of {@link #forwardOneToken}. */
    static volatile boolean forceGeneralPath = false;

    /** The one-token step's attention uses the Vector API, which a JVM has only when started with its module. */
    static final boolean VECTOR_API = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();

    /** Activations of one layer, kept for the backward pass. */
    static final class Acts {
        Activations.Keep keep;  // which projection inputs the backward pass may read
        INDArray ln1Out;   // [R, C]
        INDArray ln1Mean;  // [R]
        INDArray ln1Rstd;  // [R]
        Attention.Acts attn;
        INDArray mid;      // [R, C] x + attn(ln_1(x))
        INDArray ln2Out;   // [R, C]
        INDArray ln2Mean;  // [R]
        INDArray ln2Rstd;  // [R]
        Mlp.Acts mlp;
    }

    Block(LayerNorm ln1, Attention attention, LayerNorm ln2, Mlp mlp) {
        this.ln1 = ln1;
        this.attention = attention;
        this.ln2 = ln2;
        this.mlp = mlp;
    }

    Linear projection(Projection p) {
        return switch (p) {
            case C_ATTN -> attention.cAttn;
            case ATTN_C_PROJ -> attention.cProj;
            case C_FC -> mlp.cFc;
            case MLP_C_PROJ -> mlp.cProj;
        };
    }

    /** x [R, C] -> out [R, C] (may be x itself: inference updates the residual stream in place). */
    void forward(Pass p, INDArray x, Acts a, KvCache.Layer kv, INDArray out) {
        if (oneTokenStep(p)) {
            forwardOneToken(p, x, kv, out);
            return;
        }
        ln1.forward(x, a.ln1Out, a.ln1Mean, a.ln1Rstd);
        if (afterLn1 != null) {
            afterLn1.forward(a.ln1Out, p);
        }
        if (afterAttention == null && !Ops.separatePasses && Ops.hostKernels(p.dataType)
                && Ops.denseAlike(x, a.attn.out) && Ops.denseAlike(a.mid, x) && Ops.denseAlike(a.ln2Out, x)) {
            // mid = x + attn(ln_1(x)) and ln_2(mid), on each block of c_proj's rows as it is written
            attention.forward(p, a.ln1Out, a.attn, kv,
                    ln2.sumRows(x, a.attn.out, a.mid, a.ln2Out, a.ln2Mean, a.ln2Rstd));
        } else {
            attention.forward(p, a.ln1Out, a.attn, kv);
            if (afterAttention != null) {
                afterAttention.forward(a.attn.out, p);
            }
            ln2.forwardSum(x, a.attn.out, a.mid, a.ln2Out, a.ln2Mean, a.ln2Rstd);  // mid = x + attn(ln_1(x))
        }
        if (afterLn2 != null) {
            afterLn2.forward(a.ln2Out, p);
        }
        if (afterMlp == null) {
            mlp.forward(p, a.ln2Out, a.mlp, a.mid, out);            // out = mid + mlp(ln_2(mid))
        } else {
            mlp.forward(p, a.ln2Out, a.mlp);
            afterMlp.forward(a.mlp.out, p);
            Ops.add(a.mid, a.mlp.out, out);
        }
    }

    /**
     * Whether pass {@code p} takes {@link #forwardOneToken}: decoding one new position per row for a few rows (the
     * packed kernels' batch), float32 on the CPU, the Vector API present, and nothing in this layer that works on
     * INDArrays (adapters).
     */
    boolean oneTokenStep(Pass p) {
        return VECTOR_API && !forceGeneralPath && !p.training && p.n == 1 && p.batch <= CompressedTensor.PACKED_ROWS && Ops.hostKernels(p.dataType)
                && afterAttention == null && afterMlp == null && afterLn1 == null && afterLn2 == null
                && attention.cAttn.hostRows()
                && attention.cProj.hostRows() && mlp.cFc.hostRows() && mlp.cProj.hostRows();
    }

    /**
     * The layer for one new position per row, start to end over Java arrays: a decoding step reads every weight once
     * and does little else, so the ~20 ND4J calls of the general path (each with microseconds of fixed cost, plus
     * views and temporaries) were a large part of it. Same arithmetic as {@link #forward}'s host kernels; the residual
     * stream is read at the start and written at the end, and {@code kv} gets this position's keys and values.
     */
    void forwardOneToken(Pass p, INDArray x, KvCache.Layer kv, INDArray out) {
        int rows = p.batch;
        int c = (int) x.columns();
        OneTokenBuffers s = ONE_TOKEN.get().fit(rows, c, mlp.cFc.outputs());
        HostBuffers.window(x, 0, rows * c).get(0, s.x, 0, rows * c);
        ln1.forwardRows(s.x, s.ln, rows, c);
        attention.cAttn.forwardRows(s.ln, rows, s.qkv, false);
        attention.attendOneToken(p, s.qkv, s.y, kv);
        attention.cProj.forwardRows(s.y, rows, s.branch, false);
        for (int i = 0; i < rows * c; i++) {
            s.x[i] += s.branch[i];                                      // mid = x + attn(ln_1(x))
        }
        ln2.forwardRows(s.x, s.ln, rows, c);
        mlp.cFc.forwardRows(s.ln, rows, s.h, true);                     // GELU applied in the product
        mlp.cProj.forwardRows(s.h, rows, s.branch, false);
        for (int i = 0; i < rows * c; i++) {
            s.x[i] += s.branch[i];                                      // out = mid + mlp(ln_2(mid))
        }
        HostBuffers.window(out, 0, rows * c).put(0, s.x, 0, rows * c);
    }

    /** forwardOneToken's arrays, one set per thread, grown as needed. */
    private static final ThreadLocal<OneTokenBuffers> ONE_TOKEN = ThreadLocal.withInitial(OneTokenBuffers::new);

    private static final class OneTokenBuffers {
        float[] x = new float[0];       // [B, C] residual stream
        float[] ln = x;                 // [B, C] layer norm output
        float[] qkv = x;                // [B, 3C]
        float[] y = x;                  // [B, C] heads side by side
        float[] branch = x;             // [B, C] a branch's output
        float[] h = x;                  // [B, inner] GELU(c_fc)

        OneTokenBuffers fit(int rows, int c, int inner) {
            if (x.length < rows * c || h.length < rows * inner) {
                x = new float[rows * c];
                ln = new float[rows * c];
                qkv = new float[rows * 3 * c];
                y = new float[rows * c];
                branch = new float[rows * c];
                h = new float[rows * inner];
            }
            return this;
        }
    }

    /**
     * dResid [R, C], the gradient of the block's output, becomes the gradient of its input x in place (each branch
     * adds its part to the residual stream's gradient). {@code dLn} and {@code dBranch} are scratch. Without
     * {@code inputGradient} (nothing below this layer needs a gradient: the lowest trained layer of a frozen base) the
     * layer fills only its adapters' gradients: {@code ln_1}'s backward and {@code c_attn}'s input-gradient GEMM are
     * skipped where no adapter reads them, and dResid is left as the gradient of {@code mid}.
     */
    void backward(Pass p, INDArray x, Acts a, KvCache.Layer kv, INDArray dResid, Activations.Scratch s, KvPrefix prefix,
                  boolean inputGradient) {
        Activations.Keep k = a.keep;
        mlp.backward(p, k.ln2Out() ? a.ln2Out : null, k.mlpG() ? a.mlp.g : null, a.mlp,
                branchGradient(afterMlp, dResid, s.dBranch, p), s.mlp, s.dLn);
        ln2.backward(normGradient(afterLn2, s.dLn, p), a.mid, a.ln2Mean, a.ln2Rstd, dResid,
                p.accumulate);                                              // dResid is now d mid
        attention.backward(p, k.ln1Out() ? a.ln1Out : null, k.attnY() ? a.attn.y : null, a.attn, kv,
                branchGradient(afterAttention, dResid, s.dBranch, p), s.attn, s.dLn, prefix,
                inputGradient || afterLn1 != null);
        INDArray dLn1 = normGradient(afterLn1, s.dLn, p);                   // the adapter's gradients, in any case
        if (inputGradient) {
            ln1.backward(dLn1, x, a.ln1Mean, a.ln1Rstd, dResid, p.accumulate);  // dResid is now d x
        }
    }

    /** A LayerNorm's output gradient from that of its adjusted output {@code dOut} (scratch), through its adapter. */
    static INDArray normGradient(ResidualAdapter adapter, INDArray dOut, Pass p) {
        return adapter == null ? dOut : adapter.backward(dOut, p);
    }

    /** The gradient a branch's own output receives: the residual gradient, through the branch's adapter if any. */
    private static INDArray branchGradient(ResidualAdapter adapter, INDArray dResid, INDArray scratch, Pass p) {
        if (adapter == null) {
            return dResid;
        }
        scratch.assign(dResid);     // the adapter may change it; the residual path must keep its gradient
        return adapter.backward(scratch, p);
    }
}
