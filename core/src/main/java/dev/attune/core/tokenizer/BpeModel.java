package dev.attune.core.tokenizer;

import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The byte-pair merge engine: a byte-level vocabulary and a ranked list of merges, applied to the bytes of one
 * pre-tokenized piece at a time. Like the original GPT-2 encoder and Hugging Face's BPE model, it repeatedly merges
 * the adjacent pair with the lowest merge rank, leftmost first, until no adjacent pair is a merge.
 *
 * <p>Immutable and thread-safe.
 */
final class BpeModel {

    /** Bytes of each id; null where the vocabulary has no entry for the id. */
    private final byte[][] tokenBytes;
    /** Byte-level spelling of each id (the vocab.json key), null for gaps. */
    private final String[] tokenStrings;
    private final Map<String, Integer> vocab;
    /** Id of the single-byte token for each byte, or -1. */
    private final int[] byteToId = new int[256];
    /** Merges by rank: left id, right id, merged id. */
    private final int[] mergeLeft;
    private final int[] mergeRight;
    private final int[] mergeResult;
    private final PairTable pairs;
    /** Whether a piece that is itself a vocabulary entry skips merging (tokenizer.json {@code ignore_merges}). */
    private final boolean ignoreMerges;

    /**
     * @param vocab  byte-level token string to id
     * @param merges ranked merges as pairs of byte-level token strings; every part and every concatenation must be
     *               in {@code vocab}
     * @throws IllegalArgumentException naming the first merge (by rank, 0-based) that does not fit the vocabulary
     */
    BpeModel(Map<String, Integer> vocab, List<String[]> merges, boolean ignoreMerges) {
        this.ignoreMerges = ignoreMerges;
        int size = 0;
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            int id = e.getValue();
            if (id < 0) {
                throw new IllegalArgumentException("negative token id " + id);
            }
            // arrays are sized by the largest id: one far beyond the entry count is a broken file, not a vocabulary
            if (id >= vocab.size()) {
                throw new IllegalArgumentException("id " + id + " of \"" + e.getKey() + "\" is not below the number "
                        + "of entries (" + vocab.size() + "); ids number the entries from 0");
            }
            size = Math.max(size, id + 1);
        }
        tokenBytes = new byte[size][];
        tokenStrings = new String[size];
        Arrays.fill(byteToId, -1);
        for (Map.Entry<String, Integer> e : vocab.entrySet()) {
            int id = e.getValue();
            if (tokenStrings[id] != null) {
                throw new IllegalArgumentException("id " + id + " is used by both \"" + tokenStrings[id] + "\" and \""
                        + e.getKey() + "\"");
            }
            tokenStrings[id] = e.getKey();
            byte[] bytes = ByteLevel.decodeOrNull(e.getKey());
            if (bytes != null && bytes.length == 1) {
                byteToId[bytes[0] & 0xFF] = id;
            }
            tokenBytes[id] = bytes != null ? bytes : e.getKey().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        }
        this.vocab = Collections.unmodifiableMap(new HashMap<>(vocab));
        int m = merges.size();
        mergeLeft = new int[m];
        mergeRight = new int[m];
        mergeResult = new int[m];
        pairs = new PairTable(m);
        for (int r = 0; r < m; r++) {
            String[] pair = merges.get(r);
            Integer left = vocab.get(pair[0]);
            Integer right = vocab.get(pair[1]);
            Integer merged = vocab.get(pair[0] + pair[1]);
            if (left == null || right == null || merged == null) {
                String missing = left == null ? pair[0] : right == null ? pair[1] : pair[0] + pair[1];
                throw new MergeException(r, "merge \"" + pair[0] + " " + pair[1] + "\" uses \"" + missing
                        + "\", which is not in the vocabulary");
            }
            mergeLeft[r] = left;
            mergeRight[r] = right;
            mergeResult[r] = merged;
            // A repeated merge keeps its first (lowest) rank, as Hugging Face does.
            pairs.putIfAbsent(left, right, r, merged);
        }
    }

    /** A merge that does not fit the vocabulary; {@link #rank} lets file readers name the line. */
    static final class MergeException extends IllegalArgumentException {
        final int rank;

        MergeException(int rank, String message) {
            super(message);
            this.rank = rank;
        }
    }

    int size() {
        return tokenBytes.length;
    }

    /** Bytes of token {@code id}, or null if the id has no vocabulary entry. */
    byte[] bytes(int id) {
        return id >= 0 && id < tokenBytes.length ? tokenBytes[id] : null;
    }

    String tokenString(int id) {
        return id >= 0 && id < tokenStrings.length ? tokenStrings[id] : null;
    }

    Map<String, Integer> vocab() {
        return vocab;
    }

    int mergeCount() {
        return mergeLeft.length;
    }

    int mergeLeft(int rank) {
        return mergeLeft[rank];
    }

    int mergeRight(int rank) {
        return mergeRight[rank];
    }

    boolean ignoreMerges() {
        return ignoreMerges;
    }

    /** Token ids for the UTF-8 bytes of one piece. */
    int[] encode(byte[] bytes) {
        int n = bytes.length;
        if (ignoreMerges && n > 1) {
            Integer whole = vocab.get(ByteLevel.encode(bytes));
            if (whole != null) {
                return new int[] {whole};
            }
        }
        int[] sym = initialSymbols(bytes);
        if (n < 2) {
            return sym;
        }
        return merge(sym, pairs);
    }

    /** The single-byte token of each byte, before any merge. */
    int[] initialSymbols(byte[] bytes) {
        int[] sym = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            int id = byteToId[bytes[i] & 0xFF];
            if (id < 0) {
                throw new IllegalArgumentException(String.format(
                        "byte 0x%02X has no token in this vocabulary (a byte-level vocabulary needs all 256)",
                        bytes[i] & 0xFF));
            }
            sym[i] = id;
        }
        return sym;
    }

    PairTable pairs() {
        return pairs;
    }

    /** The direct quadratic algorithm at any length: the reference the heap version is tested against. */
    static int[] mergeDirect(int[] sym, PairTable pairs) {
        return sym.length < 2 ? sym : mergeShort(sym, pairs);
    }

    /** Applies the merges in {@code pairs} to a sequence of ids (changed in place) and returns the result. */
    static int[] merge(int[] sym, PairTable pairs) {
        return sym.length <= 256 ? mergeShort(sym, pairs) : mergeLong(sym, pairs);
    }

    /** Quadratic in the piece length with tiny constants: right for the words and numbers that make up text. */
    private static int[] mergeShort(int[] sym, PairTable pairs) {
        int n = sym.length;
        long[] pair = new long[n - 1]; // PairTable value of (sym[i], sym[i+1]), or NONE
        for (int i = 0; i < n - 1; i++) {
            pair[i] = pairs.get(sym[i], sym[i + 1]);
        }
        while (n > 1) {
            int best = -1;
            long bestValue = PairTable.NONE;
            for (int i = 0; i < n - 1; i++) {
                if (pair[i] < bestValue) { // values order by rank first
                    bestValue = pair[i];
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            sym[best] = PairTable.merged(bestValue);
            System.arraycopy(sym, best + 2, sym, best + 1, n - best - 2);
            System.arraycopy(pair, best + 1, pair, best, n - best - 2);
            n--;
            if (best > 0) {
                pair[best - 1] = pairs.get(sym[best - 1], sym[best]);
            }
            if (best < n - 1) {
                pair[best] = pairs.get(sym[best], sym[best + 1]);
            }
        }
        return n == sym.length ? sym : Arrays.copyOf(sym, n);
    }

    /**
     * O(n log n) for long pieces (a base64 blob, a run of digits-free punctuation): a heap of (rank, position) with
     * stale entries skipped, over a linked list of symbols. Same result as {@link #mergeShort}.
     */
    private static int[] mergeLong(int[] sym, PairTable pairs) {
        int n = sym.length;
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        LongHeap heap = new LongHeap(n);
        for (int i = 0; i < n - 1; i++) {
            long v = pairs.get(sym[i], sym[i + 1]);
            if (v != PairTable.NONE) {
                heap.add((long) PairTable.rank(v) << 32 | i);
            }
        }
        int alive = n;
        while (!heap.isEmpty()) {
            long top = heap.poll();
            int pos = (int) top;
            int rank = (int) (top >>> 32);
            if (sym[pos] < 0 || next[pos] < 0) {
                continue;
            }
            long v = pairs.get(sym[pos], sym[next[pos]]);
            if (v == PairTable.NONE || PairTable.rank(v) != rank) {
                continue; // stale: one side was merged since this entry was pushed
            }
            int right = next[pos];
            sym[pos] = PairTable.merged(v);
            sym[right] = -1;
            next[pos] = next[right];
            if (next[pos] >= 0) {
                prev[next[pos]] = pos;
            }
            alive--;
            if (prev[pos] >= 0) {
                long pv = pairs.get(sym[prev[pos]], sym[pos]);
                if (pv != PairTable.NONE) {
                    heap.add((long) PairTable.rank(pv) << 32 | prev[pos]);
                }
            }
            if (next[pos] >= 0) {
                long nv = pairs.get(sym[pos], sym[next[pos]]);
                if (nv != PairTable.NONE) {
                    heap.add((long) PairTable.rank(nv) << 32 | pos);
                }
            }
        }
        int[] out = new int[alive];
        int k = 0;
        for (int i = 0; i >= 0; i = next[i]) {
            out[k++] = sym[i];
        }
        return out;
    }

    /**
     * A binary min-heap of primitive longs: a piece of 50 million bytes pushes up to three entries a byte, which as
     * boxed {@code Long}s in a {@code PriorityQueue} took gigabytes and most of the time.
     */
    static final class LongHeap {
        private long[] a;
        private int size;

        LongHeap(int capacity) {
            a = new long[Math.max(16, capacity)];
        }

        boolean isEmpty() {
            return size == 0;
        }

        void add(long v) {
            if (size == a.length) {
                a = Arrays.copyOf(a, (int) Math.min(Integer.MAX_VALUE - 8, a.length + (long) (a.length >> 1) + 16));
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (a[parent] <= v) {
                    break;
                }
                a[i] = a[parent];
                i = parent;
            }
            a[i] = v;
        }

        long poll() {
            long top = a[0];
            long last = a[--size];
            int i = 0;
            int half = size >>> 1;
            while (i < half) {
                int child = 2 * i + 1;
                if (child + 1 < size && a[child + 1] < a[child]) {
                    child++;
                }
                if (last <= a[child]) {
                    break;
                }
                a[i] = a[child];
                i = child;
            }
            if (size > 0) {
                a[i] = last;
            }
            return top;
        }
    }

    /**
     * Open-addressing hash map from a pair of ids to (rank, merged id), packed in one long so that comparing two
     * values compares ranks. Avoids boxing on the hot path.
     */
    static final class PairTable {
        static final long NONE = Long.MAX_VALUE;
        private static final long EMPTY = -1L;
        private final long[] keys;
        private final long[] values;
        private final int mask;

        PairTable(int expected) {
            int cap = Integer.highestOneBit(Math.max(4, expected * 2 - 1)) << 1;
            keys = new long[cap];
            values = new long[cap];
            Arrays.fill(keys, EMPTY);
            mask = cap - 1;
        }

        static int rank(long value) {
            return (int) (value >>> 32);
        }

        static int merged(long value) {
            return (int) value;
        }

        private static int slot(long key, int mask) {
            long h = key * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 29)) & mask;
        }

        void putIfAbsent(int left, int right, int rank, int merged) {
            long key = (long) left << 32 | (right & 0xFFFFFFFFL);
            int i = slot(key, mask);
            while (keys[i] != EMPTY) {
                if (keys[i] == key) {
                    return;
                }
                i = (i + 1) & mask;
            }
            keys[i] = key;
            values[i] = (long) rank << 32 | (merged & 0xFFFFFFFFL);
        }

        long get(int left, int right) {
            long key = (long) left << 32 | (right & 0xFFFFFFFFL);
            int i = slot(key, mask);
            while (true) {
                long k = keys[i];
                if (k == key) {
                    return values[i];
                }
                if (k == EMPTY) {
                    return NONE;
                }
                i = (i + 1) & mask;
            }
        }
    }
}
