package dev.attune.core.model;

import dev.attune.core.config.GptConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Every buffer one forward (and backward) pass writes, allocated once per shape and reused. For training each layer
 * keeps its own (the backward pass reads them); for inference all layers share one set and the residual stream is
 * updated in place.
 */
final class Activations {

    final int batch;
    final int n;
    final int total;
    final boolean training;

    private final INDArray[] resid;    // training: x_0 .. x_L; inference: one buffer
    private final Block.Acts[] blocks;  // training: one per layer; inference: one shared
    final INDArray lnfOut;   // [R, C]
    final INDArray lnfMean;  // [R]
    final INDArray lnfRstd;  // [R]
    final KvCache.Layer[] kv;  // training only: this pass's keys and values (a prefix's first), capacity total
    INDArray embeddingMask;
    final Scratch scratch;   // training only
    INDArray logits;         // [R, V], training only, allocated when a loss needs it

    /** Backward scratch, shared by all layers. */
    static final class Scratch {
        INDArray dResid;   // [R, C] gradient of the residual stream
        INDArray dLn;      // [R, C] gradient of a layer norm's output
        INDArray dBranch;  // [R, C] a residual adapter's copy of dResid
        Attention.Grads attn;
        Mlp.Grads mlp;
    }

    Activations(GptConfig c, DataType t, int batch, int n, int total, boolean training) {
        this.batch = batch;
        this.n = n;
        this.total = total;
        this.training = training;
        long rows = (long) batch * n;
        long C = c.embeddingSize();
        long bh = (long) batch * c.heads();
        int L = c.layers();
        resid = new INDArray[training ? L + 1 : 1];
        for (int i = 0; i < resid.length; i++) {
            resid[i] = Nd4j.create(t, rows, C);
        }
        blocks = new Block.Acts[training ? L : 1];
        for (int l = 0; l < blocks.length; l++) {
            Block.Acts b = new Block.Acts();
            b.mid = training ? Nd4j.create(t, rows, C) : resid[0];
            b.ln1Out = Nd4j.create(t, rows, C);
            b.ln1Mean = Nd4j.create(t, rows);
            b.ln1Rstd = Nd4j.create(t, rows);
            b.ln2Out = training ? Nd4j.create(t, rows, C) : b.ln1Out;
            b.ln2Mean = training ? Nd4j.create(t, rows) : b.ln1Mean;
            b.ln2Rstd = training ? Nd4j.create(t, rows) : b.ln1Rstd;
            Attention.Acts a = new Attention.Acts();
            a.qkv = Nd4j.create(t, rows, 3 * C);
            a.q = Nd4j.create(t, bh, n, c.headSize());
            a.probs = Nd4j.create(t, bh, n, total);
            a.yHeads = Nd4j.create(t, bh, n, c.headSize());
            a.y = Nd4j.create(t, rows, C);
            a.out = Nd4j.create(t, rows, C);
            b.attn = a;
            Mlp.Acts m = new Mlp.Acts();
            m.h = Nd4j.create(t, rows, c.innerSize());
            m.tanh = Nd4j.create(t, rows, c.innerSize());
            m.g = Nd4j.create(t, rows, c.innerSize());
            m.out = Nd4j.create(t, rows, C);
            b.mlp = m;
            blocks[l] = b;
        }
        lnfOut = Nd4j.create(t, rows, C);
        lnfMean = Nd4j.create(t, rows);
        lnfRstd = Nd4j.create(t, rows);
        if (training) {
            kv = new KvCache.Layer[L];
            for (int l = 0; l < L; l++) {
                kv[l] = new KvCache.Layer(batch, c.heads(), total, c.headSize(), t);
            }
            scratch = new Scratch();
            scratch.dResid = Nd4j.create(t, rows, C);
            scratch.dLn = Nd4j.create(t, rows, C);
            scratch.dBranch = Nd4j.create(t, rows, C);
            scratch.attn = new Attention.Grads();
            scratch.attn.dy = Nd4j.create(t, rows, C);
            scratch.attn.dyHeads = Nd4j.create(t, bh, n, c.headSize());
            scratch.attn.dprobs = Nd4j.create(t, bh, n, total);
            scratch.attn.dq = Nd4j.create(t, bh, n, c.headSize());
            scratch.attn.dk = Nd4j.create(t, bh, total, c.headSize());
            scratch.attn.dv = Nd4j.create(t, bh, total, c.headSize());
            scratch.attn.dqkv = Nd4j.create(t, rows, 3 * C);
            scratch.mlp = new Mlp.Grads();
            scratch.mlp.dg = Nd4j.create(t, rows, c.innerSize());
        } else {
            kv = null;
            scratch = null;
        }
    }

    boolean fits(int batch, int n, int total) {
        return this.batch == batch && this.n == n && this.total == total;
    }

    /** The residual stream entering layer {@code layer} ({@code layer = L}: leaving the last one). */
    INDArray resid(int layer) {
        return resid[training ? layer : 0];
    }

    Block.Acts block(int layer) {
        return blocks[training ? layer : 0];
    }
}
