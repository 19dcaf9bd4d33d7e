package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@link HostGemm#gemm} against a product computed in double precision by plain loops: every transpose, single
 * products large enough to be split by rows over threads, batches split over threads, and operands that are strided
 * views (columns of a wider buffer, as attention's heads are), with beta = 0 and beta = 1.
 */
class HostGemmSmallTest {

    @ParameterizedTest(name = "{0}x{1}x{2} batch {3} transA {4} transB {5}")
    @CsvSource({
        "256, 128, 128, 1, false, false",   // 4 M multiply-adds: split by rows
        "256, 128, 128, 1, true, false",
        "256, 128, 128, 1, false, true",
        "256, 128, 128, 1, true, true",
        "7, 5, 3, 1, false, false",         // one task
        "64, 64, 32, 32, false, true",      // a batch of attention-sized products
        "64, 32, 64, 32, true, false",
        "33, 17, 9, 5, true, true",
    })
    void matchesPlainLoops(int m, int n, int k, int batch, boolean transA, boolean transB) {
        SplittableRandom rng = new SplittableRandom(m * 31L + n * 7L + k + batch);
        // Each operand is a view of the left columns of a wider buffer, so its leading dimension is not its width.
        INDArray a = view(rng, batch, transA ? k : m, transA ? m : k);
        INDArray b = view(rng, batch, transB ? n : k, transB ? k : n);
        INDArray c = view(rng, batch, m, n);
        INDArray c0 = c.dup();
        for (double beta : new double[] {0.0, 1.0}) {
            c.assign(c0);
            assertThat(HostGemm.gemm(a, transA, b, transB, c, 0.5, beta)).isTrue();
            double worst = 0;
            for (int i = 0; i < batch; i++) {
                for (int r = 0; r < m; r++) {
                    for (int col = 0; col < n; col++) {
                        double sum = 0;
                        for (int j = 0; j < k; j++) {
                            sum += at(a, i, transA ? j : r, transA ? r : j) * at(b, i, transB ? col : j, transB ? j : col);
                        }
                        double expected = 0.5 * sum + beta * at(c0, i, r, col);
                        worst = Math.max(worst, Math.abs(expected - at(c, i, r, col)));
                    }
                }
            }
            assertThat(worst).as("beta %s", beta).isLessThan(1e-4);
        }
    }

    /**
     * Which products take the small path (where MKL is the BLAS; elsewhere none does): the tiny model's projections
     * and attention heads do; decoding's few rows against GPT-2's weights keep MKL's threading (one thread would read the weights alone, or
     * each thread would read all of them), and so do products above the size bound.
     */
    @org.junit.jupiter.api.Test
    void fewRowsAndLargeProductsKeepMklsThreading() {
        if (!HostGemm.singleThreadable()) {
            // without MKL's per-thread setting nothing can be held to one thread: every product keeps the BLAS's own
            assertThat(HostGemm.smallPath(32, 64, 64, 32)).isFalse();
            assertThat(HostGemm.smallPath(1, 512, 384, 128)).isFalse();
            return;
        }
        assertThat(HostGemm.smallPath(1, 512, 384, 128)).as("tiny model's c_attn, B8 T64").isTrue();
        assertThat(HostGemm.smallPath(32, 64, 64, 32)).as("tiny model's attention heads").isTrue();
        assertThat(HostGemm.smallPath(1, 1, 2304, 768)).as("GPT-2 c_attn, batch-1 decoding").isFalse();
        assertThat(HostGemm.smallPath(1, 8, 3072, 768)).as("GPT-2 c_fc, batch-8 decoding").isFalse();
        assertThat(HostGemm.smallPath(1, HostGemm.SMALL_MIN_ROWS, 2, 2)).isTrue();
        assertThat(HostGemm.smallPath(1, 512, 2304, 768)).as("GPT-2 c_attn, B4 T128: above the bound").isFalse();
    }

    /** A [batch, rows, cols] (or [rows, cols] when batch is 1) view of a buffer with 3 more columns. */
    private static INDArray view(SplittableRandom rng, int batch, int rows, int cols) {
        float[] v = new float[batch * rows * (cols + 3)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        if (batch == 1) {
            return Nd4j.createFromArray(v).reshape(rows, cols + 3).get(all(), interval(0, cols));
        }
        return Nd4j.createFromArray(v).reshape(batch, rows, cols + 3).get(all(), all(), interval(0, cols));
    }

    private static double at(INDArray x, int i, int r, int c) {
        return x.rank() == 2 ? x.getDouble(r, c) : x.getDouble(i, r, c);
    }
}
