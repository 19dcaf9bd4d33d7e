package dev.attune.core.model;

import dev.attune.core.config.GptConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Every buffer one forward (and backward) pass writes, allocated once per shape and reused. For inference all layers
 * share one set and the residual stream is updated in place. For training each layer keeps what its backward pass
 * reads (the residual stream, layer-norm statistics, queries, keys, values, attention probabilities, the MLP's
 * pre-activation) and shares the rest: buffers only the forward pass reads (qkv, per-head outputs, branch outputs)
 * always, and the inputs of the projections whenever only a weight gradient would read them ({@link Keep}).
 */
final class Activations {

    final int batch;
    final int n;
    final int total;
    final long rows;
    final boolean training;
    private final Keep[] keep;  // training: per layer; inference: null

    private final INDArray[] resid;    // training: x_0 .. x_L; inference: one buffer
    private final Block.Acts[] blocks;  // training: one per layer; inference: one shared
    final INDArray lnfOut;   // [R, C]
    final INDArray lnfMean;  // [R]
    final INDArray lnfRstd;  // [R]
    final KvCache.Layer[] kv;  // training only: this pass's keys and values (a prefix's first), capacity total
    INDArray embeddingMask;
    final Scratch scratch;   // training only
    INDArray logits;         // [R, V], training only, allocated when a loss needs it

    /**
     * Which projection inputs one layer keeps for its backward pass: each is read there only by the projection's
     * weight gradient (none while the base is frozen) or by an adapter wrapping it.
     */
    record Keep(boolean ln1Out, boolean attnY, boolean ln2Out, boolean mlpG) {
        static final Keep ALL = new Keep(true, true, true, true);
    }

    /** Backward scratch, shared by all layers. */
    static final class Scratch {
        INDArray dResid;   // [R, C] gradient of the residual stream
        INDArray dLn;      // [R, C] gradient of a layer norm's output
        INDArray dBranch;  // [R, C] a residual adapter's copy of dResid
        Attention.Grads attn;
        Mlp.Grads mlp;
    }

    /** Inference buffers: one set shared by every layer. */
    Activations(GptConfig c, DataType t, int batch, int n, int total) {
        this(c, t, batch, n, total, (long) batch * n, null, null);
    }

    /** Training buffers when {@code keep} (one entry per layer) is given, inference buffers when it is null. */
    Activations(GptConfig c, DataType t, int batch, int n, int total, Keep[] keep) {
        this(c, t, batch, n, total, (long) batch * n, keep, null);
    }

    /**
     * Inference buffers cut from {@code pool}'s memory: passes of changing shapes (scoring or classifying batches of
     * different lengths) then reuse the memory of the largest instead of allocating fresh buffers per shape.
     * {@code rows} is {@code batch * n}, or fewer for a packed pass ({@link Pass#packed()}).
     */
    Activations(GptConfig c, DataType t, int batch, int n, int total, long rows, Pool pool) {
        this(c, t, batch, n, total, rows, null, pool);
    }

    private Activations(GptConfig c, DataType t, int batch, int n, int total, long rows, Keep[] keep, Pool pool) {
        if (pool != null) {
            pool.rewind();
        }
        Alloc create = pool == null ? Nd4j::create : pool::take;
        this.batch = batch;
        this.n = n;
        this.total = total;
        this.training = keep != null;
        this.keep = keep == null ? null : keep.clone();
        this.rows = rows;
        long C = c.embeddingSize();
        long bh = (long) batch * c.heads();
        int L = c.layers();
        resid = new INDArray[training ? L + 1 : 1];
        for (int i = 0; i < resid.length; i++) {
            resid[i] = create.take(t, rows, C);
        }
        blocks = new Block.Acts[training ? L : 1];
        // Written and read within one layer's forward pass: one buffer serves every layer.
        INDArray qkv = create.take(t, rows, 3 * C);
        INDArray yHeads = create.take(t, bh, n, c.headSize());
        INDArray attnOut = create.take(t, rows, C);
        INDArray mlpOut = create.take(t, rows, C);
        // Read by the backward pass only where Keep says so.
        INDArray sharedC = null;
        INDArray sharedInner = null;
        for (int l = 0; l < blocks.length; l++) {
            Keep k = training ? keep[l] : Keep.ALL;
            Block.Acts b = new Block.Acts();
            b.keep = k;
            b.mid = training ? create.take(t, rows, C) : resid[0];
            b.ln1Mean = create.take(t, rows);
            b.ln1Rstd = create.take(t, rows);
            b.ln2Mean = training ? create.take(t, rows) : b.ln1Mean;
            b.ln2Rstd = training ? create.take(t, rows) : b.ln1Rstd;
            if (training && (!k.ln1Out() || !k.attnY() || !k.ln2Out())) {
                sharedC = sharedC == null ? create.take(t, rows, C) : sharedC;
            }
            b.ln1Out = k.ln1Out() ? create.take(t, rows, C) : sharedC;
            b.ln2Out = !training ? b.ln1Out : k.ln2Out() ? create.take(t, rows, C) : sharedC;
            Attention.Acts a = new Attention.Acts();
            a.qkv = qkv;
            a.q = create.take(t, bh, n, c.headSize());
            // inference: allocated by the general attention path for the keys it has (a decoding step's grow by one)
            a.probs = training || pool != null ? create.take(t, bh, n, total) : null;
            a.yHeads = yHeads;
            a.y = k.attnY() ? create.take(t, rows, C) : sharedC;
            a.out = attnOut;
            b.attn = a;
            Mlp.Acts m = new Mlp.Acts();
            m.h = create.take(t, rows, c.innerSize());
            if (!k.mlpG()) {
                sharedInner = sharedInner == null ? create.take(t, rows, c.innerSize()) : sharedInner;
            }
            m.g = k.mlpG() ? create.take(t, rows, c.innerSize()) : sharedInner;
            m.out = mlpOut;
            b.mlp = m;
            blocks[l] = b;
        }
        lnfOut = create.take(t, rows, C);
        lnfMean = create.take(t, rows);
        lnfRstd = create.take(t, rows);
        if (training) {
            kv = new KvCache.Layer[L];
            for (int l = 0; l < L; l++) {
                kv[l] = new KvCache.Layer(batch, c.heads(), total, c.headSize(), t);
            }
            scratch = new Scratch();
            scratch.dResid = create.take(t, rows, C);
            scratch.dLn = create.take(t, rows, C);
            scratch.dBranch = create.take(t, rows, C);
            scratch.attn = new Attention.Grads();
            scratch.attn.dy = create.take(t, rows, C);
            scratch.attn.dyHeads = create.take(t, bh, n, c.headSize());
            scratch.attn.dprobs = create.take(t, bh, n, total);
            scratch.attn.dq = create.take(t, bh, n, c.headSize());
            scratch.attn.dk = create.take(t, bh, total, c.headSize());
            scratch.attn.dv = create.take(t, bh, total, c.headSize());
            scratch.attn.dqkv = create.take(t, rows, 3 * C);
            scratch.mlp = new Mlp.Grads();
            scratch.mlp.dg = create.take(t, rows, c.innerSize());
        } else {
            kv = null;
            scratch = null;
        }
    }

    private interface Alloc {
        INDArray take(DataType type, long... shape);
    }

    /**
     * Native memory for inference activations, one block per buffer, kept between shapes: each buffer of a pass is a
     * view at the start of its block (so it is one dense array, as the host kernels want), and a block grows, its old
     * memory released at once, only when a pass needs more than it has.
     */
    static final class Pool {
        private final List<INDArray> blocks = new ArrayList<>();
        private int next;

        void rewind() {
            next = 0;
        }

        INDArray take(DataType type, long... shape) {
            long length = 1;
            for (long d : shape) {
                length *= d;
            }
            if (next == blocks.size()) {
                blocks.add(null);
            }
            INDArray block = blocks.get(next);
            if (block == null || block.length() < length || block.dataType() != type) {
                if (block != null && block.closeable()) {
                    block.close(); // the views of the last shape die with it: fresh memory per shape cost time and RSS
                }
                block = Nd4j.create(type, length);
                blocks.set(next, block);
            }
            next++;
            return Nd4j.create(Nd4j.createBuffer(block.data(), 0, length), shape);
        }
    }

    boolean fits(int batch, int n, int total) {
        return fits(batch, n, total, (long) batch * n);
    }

    boolean fits(int batch, int n, int total, long rows) {
        return this.batch == batch && this.n == n && this.total == total && this.rows == rows;
    }

    /** Whether these inference buffers serve passes of {@code n} new positions in {@code batch} rows, whatever the keys. */
    boolean fitsInference(int batch, int n) {
        return !training && this.batch == batch && this.n == n;
    }

    /** Whether these training buffers have this shape and keep what {@code keep} asks for. */
    boolean fits(int batch, int n, int total, Keep[] keep) {
        return fits(batch, n, total) && Arrays.equals(this.keep, keep);
    }

    /** Bytes of every buffer held here, each counted once however many layers share it. */
    long bytes() {
        Set<INDArray> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<INDArray> all = new ArrayList<>(Arrays.asList(resid));
        for (Block.Acts b : blocks) {
            all.addAll(Arrays.asList(b.ln1Out, b.ln1Mean, b.ln1Rstd, b.mid, b.ln2Out, b.ln2Mean, b.ln2Rstd,
                    b.attn.qkv, b.attn.q, b.attn.probs, b.attn.yHeads, b.attn.y, b.attn.out, b.mlp.h, b.mlp.g,
                    b.mlp.out));
        }
        all.addAll(Arrays.asList(lnfOut, lnfMean, lnfRstd, logits));
        if (kv != null) {
            for (KvCache.Layer l : kv) {
                all.add(l.keys(total));
                all.add(l.values(total));
            }
        }
        long bytes = 0;
        for (INDArray a : all) {
            if (a != null && seen.add(a)) {
                bytes += a.length() * a.dataType().width();
            }
        }
        return bytes;
    }

    /** The residual stream entering layer {@code layer} ({@code layer = L}: leaving the last one). */
    INDArray resid(int layer) {
        return resid[training ? layer : 0];
    }

    Block.Acts block(int layer) {
        return blocks[training ? layer : 0];
    }
}
