package dev.attune.core.model;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;


import dev.attune.core.engine.HostBuffers;
import java.nio.ByteBuffer;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The keys and values of every layer for the positions a model has already seen, so generation runs one new token
 * per step instead of the whole sequence. Made by {@link GptModel#newCache(int, int)}; filled by
 * {@link GptModel#forward(KvCache, int[][], boolean[][], boolean)}.
 *
 * <p>Rows may be left-padded: padding positions are stored but never attended to, and positions count only real
 * tokens (Hugging Face's {@code position_ids = cumsum(mask) - 1}). A prefix's positions count as real: behind a prefix
 * of P positions the first token has position id P, as in Hugging Face and PEFT.
 */
public final class KvCache {

    private final int batch;
    private final int capacity;
    private final Layer[] layers;
    private boolean[] keyValid;  // [batch * capacity]
    private int[] realTokens;    // per row: real (non-padding) tokens so far, the next position id
    private int length;

    KvCache(int layers, int batch, int heads, int capacity, int headSize, DataType type) {
        this(layers, batch, heads, capacity, headSize, type, null);
    }

    /** A cache whose keys and values are cut from {@code pool}'s memory (null: fresh buffers). */
    KvCache(int layers, int batch, int heads, int capacity, int headSize, DataType type, Activations.Pool pool) {
        this.batch = batch;
        this.capacity = capacity;
        this.layers = new Layer[layers];
        if (pool != null) {
            pool.rewind();
        }
        for (int i = 0; i < layers; i++) {
            this.layers[i] = new Layer(batch, heads, capacity, headSize, type, pool);
        }
        this.keyValid = new boolean[batch * capacity];
        this.realTokens = new int[batch];
    }

    public int batchSize() {
        return batch;
    }

    public int capacity() {
        return capacity;
    }

    /** Positions stored so far (padding included). */
    public int length() {
        return length;
    }

    /** Positions still free. */
    public int remaining() {
        return capacity - length;
    }

    /**
     * Keeps, for each new row {@code i}, the state of old row {@code rows[i]} (beam search: a beam continues from its
     * parent). {@code rows} has one entry per row; entries may repeat.
     */
    public void reorder(int[] rows) {
        if (rows.length != batch) {
            throw new IllegalArgumentException("reorder needs " + batch + " row indices, got " + rows.length);
        }
        for (int r : rows) {
            if (r < 0 || r >= batch) {
                throw new IllegalArgumentException("row index " + r + " outside [0, " + batch + ")");
            }
        }
        for (Layer layer : layers) {
            layer.reorder(rows);
        }
        boolean[] valid = new boolean[keyValid.length];
        int[] real = new int[batch];
        for (int i = 0; i < batch; i++) {
            System.arraycopy(keyValid, rows[i] * capacity, valid, i * capacity, capacity);
            real[i] = realTokens[rows[i]];
        }
        keyValid = valid;
        realTokens = real;
    }

    // ------------------------------------------------------------------ continuous batching: rows come and go

    /**
     * Forgets row {@code row}'s positions (a finished sequence leaves a running batch), a prefix's included: they turn
     * into padding that is never attended, and the row's next position id is 0 again. A cleared row takes a new
     * sequence through {@link #copyRow}, which brings the source row's prefix along.
     */
    public void clearRow(int row) {
        checkRow(row, batch);
        Arrays.fill(keyValid, row * capacity, (row + 1) * capacity, false);
        realTokens[row] = 0;
    }

    /**
     * Row {@code row} takes over row {@code sourceRow} of {@code source} (a prompt prefilled on its own): its old
     * positions are forgotten, and the source row's real positions are copied, in order, to the last columns stored
     * so far. If the source row holds more real positions than this cache has stored, the stored length grows by
     * padding columns for every other row. Positions ids continue from the source row's count, so the row decodes
     * exactly as it would have in {@code source}.
     */
    public void copyRow(KvCache source, int sourceRow, int row) {
        checkRow(row, batch);
        checkRow(sourceRow, source.batch);
        if (source.layers.length != layers.length || source.layers[0].heads != layers[0].heads
                || source.layers[0].headSize != layers[0].headSize || source.layers[0].k.dataType() != layers[0].k
                .dataType()) {
            throw new IllegalArgumentException("source cache has another shape: " + source + " vs " + this);
        }
        int[] positions = source.validPositions(sourceRow);
        int count = positions.length;
        if (count > capacity) {
            throw new IllegalArgumentException("source row holds " + count + " positions, beyond this cache's capacity "
                    + capacity);
        }
        if (length < count) {
            for (int b = 0; b < batch; b++) {
                Arrays.fill(keyValid, b * capacity + length, b * capacity + count, false);
            }
            length = count;
        }
        clearRow(row);
        int first = length - count;
        // Copy run by run: a prefilled prompt is one contiguous run.
        int i = 0;
        while (i < count) {
            int j = i + 1;
            while (j < count && positions[j] == positions[j - 1] + 1) {
                j++;
            }
            for (int l = 0; l < layers.length; l++) {
                layers[l].copyRun(source.layers[l], sourceRow, positions[i], row, first + i, j - i);
            }
            i = j;
        }
        Arrays.fill(keyValid, row * capacity + first, row * capacity + length, true);
        realTokens[row] = source.realTokens[sourceRow];
    }

    /**
     * Packs each row's real positions, in order, against the end of the stored columns and drops the columns no row
     * needs any more, so the stored length becomes the largest real count of any row. Attention then no longer
     * spends time on padding left by rows that came and went, and room is freed for new positions. Outputs do not
     * change: padding is never attended and position ids do not depend on columns.
     */
    public void compact() {
        int[][] valid = new int[batch][];
        int longest = 0;
        for (int b = 0; b < batch; b++) {
            valid[b] = validPositions(b);
            longest = Math.max(longest, valid[b].length);
        }
        if (longest == length) {
            return;
        }
        int heads = layers[0].heads;
        int[] from = new int[batch * heads * capacity]; // store row of every destination row of [B*H*capacity, hs]
        for (int b = 0; b < batch; b++) {
            int first = longest - valid[b].length;
            for (int h = 0; h < heads; h++) {
                int base = (b * heads + h) * capacity;
                for (int j = 0; j < capacity; j++) {
                    boolean kept = j >= first && j < longest;
                    from[base + j] = base + (kept ? valid[b][j - first] : j); // others: any row, never attended
                }
            }
        }
        for (Layer layer : layers) {
            layer.gatherPositions(from);
        }
        Arrays.fill(keyValid, false);
        for (int b = 0; b < batch; b++) {
            Arrays.fill(keyValid, b * capacity + longest - valid[b].length, b * capacity + longest, true);
        }
        length = longest;
    }

    /** Columns of row {@code b} that hold real positions, ascending. */
    private int[] validPositions(int b) {
        int n = 0;
        for (int j = 0; j < length; j++) {
            n += keyValid[b * capacity + j] ? 1 : 0;
        }
        int[] out = new int[n];
        n = 0;
        for (int j = 0; j < length; j++) {
            if (keyValid[b * capacity + j]) {
                out[n++] = j;
            }
        }
        return out;
    }

    private static void checkRow(int row, int rows) {
        if (row < 0 || row >= rows) {
            throw new IllegalArgumentException("row " + row + " outside [0, " + rows + ")");
        }
    }

    /**
     * Forgets every stored position (the buffers are kept for reuse) and, given a prefix, stores its keys and values
     * in the first slots of every row: attended by every later query, and taking the position ids 0 .. P-1, so the
     * first real token of each row has position id P (Hugging Face computes position ids from the past's length,
     * and PEFT's prefix tuning is such a past).
     */
    void reset(KvPrefix prefix) {
        Arrays.fill(keyValid, false);
        Arrays.fill(realTokens, 0);
        length = 0;
        if (prefix == null) {
            return;
        }
        int p = prefix.length();
        if (p > capacity) {
            throw new IllegalArgumentException("a prefix of " + p + " positions does not fit a cache of " + capacity);
        }
        for (int l = 0; l < layers.length; l++) {
            layers[l].fill(0, prefix.keys(l), prefix.values(l));
        }
        for (int b = 0; b < batch; b++) {
            Arrays.fill(keyValid, b * capacity, b * capacity + p, true);
        }
        Arrays.fill(realTokens, p);
        length = p;
    }

    /** Whether this cache's buffers have this many layers and heads of this size and type (a model's shape). */
    boolean holds(int layerCount, int heads, int headSize, DataType type) {
        return layers.length == layerCount && layers[0].heads == heads && layers[0].headSize == headSize
                && layers[0].k.dataType() == type;
    }

    /** How many layers' keys and values this cache stores. */
    int layerCount() {
        return layers.length;
    }

    Layer layer(int i) {
        return layers[i];
    }

    /**
     * Records {@code n} new positions per row and returns their position ids [batch * n]; the key validity mask of
     * all positions so far is returned through {@link #keyValid(int)}.
     */
    int[] advance(boolean[][] mask, int n) {
        if (length + n > capacity) {
            throw new IllegalStateException("KV cache full: " + length + " + " + n + " positions exceed its capacity "
                    + capacity);
        }
        int[] positions = new int[batch * n];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < n; i++) {
                boolean real = mask == null || mask[b][i];
                keyValid[b * capacity + length + i] = real;
                positions[b * n + i] = real ? realTokens[b]++ : 0;
            }
        }
        length += n;
        return positions;
    }

    /** Validity of the first {@code total} keys of each row, [batch * total]; null when every key is real. */
    boolean[] keyValid(int total) {
        boolean[] out = new boolean[batch * total];
        boolean all = true;
        for (int b = 0; b < batch; b++) {
            System.arraycopy(keyValid, b * capacity, out, b * total, total);
            for (int j = 0; j < total && all; j++) {
                all = out[b * total + j];
            }
        }
        return all ? null : out;
    }

    /** Positions taken so far in each row (real tokens and the prefix's), the next position id. */
    int[] realTokens() {
        return realTokens.clone();
    }

    /** One layer's keys and values, [B*H, capacity, hs] each. */
    static final class Layer {
        private final int batch;
        private final int heads;
        private final int capacity;
        private final int headSize;
        INDArray k;
        INDArray v;
        private INDArray hostOf;     // the k for which hostK and hostV were cut (reorder and compact replace k, v)
        private ByteBuffer hostK;
        private ByteBuffer hostV;

        Layer(int batch, int heads, int capacity, int headSize, DataType type) {
            this(batch, heads, capacity, headSize, type, null);
        }

        Layer(int batch, int heads, int capacity, int headSize, DataType type, Activations.Pool pool) {
            this.batch = batch;
            this.heads = heads;
            this.capacity = capacity;
            this.headSize = headSize;
            this.k = pool == null ? Nd4j.create(type, (long) batch * heads, capacity, headSize)
                    : pool.take(type, (long) batch * heads, capacity, headSize);
            this.v = pool == null ? Nd4j.create(type, (long) batch * heads, capacity, headSize)
                    : pool.take(type, (long) batch * heads, capacity, headSize);
        }

        /** The keys' host memory, [B*H, capacity, hs] float32 little-endian, for the one-token attention kernel. */
        ByteBuffer hostKeys() {
            cutHostViews();
            return hostK;
        }

        /** The values' host memory, as {@link #hostKeys()}. */
        ByteBuffer hostValues() {
            cutHostViews();
            return hostV;
        }

        int capacity() {
            return capacity;
        }

        private void cutHostViews() {
            if (hostOf != k) {
                hostK = HostBuffers.bytes(k);
                hostV = HostBuffers.bytes(v);
                hostOf = k;
            }
        }

        /** Stores keys and values [B, H, n, hs] at positions {@code start .. start+n}. */
        void append(int start, INDArray keys, INDArray values) {
            int n = (int) keys.size(2);
            slot(k, start, n).assign(keys);
            slot(v, start, n).assign(values);
        }

        /** Stores the same keys and values [P, C] (heads side by side) in every row at positions start..start+P. */
        void fill(int start, INDArray keys, INDArray values) {
            int p = (int) keys.size(0);
            INDArray k4 = keys.castTo(k.dataType()).reshape(p, heads, headSize).permute(1, 0, 2);  // [H, P, hs]
            INDArray v4 = values.castTo(v.dataType()).reshape(p, heads, headSize).permute(1, 0, 2);
            INDArray kStore = k.reshape(batch, heads, capacity, headSize);
            INDArray vStore = v.reshape(batch, heads, capacity, headSize);
            for (int b = 0; b < batch; b++) {
                kStore.get(point(b), all(), interval(start, start + p), all()).assign(k4);
                vStore.get(point(b), all(), interval(start, start + p), all()).assign(v4);
            }
        }

        private INDArray slot(INDArray store, int start, int n) {
            return store.reshape(batch, heads, capacity, headSize).get(all(), all(), interval(start, start + n), all());
        }

        /** Keys of the first {@code total} positions, [B*H, total, hs] (a view). */
        INDArray keys(int total) {
            return total == capacity ? k : k.get(all(), interval(0, total), all());
        }

        INDArray values(int total) {
            return total == capacity ? v : v.get(all(), interval(0, total), all());
        }

        void reorder(int[] rows) {
            int[] bh = new int[batch * heads];
            for (int i = 0; i < batch; i++) {
                for (int h = 0; h < heads; h++) {
                    bh[i * heads + h] = rows[i] * heads + h;
                }
            }
            k = gatherRows(k, bh);
            v = gatherRows(v, bh);
        }

        /** Copies {@code n} positions of every head of {@code source}'s row into this layer's row. */
        void copyRun(Layer source, int sourceRow, int sourceStart, int row, int start, int n) {
            k.get(interval(row * heads, (row + 1) * heads), interval(start, start + n), all())
                    .assign(source.k.get(interval(sourceRow * heads, (sourceRow + 1) * heads),
                            interval(sourceStart, sourceStart + n), all()));
            v.get(interval(row * heads, (row + 1) * heads), interval(start, start + n), all())
                    .assign(source.v.get(interval(sourceRow * heads, (sourceRow + 1) * heads),
                            interval(sourceStart, sourceStart + n), all()));
        }

        /** Destination position row i of [B*H*capacity, hs] becomes source position row {@code from[i]}. */
        void gatherPositions(int[] from) {
            k = Nd4j.pullRows(k.reshape((long) batch * heads * capacity, headSize), 1, from)
                    .reshape((long) batch * heads, capacity, headSize);
            v = Nd4j.pullRows(v.reshape((long) batch * heads * capacity, headSize), 1, from)
                    .reshape((long) batch * heads, capacity, headSize);
        }

        private INDArray gatherRows(INDArray store, int[] rows) {
            long per = (long) capacity * headSize;
            INDArray flat = store.reshape(store.size(0), per);
            return Nd4j.pullRows(flat, 1, rows).reshape(store.size(0), capacity, headSize);
        }
    }

    @Override
    public String toString() {
        return "KvCache[batch " + batch + ", " + length + "/" + capacity + " positions, real " + Arrays.toString(
                realTokens) + "]";
    }
}
