package dev.attune.core.model;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.attune.core.config.GptConfig;
import dev.attune.core.engine.HostBuffers;
import dev.attune.core.engine.Parallel;
import dev.attune.core.engine.StepTeam;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.Arrays;
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
        int bh = p.batch * heads;
        cAttn.forward(x, a.qkv, p);                                         // [R, 3C]
        INDArray qkv5 = a.qkv.reshape(p.batch, p.n, 3, heads, headSize);
        a.q.reshape(p.batch, heads, p.n, headSize).assign(heads(qkv5, 0));  // [B, H, n, hs]
        kv.append(p.start, heads(qkv5, 1), heads(qkv5, 2));
        INDArray keys = kv.keys(p.total);                                   // [B*H, L, hs]
        INDArray values = kv.values(p.total);                               // [B*H, L, hs]
        if (a.probs == null || a.probs.size(2) != p.total) {
            a.probs = Nd4j.create(a.q.dataType(), bh, p.n, p.total);       // inference buffers: sized here
        }
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
        cProj.forward(a.y, a.out, p);                                       // [R, C]
        if (p.dropout(residualDropout)) {
            a.outMask = p.mask(residualDropout, Pass.attentionOutSite(layer), p.rows, width);
            a.out.muli(a.outMask);
        }
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
        if (p.start > 0) {
            prefix.backward(layer, summedOverBatch(g.dk, p), summedOverBatch(g.dv, p), p);
        }
        cAttn.backward(x, g.dqkv, dx, p, inputGradient);
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
        Parallel.rows(p.batch * heads * n, 64, (from, to) -> {
            float[] row = new float[len];
            for (int r = from; r < to; r++) {
                int b = r / (heads * n);
                int i = r % n;
                s.get(r * len, row);
                if (p.keyValid == null) {
                    // Causal only: the allowed keys are the first start + i + 1, one contiguous run.
                    int allowed = Math.min(len, p.start + i + 1);
                    float max = RowKernels.max(row, allowed);
                    double sum = RowKernels.expShiftedSum(row, allowed, max);
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
        Parallel.rows((int) (probs.length() / len), 64, (from, to) -> {
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
