package dev.attune.core.model;

import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * What one forward pass runs over: {@code batch} rows of {@code n} new tokens that follow {@code start} positions
 * already in the key/value store. Training is the case {@code start = 0} (or the prefix length, with a
 * {@link KvPrefix}), inference with a cache any other. It is the {@link Step} adapters see.
 */
final class Pass implements Step {

    /** Dropout sites, numbered in this one place: a mask is a function of the pass's seed and its site only. */
    static final long EMBEDDING_SITE = 0;
    private static final long ADAPTER_SITES = 1L << 40;

    static long attentionProbsSite(int layer) {
        return layer * 4L + 1;
    }

    static long attentionOutSite(int layer) {
        return layer * 4L + 2;
    }

    static long mlpOutSite(int layer) {
        return layer * 4L + 3;
    }


    final int batch;
    final int n;
    final int start;
    final int total;          // keys attended to: start + n
    final int rows;           // batch * n, or the rows' lengths summed when they differ
    private final int[] lengths;  // null: every row has n new tokens; else each row's own, rows packed one after another
    private final int[] firsts;   // with lengths: each row's first row in the pass's [rows, C] buffers
    final boolean[] keyValid; // [batch * total], false = padding key; null = all keys real
    final DataType dataType;
    final boolean training;
    boolean accumulate;       // set before a backward: add to gradients instead of overwriting them
    private final long dropoutSeed;
    private INDArray additiveMask;

    Pass(int batch, int n, int start, boolean[] keyValid, DataType dataType, boolean training, long dropoutSeed) {
        this.batch = batch;
        this.n = n;
        this.start = start;
        this.total = start + n;
        this.rows = batch * n;
        this.keyValid = keyValid;
        this.dataType = dataType;
        this.training = training;
        this.dropoutSeed = dropoutSeed;
        this.lengths = null;
        this.firsts = null;
    }

    /**
     * An inference pass over rows of different lengths (at most {@code n}), packed one after another without
     * padding, all keys real: only {@link Attention}'s host heads read this layout.
     */
    Pass(int[] lengths, int n, int start, DataType dataType) {
        this.batch = lengths.length;
        this.n = n;
        this.start = start;
        this.total = start + n;
        this.keyValid = null;
        this.dataType = dataType;
        this.training = false;
        this.dropoutSeed = 0;
        this.lengths = lengths.clone();
        this.firsts = new int[lengths.length];
        int r = 0;
        for (int b = 0; b < lengths.length; b++) {
            firsts[b] = r;
            r += lengths[b];
        }
        this.rows = r;
    }

    /** Whether rows have their own lengths, packed (see {@link #Pass(int[], int, int, DataType)}). */
    boolean packed() {
        return lengths != null;
    }

    /** New tokens of row {@code b}. */
    int length(int b) {
        return lengths == null ? n : lengths[b];
    }

    /** Row {@code b}'s first row in the pass's [rows, C] buffers. */
    int firstRow(int b) {
        return firsts == null ? b * n : firsts[b];
    }

    /** Whether query {@code i} (of the new tokens) of row {@code b} may attend to key {@code j}. */
    boolean allowed(int b, int i, int j) {
        return j <= start + i && (keyValid == null || keyValid[b * total + j]);
    }

    /** 0 where attention is allowed, a large negative number elsewhere: [batch * heads, n, total]. */
    INDArray additiveMask(int heads) {
        if (additiveMask == null) {
            float[] m = new float[batch * heads * n * total];
            int k = 0;
            for (int b = 0; b < batch; b++) {
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < n; i++) {
                        for (int j = 0; j < total; j++) {
                            m[k++] = allowed(b, i, j) ? 0f : -1e9f;
                        }
                    }
                }
            }
            additiveMask = Nd4j.createFromArray(m).reshape(batch * heads, n, total).castTo(dataType);
        }
        return additiveMask;
    }

    /**
     * A dropout mask (0 or 1/(1-p)) for one site of the network, derived from the pass's seed and the site id only,
     * so a resumed run draws the same masks.
     */
    INDArray mask(double p, long site, long... shape) {
        long size = 1;
        for (long s : shape) {
            size *= s;
        }
        float[] m = new float[Math.toIntExact(size)];
        SplittableRandom rng = new SplittableRandom(dropoutSeed * 0x9E3779B97F4A7C15L + site);
        float keep = (float) (1.0 / (1.0 - p));
        for (int i = 0; i < m.length; i++) {
            m[i] = rng.nextDouble() < p ? 0f : keep;
        }
        return Nd4j.createFromArray(m).reshape(shape).castTo(dataType);
    }

    @Override
    public INDArray dropoutMask(double p, long site, long... shape) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("dropout probability must be in [0, 1), got " + p);
        }
        return mask(p, ADAPTER_SITES + site, shape);
    }

    @Override
    public boolean training() {
        return training;
    }

    @Override
    public boolean accumulate() {
        return accumulate;
    }

    @Override
    public int batchSize() {
        return batch;
    }

    @Override
    public int length() {
        return n;
    }

    /** Dropout applies only in training and only where the probability is positive. */
    boolean dropout(double p) {
        return training && p > 0;
    }
}
