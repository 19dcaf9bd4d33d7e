package dev.attune.core.model;

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
        ln1.forward(x, a.ln1Out, a.ln1Mean, a.ln1Rstd);
        if (afterLn1 != null) {
            afterLn1.forward(a.ln1Out, p);
        }
        attention.forward(p, a.ln1Out, a.attn, kv);
        if (afterAttention != null) {
            afterAttention.forward(a.attn.out, p);
        }
        x.add(a.attn.out, a.mid);                                   // mid = x + attn(ln_1(x))
        ln2.forward(a.mid, a.ln2Out, a.ln2Mean, a.ln2Rstd);
        if (afterLn2 != null) {
            afterLn2.forward(a.ln2Out, p);
        }
        mlp.forward(p, a.ln2Out, a.mlp);
        if (afterMlp != null) {
            afterMlp.forward(a.mlp.out, p);
        }
        a.mid.add(a.mlp.out, out);                                  // out = mid + mlp(ln_2(mid))
    }

    /**
     * dResid [R, C], the gradient of the block's output, becomes the gradient of its input x in place (each branch
     * adds its part to the residual stream's gradient). {@code dLn} and {@code dBranch} are scratch.
     */
    void backward(Pass p, INDArray x, Acts a, KvCache.Layer kv, INDArray dResid, Activations.Scratch s, KvPrefix prefix) {
        Activations.Keep k = a.keep;
        mlp.backward(p, k.ln2Out() ? a.ln2Out : null, k.mlpG() ? a.mlp.g : null, a.mlp,
                branchGradient(afterMlp, dResid, s.dBranch, p), s.mlp, s.dLn);
        ln2.backward(normGradient(afterLn2, s.dLn, p), a.mid, a.ln2Mean, a.ln2Rstd, dResid,
                p.accumulate);                                              // dResid is now d mid
        attention.backward(p, k.ln1Out() ? a.ln1Out : null, k.attnY() ? a.attn.y : null, a.attn, kv,
                branchGradient(afterAttention, dResid, s.dBranch, p), s.attn, s.dLn, prefix);
        ln1.backward(normGradient(afterLn1, s.dLn, p), x, a.ln1Mean, a.ln1Rstd, dResid,
                p.accumulate);                                              // dResid is now d x
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
