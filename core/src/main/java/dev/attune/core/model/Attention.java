package dev.attune.core.model;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.attune.core.config.GptConfig;
import dev.attune.core.engine.HostBuffers;
import dev.attune.core.engine.StepTeam;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.custom.SoftMax;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Causal multi-head self-attention: {@code c_attn} makes q|k|v, each head attends over the keys so far (the
 * key/value store holds earlier positions when generating), {@code c_proj} mixes the heads. All heads of all rows go
 * through one batched GEMM per product, on views with no copies of the key/value store.
 */
final class Attention {

    final Linear cAttn;
    final Linear cProj;
    private final int heads;
    private final int headSize;
    private final int width;
    private final float scale;
    private final double attentionDropout;
    private final double residualDropout;
    private final int layer;

    /** Set by tests (and speed comparisons) to run the heads through ND4J even where {@link #hostHeads} allows host code. */
    static volatile boolean forceNd4jHeads = false;

    /** Activations of one layer's attention, kept for the backward pass. */
    static final class Acts {
        INDArray qkv;        // [R, 3C]
        INDArray q;          // [B*H, n, hs]
        INDArray probs;      // [B*H, n, L]
        INDArray probsMask;  // attention dropout mask, or null
        INDArray yHeads;     // [B*H, n, hs]
        INDArray y;          // [R, C], heads side by side
        INDArray out;        // [R, C]
        INDArray outMask;    // residual dropout mask, or null
    }

    /** Scratch for the backward pass, shared by all layers. */
    static final class Grads {
        INDArray dy;       // [R, C]
        INDArray dyHeads;  // [B*H, n, hs]
        INDArray dprobs;   // [B*H, n, L]
        INDArray dq;       // [B*H, n, hs]
        INDArray dk;       // [B*H, L, hs]
        INDArray dv;       // [B*H, L, hs]
        INDArray dqkv;     // [R, 3C]
    }

    Attention(GptConfig config, int layer, Linear cAttn, Linear cProj) {
        this.cAttn = cAttn;
        this.cProj = cProj;
        this.heads = config.heads();
        this.headSize = config.headSize();
        this.width = config.embeddingSize();
        this.scale = (float) (1.0 / Math.sqrt(headSize));
        this.attentionDropout = config.attentionDropout();
        this.residualDropout = config.residualDropout();
        this.layer = layer;
    }

    /** x [R, C] (already layer-normed) -> a.out [R, C]; appends this pass's keys and values to {@code kv}. */
    void forward(Pass p, INDArray x, Acts a, KvCache.Layer kv) {
        forward(p, x, a, kv, null);
    }

    /**
     * As {@link #forward(Pass, INDArray, Acts, KvCache.Layer)}, then {@code after} on a.out's rows (null: nothing),
     * each row in exactly one call: on {@code c_proj}'s row blocks as each is written where no dropout follows
     * (see {@link Linear#forward(INDArray, INDArray, Pass, StepTeam.RowRange)}), else over all rows at the end.
     */
    void forward(Pass p, INDArray x, Acts a, KvCache.Layer kv, StepTeam.RowRange after) {
        int bh = p.batch * heads;
        cAttn.forward(x, a.qkv, p);                                         // [R, 3C]
        if (a.probs == null || a.probs.size(2) != p.total) {
            a.probs = Nd4j.create(a.q.dataType(), bh, p.n, p.total);       // inference buffers: sized here
        }
        if (!p.dropout(attentionDropout) && hostHeads(a, kv)) {
            attendHost(p, a, kv);                                           // q, store, probs, y
        } else if (p.packed()) {
            throw new IllegalStateException("rows of different lengths need the host heads");
        } else {
            attendNd4j(p, a, kv, bh);
        }
        boolean dropout = p.dropout(residualDropout);
        cProj.forward(a.y, a.out, p, dropout ? null : after);              // [R, C]
        if (dropout) {
            a.outMask = p.mask(residualDropout, Pass.attentionOutSite(layer), p.rows, width);
            a.out.muli(a.outMask);
            if (after != null) {
                Ops.split(p.rows, 4, after);
            }
        }
    }

    /**
     * Whether the heads can run in {@link #attendHost} / {@link #backwardHost}: float32 on the CPU, and every buffer
     * they read or write one dense block (the key/value store is, unless a reorder left it as a view).
     */
    private static boolean hostHeads(Acts a, KvCache.Layer kv) {
        return !forceNd4jHeads && Ops.hostKernels(a.qkv.dataType()) && HostBuffers.isDense(a.qkv) && HostBuffers.isDense(a.q)
                && HostBuffers.isDense(a.probs) && HostBuffers.isDense(a.y) && HostBuffers.isDense(kv.k)
                && HostBuffers.isDense(kv.v);
    }

    /** The heads through ND4J: permuted copies in and out, one batched GEMM per product, the masked softmax. */
    private void attendNd4j(Pass p, Acts a, KvCache.Layer kv, int bh) {
        INDArray qkv5 = a.qkv.reshape(p.batch, p.n, 3, heads, headSize);
        a.q.reshape(p.batch, heads, p.n, headSize).assign(heads(qkv5, 0));  // [B, H, n, hs]
        kv.append(p.start, heads(qkv5, 1), heads(qkv5, 2));
        INDArray keys = kv.keys(p.total);                                   // [B*H, L, hs]
        INDArray values = kv.values(p.total);                               // [B*H, L, hs]
        Ops.gemm(a.q, false, keys, true, a.probs, scale, 0.0);              // scores [B*H, n, L]
        softmax(p, a.probs);
        INDArray used = a.probs;
        if (p.dropout(attentionDropout)) {
            a.probsMask = p.mask(attentionDropout, Pass.attentionProbsSite(layer), bh, p.n, p.total);
            used = a.probs.mul(a.probsMask);
        }
        Ops.gemm(used, false, values, false, a.yHeads, 1.0, 0.0);          // [B*H, n, hs]
        a.y.reshape(p.batch, p.n, heads, headSize)
                .assign(a.yHeads.reshape(p.batch, heads, p.n, headSize).permute(0, 2, 1, 3));
    }

    /**
     * The heads over host memory, one (row, head) pair at a time, pairs split over the engine's threads: the pass's
     * queries, keys and values are copied from {@code qkv} (into {@code q} and the store), then one CBLAS call each
     * for the scores and for the weighted sum of values, which it writes straight into {@code y}'s columns of the
     * head; the masked softmax in between runs over the probability rows. The ND4J path does the same arithmetic
     * with a permuted copy each for q, k, v and y, a batched product each, and MKL threading every small product
     * (tens of microseconds a call; the tiny model has 384 of them a step).
     */
    private void attendHost(Pass p, Acts a, KvCache.Layer kv) {
        FloatBuffer qkv = HostBuffers.floats(a.qkv);
        FloatBuffer qOut = HostBuffers.floats(a.q);
        FloatBuffer probs = HostBuffers.floats(a.probs);
        FloatBuffer keyStore = HostBuffers.floats(kv.k);
        FloatBuffer valueStore = HostBuffers.floats(kv.v);
        int n = p.n;
        int total = p.total;
        int start = p.start;
        int hs = headSize;
        int c = width;
        int capacity = kv.capacity();
        eachHead(p, (from, to) -> {
            FloatPointer q = pointer(a.q);
            FloatPointer k = pointer(kv.k);
            FloatPointer v = pointer(kv.v);
            FloatPointer pr = pointer(a.probs);
            FloatPointer y = pointer(a.y);
            float[] part = new float[hs];
            float[] row = new float[total];
            float[] exps = new float[total];
            for (int bh = from; bh < to; bh++) {
                int b = bh / heads;
                int h = bh % heads;
                int slot = bh * capacity * hs;
                int first = p.firstRow(b);
                int rowN = p.length(b);      // a packed row's own length: nothing past it is computed or read
                int keys = start + rowN;
                for (int i = 0; i < rowN; i++) {
                    int at = (first + i) * 3 * c + h * hs;
                    qkv.get(at, part);
                    qOut.put((bh * n + i) * hs, part);
                    qkv.get(at + c, part);
                    keyStore.put(slot + (start + i) * hs, part);
                    qkv.get(at + 2 * c, part);
                    valueStore.put(slot + (start + i) * hs, part);
                }
                HostGemm.sgemm(HostGemm.NO_TRANS, HostGemm.TRANS, rowN, keys, hs, scale, q, a.q.offset() + (long) bh * n * hs,
                        hs, k, kv.k.offset() + slot, hs, 0f, pr, a.probs.offset() + (long) bh * n * total, total);
                for (int i = 0; i < rowN; i++) {
                    int at = (bh * n + i) * total;
                    probs.get(at, row, 0, keys);
                    softmaxRow(p, b, i, row, keys, exps);
                    probs.put(at, row, 0, keys);
                }
                HostGemm.sgemm(HostGemm.NO_TRANS, HostGemm.NO_TRANS, rowN, hs, keys, 1f, pr,
                        a.probs.offset() + (long) bh * n * total, total, v, kv.v.offset() + slot, hs, 0f,
                        y, a.y.offset() + (long) first * c + (long) h * hs, c);
            }
        });
    }

    /**
     * Runs {@code body} over the (row, head) pairs: split over the engine's threads with each thread's BLAS held to
     * one thread where the BLAS allows it (MKL), else on this thread with the BLAS's own threading.
     */
    private void eachHead(Pass p, StepTeam.RowRange body) {
        int pairs = p.batch * heads;
        if (!HostGemm.singleThreadable()) {
            body.run(0, pairs);
            return;
        }
        Ops.split(pairs, 1, (from, to) -> {
            int previous = HostGemm.oneThread();
            try {
                body.run(from, to);
            } finally {
                HostGemm.restoreThreads(previous);
            }
        });
    }

    private static FloatPointer pointer(INDArray a) {
        return new FloatPointer(a.data().pointer());
    }

    /**
     * The first {@code len} scores of {@code row} -> probabilities in place: query {@code i} of row {@code b}, masked as
     * {@link #softmax} ({@code len} is the whole row wherever a key may be padding: packed passes have none).
     */
    private static void softmaxRow(Pass p, int b, int i, float[] row, int len, float[] exps) {
        if (p.keyValid != null) {
            maskedSoftmax(p, b, i, row);
            return;
        }
        // Causal only: the allowed keys are the first start + i + 1, one contiguous run.
        int allowed = Math.min(len, p.start + i + 1);
        float max = RowKernels.max(row, allowed);
        double sum = RowKernels.expShiftedSum(row, allowed, max, exps);
        RowKernels.scale(row, allowed, (float) (1.0 / sum));
        Arrays.fill(row, allowed, len, 0f);
    }

    /**
     * The attention of one new position per row over Java arrays (the one-token decoding step): {@code qkv [B, 3C]}
     * (c_attn's output) -> {@code y [B, C]} (c_proj's input, heads side by side). Stores the new keys and values in
     * {@code kv} at position {@code p.start}, then each head of each row attends over the positions {@code p}
     * allows, reading the store in place. Heads are split over the engine's threads.
     */
    void attendOneToken(Pass p, float[] qkv, float[] y, KvCache.Layer kv) {
        if (p.n != 1) {
            throw new IllegalArgumentException("one new position per row expected, got " + p.n);
        }
        ByteBuffer keys = kv.hostKeys();
        ByteBuffer values = kv.hostValues();
        int capacity = kv.capacity();
        int hs = headSize;
        for (int b = 0; b < p.batch; b++) {
            for (int h = 0; h < heads; h++) {
                long slot = 4L * (((long) (b * heads + h) * capacity + p.start) * hs);
                int at = b * 3 * width + h * hs;
                for (int d = 0; d < hs; d++) {
                    keys.putFloat((int) (slot + 4L * d), qkv[at + width + d]);
                    values.putFloat((int) (slot + 4L * d), qkv[at + 2 * width + d]);
                }
            }
        }
        int total = p.total;
        StepTeam.rows(p.batch * heads, 2, 1, (from, to) -> {
            float[] scores = new float[total];
            float[] out = new float[hs];
            for (int bh = from; bh < to; bh++) {
                int b = bh / heads;
                int h = bh % heads;
                int q = b * 3 * width + h * hs;
                int base = bh * capacity * hs * 4;
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < total; j++) {
                    if (p.allowed(b, 0, j)) {
                        scores[j] = scale * PackedKernels.dot(qkv, q, keys, base + 4 * j * hs, hs);
                        max = Math.max(max, scores[j]);
                    }
                }
                double sum = 0;
                for (int j = 0; j < total; j++) {
                    if (p.allowed(b, 0, j)) {
                        float e = (float) Math.exp(scores[j] - max);
                        scores[j] = e;
                        sum += e;
                    } else {
                        scores[j] = 0f;
                    }
                }
                float inv = sum > 0 ? (float) (1.0 / sum) : 0f;
                java.util.Arrays.fill(out, 0f);
                for (int j = 0; j < total; j++) {
                    if (scores[j] != 0f) {
                        PackedKernels.addScaled(out, values, base + 4 * j * hs, scores[j] * inv, hs);
                    }
                }
                System.arraycopy(out, 0, y, b * width + h * hs, hs);
            }
        });
    }

    /**
     * dout [R, C] -> parameter gradients and dx [R, C] (input of c_attn, overwritten). Keys and values in front of the
     * pass's own ({@code p.start} of them: a {@link KvPrefix}) send their gradients to {@code prefix}. {@code x} and
     * {@code y} (the projections' inputs) may be null where nothing reads them (see {@link Activations.Keep}). Without
     * {@code inputGradient} nothing reads dx afterwards (see {@link Linear#backward(INDArray, INDArray, INDArray,
     * Pass, boolean)}).
     */
    void backward(Pass p, INDArray x, INDArray y, Acts a, KvCache.Layer kv, INDArray dout, Grads g, INDArray dx,
                  KvPrefix prefix, boolean inputGradient) {
        if (a.outMask != null) {
            dout = dout.mul(a.outMask);
        }
        cProj.backward(y, dout, g.dy, p);
        if (a.probsMask == null && hostHeads(a, kv) && HostBuffers.isDense(g.dy) && HostBuffers.isDense(g.dqkv)) {
            backwardHost(p, a, kv, g);
        } else {
            backwardNd4j(p, a, kv, g);
        }
        if (p.start > 0) {
            prefix.backward(layer, summedOverBatch(g.dk, p), summedOverBatch(g.dv, p), p);
        }
        cAttn.backward(x, g.dqkv, dx, p, inputGradient);
    }

    /** The heads' backward through ND4J, the mirror of {@link #attendNd4j}: dy -> g.dqkv, and g.dk, g.dv whole. */
    private void backwardNd4j(Pass p, Acts a, KvCache.Layer kv, Grads g) {
        g.dyHeads.reshape(p.batch, heads, p.n, headSize)
                .assign(g.dy.reshape(p.batch, p.n, heads, headSize).permute(0, 2, 1, 3));
        INDArray keys = kv.keys(p.total);
        INDArray values = kv.values(p.total);
        INDArray used = a.probsMask == null ? a.probs : a.probs.mul(a.probsMask);
        Ops.gemm(g.dyHeads, false, values, true, g.dprobs, 1.0, 0.0);      // [B*H, n, L]
        Ops.gemm(used, true, g.dyHeads, false, g.dv, 1.0, 0.0);            // [B*H, L, hs]
        if (a.probsMask != null) {
            g.dprobs.muli(a.probsMask);
        }
        softmaxBackward(a.probs, g.dprobs);                                 // now d(scores / scale)
        Ops.gemm(g.dprobs, false, keys, false, g.dq, scale, 0.0);          // [B*H, n, hs]
        Ops.gemm(g.dprobs, true, a.q, false, g.dk, scale, 0.0);            // [B*H, L, hs]
        INDArray dqkv5 = g.dqkv.reshape(p.batch, p.n, 3, heads, headSize);
        mergeInto(dqkv5, 0, g.dq, p);
        mergeInto(dqkv5, 1, own(g.dk, p), p);
        mergeInto(dqkv5, 2, own(g.dv, p), p);
    }

    /**
     * The heads' backward over host memory, the mirror of {@link #attendHost}: for each (row, head) pair, with P the
     * probabilities and dY the head's columns of dy, dP = dY V^T, dV = P^T dY, dS = softmax'(dP), dQ = scale dS K,
     * dK = scale dS^T Q, one CBLAS call each. dQ goes straight into dqkv's columns of the head, and so do dK and dV
     * when the pass has no prefix; with one they go to g.dk and g.dv, whose own positions are then copied over.
     */
    private void backwardHost(Pass p, Acts a, KvCache.Layer kv, Grads g) {
        FloatBuffer probs = HostBuffers.floats(a.probs);
        FloatBuffer dprobs = HostBuffers.floats(g.dprobs);
        FloatBuffer dqkv = HostBuffers.floats(g.dqkv);
        FloatBuffer dkAll = HostBuffers.floats(g.dk);
        FloatBuffer dvAll = HostBuffers.floats(g.dv);
        int n = p.n;
        int total = p.total;
        int start = p.start;
        int hs = headSize;
        int c = width;
        int capacity = kv.capacity();
        eachHead(p, (from, to) -> {
            FloatPointer q = pointer(a.q);
            FloatPointer k = pointer(kv.k);
            FloatPointer v = pointer(kv.v);
            FloatPointer pr = pointer(a.probs);
            FloatPointer dy = pointer(g.dy);
            FloatPointer dp = pointer(g.dprobs);
            FloatPointer d = pointer(g.dqkv);
            FloatPointer dk = pointer(g.dk);
            FloatPointer dv = pointer(g.dv);
            float[] pRow = new float[total];
            float[] dRow = new float[total];
            float[] part = new float[hs];
            for (int bh = from; bh < to; bh++) {
                int b = bh / heads;
                int h = bh % heads;
                long slot = (long) bh * capacity * hs;
                long pAt = (long) bh * n * total;
                long dyAt = g.dy.offset() + (long) b * n * c + (long) h * hs;
                long dqkvAt = g.dqkv.offset() + (long) b * n * 3 * c + (long) h * hs;
                // Without a prefix the key and value gradients of the pair are the pass's own: straight into dqkv.
                FloatPointer dkOut = start == 0 ? d : dk;
                FloatPointer dvOut = start == 0 ? d : dv;
                long dkAt = start == 0 ? dqkvAt + c : g.dk.offset() + (long) bh * total * hs;
                long dvAt = start == 0 ? dqkvAt + 2L * c : g.dv.offset() + (long) bh * total * hs;
                int ldOut = start == 0 ? 3 * c : hs;
                HostGemm.sgemm(HostGemm.NO_TRANS, HostGemm.TRANS, n, total, hs, 1f, dy, dyAt, c,
                        v, kv.v.offset() + slot, hs, 0f, dp, g.dprobs.offset() + pAt, total);
                HostGemm.sgemm(HostGemm.TRANS, HostGemm.NO_TRANS, total, hs, n, 1f, pr, a.probs.offset() + pAt, total,
                        dy, dyAt, c, 0f, dvOut, dvAt, ldOut);
                for (int i = 0; i < n; i++) {
                    int at = (int) pAt + i * total;
                    probs.get(at, pRow);
                    dprobs.get(at, dRow);
                    RowKernels.softmaxBackward(pRow, dRow, total);         // now d(scores / scale)
                    dprobs.put(at, dRow);
                }
                HostGemm.sgemm(HostGemm.NO_TRANS, HostGemm.NO_TRANS, n, hs, total, scale, dp,
                        g.dprobs.offset() + pAt, total, k, kv.k.offset() + slot, hs, 0f, d, dqkvAt, 3 * c);
                HostGemm.sgemm(HostGemm.TRANS, HostGemm.NO_TRANS, total, hs, n, scale, dp, g.dprobs.offset() + pAt,
                        total, q, a.q.offset() + (long) bh * n * hs, hs, 0f, dkOut, dkAt, ldOut);
                if (start > 0) {
                    for (int i = 0; i < n; i++) {
                        int own = (bh * total + start + i) * hs;
                        int at = (b * n + i) * 3 * c + h * hs;
                        dkAll.get(own, part);
                        dqkv.put(at + c, part);
                        dvAll.get(own, part);
                        dqkv.put(at + 2 * c, part);
                    }
                }
            }
        });
    }

    /** The pass's own positions of a key or value gradient [B*H, L, hs]: the last n. */
    private static INDArray own(INDArray d, Pass p) {
        return p.start == 0 ? d : d.get(all(), interval(p.start, p.total), all());
    }

    /** The prefix positions of a key or value gradient [B*H, L, hs], summed over rows, heads side by side: [P, C]. */
    private INDArray summedOverBatch(INDArray d, Pass p) {
        INDArray front = d.get(all(), interval(0, p.start), all()).reshape(p.batch, heads, p.start, headSize);
        return front.sum(0).permute(1, 0, 2).dup('c').reshape(p.start, width);   // [H, P, hs] -> [P, C]
    }

    /** The q, k or v part of qkv [B, n, 3, H, hs] as [B, H, n, hs] (a view). */
    private static INDArray heads(INDArray qkv5, int part) {
        return qkv5.get(all(), all(), point(part), all(), all()).permute(0, 2, 1, 3);
    }

    private void mergeInto(INDArray dqkv5, int part, INDArray d, Pass p) {
        heads(dqkv5, part).assign(d.reshape(p.batch, heads, p.n, headSize));
    }

    /** Masked softmax over the last axis of scores [B*H, n, L], in place; rows with no allowed key become 0. */
    private void softmax(Pass p, INDArray scores) {
        if (!Ops.hostKernels(scores.dataType())) {
            scores.addi(p.additiveMask(heads));
            Nd4j.exec(new SoftMax(scores, scores, 2));
            if (p.keyValid != null) {
                scores.muli(p.additiveMask(heads).gt(-1.0).castTo(scores.dataType()));
            }
            return;
        }
        FloatBuffer s = HostBuffers.floats(scores);
        int n = p.n;
        int len = p.total;
        Ops.split(p.batch * heads * n, 64, (from, to) -> {
            float[] row = new float[len];
            float[] exps = new float[len];
            for (int r = from; r < to; r++) {
                int b = r / (heads * n);
                int i = r % n;
                s.get(r * len, row);
                if (p.keyValid == null) {
                    // Causal only: the allowed keys are the first start + i + 1, one contiguous run.
                    int allowed = Math.min(len, p.start + i + 1);
                    float max = RowKernels.max(row, allowed);
                    double sum = RowKernels.expShiftedSum(row, allowed, max, exps);
                    RowKernels.scale(row, allowed, (float) (1.0 / sum));
                    Arrays.fill(row, allowed, len, 0f);
                } else {
                    maskedSoftmax(p, b, i, row);
                }
                s.put(r * len, row);
            }
        });
    }

    /** Softmax of one score row over the keys {@link Pass#allowed} lets query {@code i} of row {@code b} see. */
    private static void maskedSoftmax(Pass p, int b, int i, float[] row) {
        int len = row.length;
        float max = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < len; j++) {
            if (p.allowed(b, i, j) && row[j] > max) {
                max = row[j];
            }
        }
        double sum = 0;
        for (int j = 0; j < len; j++) {
            if (p.allowed(b, i, j)) {
                float e = RowKernels.exp(row[j] - max);
                row[j] = e;
                sum += e;
            } else {
                row[j] = 0f;
            }
        }
        float inv = sum > 0 ? (float) (1.0 / sum) : 0f;
        for (int j = 0; j < len; j++) {
            row[j] *= inv;
        }
    }

    /** dprobs -> dscores in place: {@code p * (dp - sum(dp * p))} along the last axis. */
    private static void softmaxBackward(INDArray probs, INDArray dprobs) {
        long len = probs.size(2);
        if (!Ops.hostKernels(probs.dataType())) {
            INDArray p2 = probs.reshape(probs.length() / len, len);
            INDArray d2 = dprobs.reshape(dprobs.length() / len, len);
            INDArray dot = d2.mul(p2).sum(1);
            d2.subiColumnVector(dot).muli(p2);
            return;
        }
        FloatBuffer pb = HostBuffers.floats(probs);
        FloatBuffer db = HostBuffers.floats(dprobs);
        int l = (int) len;
        Ops.split((int) (probs.length() / len), 64, (from, to) -> {
            float[] pr = new float[l];
            float[] dr = new float[l];
            for (int r = from; r < to; r++) {
                pb.get(r * l, pr);
                db.get(r * l, dr);
                RowKernels.softmaxBackward(pr, dr, l);
                db.put(r * l, dr);
            }
        });
    }
}
