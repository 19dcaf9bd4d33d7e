package dev.attune.core.model;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

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
 * tokens (Hugging Face's {@code position_ids = cumsum(mask) - 1}).
 */
public final class KvCache {

    private final int batch;
    private final int capacity;
    private final Layer[] layers;
    private boolean[] keyValid;  // [batch * capacity]
    private int[] realTokens;    // per row: real (non-padding) tokens so far, the next position id
    private int length;

    KvCache(int layers, int batch, int heads, int capacity, int headSize, DataType type) {
        this.batch = batch;
        this.capacity = capacity;
        this.layers = new Layer[layers];
        for (int i = 0; i < layers; i++) {
            this.layers[i] = new Layer(batch, heads, capacity, headSize, type);
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

    /**
     * Forgets every stored position (the buffers are kept for reuse) and, given a prefix, stores its keys and values
     * in the first slots of every row: attended by every later query, taking no position ids.
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
        length = p;
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

    /** Real tokens so far in each row. */
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

        Layer(int batch, int heads, int capacity, int headSize, DataType type) {
            this.batch = batch;
            this.heads = heads;
            this.capacity = capacity;
            this.headSize = headSize;
            this.k = Nd4j.create(type, (long) batch * heads, capacity, headSize);
            this.v = Nd4j.create(type, (long) batch * heads, capacity, headSize);
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
