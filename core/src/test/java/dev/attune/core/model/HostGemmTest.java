package dev.attune.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.attune.core.engine.Engine;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Batched products (attention's shapes: strided views of a key/value store, transposed operands, alpha and beta)
 * against a double-precision loop, through MKL's batched call where it is the BLAS and one matrix at a time.
 */
class HostGemmTest {

    @AfterEach
    void restore() {
        HostGemm.forceOneByOne = false;
    }

    private static INDArray random(Random r, long... shape) {
        INDArray x = Nd4j.create(DataType.FLOAT, shape);
        for (long i = 0; i < x.length(); i++) {
            x.putScalar(i, r.nextGaussian());
        }
        return x;
    }

    /** c[b] = alpha op(a[b]) op(b[b]) + beta c0[b], in double precision. */
    private static double[] expected(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c0, double alpha,
                                     double beta) {
        int batches = (int) c0.size(0);
        int m = (int) c0.size(1);
        int n = (int) c0.size(2);
        int k = (int) (ta ? a.size(1) : a.size(2));
        double[] out = new double[batches * m * n];
        for (int q = 0; q < batches; q++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    for (int l = 0; l < k; l++) {
                        double x = ta ? a.getDouble(q, l, i) : a.getDouble(q, i, l);
                        double y = tb ? b.getDouble(q, j, l) : b.getDouble(q, l, j);
                        sum += x * y;
                    }
                    out[(q * m + i) * n + j] = alpha * sum + beta * c0.getDouble(q, i, j);
                }
            }
        }
        return out;
    }

    private static void check(INDArray a, boolean ta, INDArray b, boolean tb, INDArray c, double alpha, double beta) {
        INDArray c0 = c.dup();
        double[] want = expected(a, ta, b, tb, c0, alpha, beta);
        assertTrue(HostGemm.gemm(a, ta, b, tb, c, alpha, beta), "a layout CBLAS takes");
        double[] got = c.dup().reshape(c.length()).toDoubleVector();
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], 1e-5 * Math.max(1, Math.abs(want[i])), "element " + i);
        }
    }

    @Test
    void mklTakesBatchesInOneCall() {
        boolean mkl = Engine.init().blas().toLowerCase(java.util.Locale.ROOT).contains("mkl");
        assertEquals(mkl, HostGemm.batchedCall(), "the batched call is used exactly where MKL is the BLAS");
    }

    @Test
    void everyTransposeOfABatchMatchesTheDoubleLoop() {
        Engine.init();
        Random r = new Random(3);
        for (boolean oneByOne : new boolean[] {false, true}) {
            HostGemm.forceOneByOne = oneByOne;
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 2) != 0;
                boolean tb = (t & 1) != 0;
                INDArray a = ta ? random(r, 6, 9, 5) : random(r, 6, 5, 9);      // op(a) [6, 5, 9]
                INDArray b = tb ? random(r, 6, 7, 9) : random(r, 6, 9, 7);      // op(b) [6, 9, 7]
                check(a, ta, b, tb, random(r, 6, 5, 7), 0.75, t == 0 ? 0.0 : 0.5);
            }
        }
    }

    @Test
    void stridedViewsOfAKeyValueStoreAndPermutedOperandsMatchTheDoubleLoop() {
        Engine.init();
        Random r = new Random(4);
        for (boolean oneByOne : new boolean[] {false, true}) {
            HostGemm.forceOneByOne = oneByOne;
            // keys [B*H, capacity, hs] of which the first L positions are used: batch stride capacity * hs
            INDArray store = random(r, 6, 16, 4);
            INDArray keys = store.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 11), NDArrayIndex.all());
            INDArray q = random(r, 6, 3, 4);
            check(q, false, keys, true, random(r, 6, 3, 11), 0.5, 0.0);                   // scores [6, 3, 11]
            // a transposed view (strides swapped) taken as the operand it is, not copied
            INDArray bt = random(r, 6, 11, 3).permute(0, 2, 1);                            // [6, 3, 11] view
            check(bt, false, keys, false, random(r, 6, 3, 4), 1.0, 1.0);                  // [6, 3, 4]
            // every batch reading the same matrix (batch stride 0) goes one by one: still the right product
            INDArray shared = random(r, 1, 4, 5).broadcast(6, 4, 5);
            check(q, false, shared, false, random(r, 6, 3, 5), 1.0, 0.0);
        }
    }

    /**
     * MKL's batched call against one call per matrix: at attention's shapes (GPT-2 small's 48 heads; these now take
     * the small path on both sides) and above {@link HostGemm#SMALL_MACS}, where the batched call serves.
     */
    @Test
    void theBatchedCallAndTheLoopAgreeToTheLastBitsOnAttentionsShapes() {
        batchedAgreesWithLoop(48, 128, 128, 64);
        long m = 512;
        long k = 512;
        long n = HostGemm.SMALL_MACS / (m * k) + 8;
        assertTrue(m * n * k > HostGemm.SMALL_MACS, "above the small path's bound");
        batchedAgreesWithLoop(2, (int) m, (int) n, (int) k);
    }

    private static void batchedAgreesWithLoop(int batches, int m, int n, int k) {
        Engine.init();
        Random r = new Random(5);
        INDArray q = random(r, batches, m, k);
        INDArray kt = random(r, batches, n, k);
        INDArray batched = Nd4j.create(DataType.FLOAT, batches, m, n);
        INDArray loop = Nd4j.create(DataType.FLOAT, batches, m, n);
        HostGemm.forceOneByOne = false;
        HostGemm.gemm(q, false, kt, true, batched, 0.125, 0.0);
        HostGemm.forceOneByOne = true;
        HostGemm.gemm(q, false, kt, true, loop, 0.125, 0.0);
        float[] x = batched.reshape(batched.length()).toFloatVector();
        float[] y = loop.reshape(loop.length()).toFloatVector();
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            worst = Math.max(worst, Math.abs(x[i] - y[i]) / Math.max(1, Math.abs(y[i])));
        }
        assertTrue(worst < 1e-5, batches + " x " + m + "x" + n + "x" + k + ": batched and one-by-one differ by "
                + worst);
        if (!HostGemm.batchedCall()) {
            assertArrayEquals(y, x, "without MKL both are the same loop");
        }
        assertTrue(x[0] != 0 && x[x.length - 1] != 0, "the product was written");
    }
}
