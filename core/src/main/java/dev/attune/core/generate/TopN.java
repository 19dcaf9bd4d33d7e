package dev.attune.core.generate;

/**
 * The indices of the n largest values of a float array, best first; equal values rank the lower index first.
 * A bounded min-heap keeps it O(length log n), which matters for 50,257-entry logit rows where n is small.
 */
final class TopN {
    private TopN() {
    }

    static int[] indices(float[] values, int n) {
        n = Math.min(n, values.length);
        int[] heap = new int[n]; // heap[0] is the worst kept index
        int size = 0;
        for (int i = 0; i < values.length; i++) {
            if (Float.isNaN(values[i])) {
                continue;
            }
            if (size < n) {
                heap[size] = i;
                siftUp(values, heap, size++);
            } else if (n > 0 && better(values, i, heap[0])) {
                heap[0] = i;
                siftDown(values, heap, size);
            }
        }
        // Pop worst-first into the tail so the result is best-first.
        int[] out = new int[size];
        for (int k = size - 1; k >= 0; k--) {
            out[k] = heap[0];
            heap[0] = heap[--size];
            siftDown(values, heap, size);
        }
        return out;
    }

    /** True when index a ranks above index b. */
    private static boolean better(float[] v, int a, int b) {
        return v[a] > v[b] || (v[a] == v[b] && a < b);
    }

    private static void siftUp(float[] v, int[] heap, int k) {
        while (k > 0) {
            int parent = (k - 1) >>> 1;
            if (!better(v, heap[parent], heap[k])) {
                return;
            }
            swap(heap, parent, k);
            k = parent;
        }
    }

    private static void siftDown(float[] v, int[] heap, int size) {
        int k = 0;
        while (true) {
            int l = 2 * k + 1;
            if (l >= size) {
                return;
            }
            int worst = l;
            if (l + 1 < size && better(v, heap[l], heap[l + 1])) {
                worst = l + 1;
            }
            if (!better(v, heap[k], heap[worst])) {
                return;
            }
            swap(heap, k, worst);
            k = worst;
        }
    }

    private static void swap(int[] a, int i, int j) {
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
