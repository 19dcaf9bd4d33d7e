package dev.attune.core.model;

import dev.attune.core.engine.Engine;
import dev.attune.core.engine.HostBuffers;
import dev.attune.core.engine.StepTeam;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.blas.params.MMulTranspose;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.reduce.Mmul;
import org.nd4j.linalg.factory.Nd4j;

/** The few ND4J calls every layer needs, in one place. */
final class Ops {

    private static final MMulTranspose[] TRANSPOSES = {
        MMulTranspose.builder().build(),
        MMulTranspose.builder().transposeB(true).build(),
        MMulTranspose.builder().transposeA(true).build(),
        MMulTranspose.builder().transposeA(true).transposeB(true).build(),
    };

    /** Set by tests to run the plain-ND4J path (the one the CUDA backend uses) on the CPU too. */
    static volatile boolean forceNd4jPath = false;

    /**
     * Set by tests to run the row hooks of {@link #gemm(INDArray, boolean, INDArray, boolean, INDArray, double, double,
     * StepTeam.RowRange, StepTeam.RowRange)} and {@link LayerNorm#forwardSum}'s residual add as passes of their own
     * over all rows, as before they were fused: the fused kernels must give the same bits.
     */
    static volatile boolean separatePasses = false;

    private Ops() {
    }

    /** True when the Java kernels over host memory may be used for arrays of this type. */
    static boolean hostKernels(DataType type) {
        return !forceNd4jPath && type == DataType.FLOAT && Engine.isCpu();
    }

    /**
     * {@code c = alpha * op(a) op(b) + beta * c}, for rank-2 or batched rank-3 operands; views with any strides
     * are fine for all three.
     */
    static void gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha, double beta) {
        gemm(a, transA, b, transB, c, alpha, beta, null, null);
    }

    /**
     * As {@link #gemm(INDArray, boolean, INDArray, boolean, INDArray, double, double)} for a rank-2 {@code c}, with
     * row-wise work on c's rows: {@code before} on rows about to be written (c is read by the product where beta is
     * not 0), {@code after} on rows written, each row in exactly one call of each. The host product runs them on its
     * row blocks, on the thread of each block (see {@link HostGemm#gemm}); elsewhere they run over all rows, split
     * over the engine's threads, before and after the product. Either may be null.
     */
    static void gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha, double beta,
                     StepTeam.RowRange before, StepTeam.RowRange after) {
        boolean host = hostKernels(c.dataType());
        if (host && !separatePasses && HostGemm.gemm(a, transA, b, transB, c, alpha, beta, before, after)) {
            return;
        }
        if (before != null) {
            split((int) c.rows(), 4, before);
        }
        // HostGemm declines a layout before running any hook, so it is asked again only where the switch skipped it
        if (!(host && separatePasses && HostGemm.gemm(a, transA, b, transB, c, alpha, beta))) {
            Nd4j.exec(new Mmul(a, b, c, alpha, beta, TRANSPOSES[(transA ? 2 : 0) + (transB ? 1 : 0)]));
        }
        if (after != null) {
            split((int) c.rows(), 4, after);
        }
    }

    /**
     * {@code out = a + b} element-wise, same shapes ({@code out} may be {@code a}): a loop over host memory where the
     * host kernels apply and all three are dense (an ND4J add of the tiny model's [512, 128] took a tenth of its
     * training step under load), ND4J's add elsewhere.
     */
    static void add(INDArray a, INDArray b, INDArray out) {
        if (hostKernels(out.dataType()) && HostBuffers.isDense(a) && HostBuffers.isDense(b) && HostBuffers.isDense(out)
                && a.length() == out.length() && b.length() == out.length()) {
            FloatBuffer x = HostBuffers.floats(a);
            FloatBuffer y = HostBuffers.floats(b);
            FloatBuffer z = HostBuffers.floats(out);
            int n = (int) out.length();
            int chunk = 4096;
            float[] u = new float[Math.min(n, chunk)];
            float[] v = new float[u.length];
            for (int at = 0; at < n; at += chunk) {
                int len = Math.min(chunk, n - at);
                x.get(at, u, 0, len);
                y.get(at, v, 0, len);
                for (int i = 0; i < len; i++) {
                    u[i] += v[i];
                }
                z.put(at, u, 0, len);
            }
            return;
        }
        a.add(b, out);
    }

    /** True when {@code x} is dense in host memory with {@code like}'s shape (rank 2), for the row kernels here. */
    static boolean denseAlike(INDArray x, INDArray like) {
        return x.rank() == 2 && like.rank() == 2 && x.rows() == like.rows() && x.columns() == like.columns()
                && HostBuffers.isDense(x) && HostBuffers.isDense(like);
    }

    /**
     * {@code out = a + b} on a range of rows, all three dense [R, C] in host memory ({@link #denseAlike}; {@code out}
     * may be {@code a}): {@link #add}'s arithmetic as a row hook for {@link #gemm(INDArray, boolean, INDArray,
     * boolean, INDArray, double, double, StepTeam.RowRange, StepTeam.RowRange)}.
     */
    static StepTeam.RowRange addRows(INDArray a, INDArray b, INDArray out) {
        int cols = (int) out.columns();
        FloatBuffer x = HostBuffers.floats(a);
        FloatBuffer y = HostBuffers.floats(b);
        FloatBuffer z = HostBuffers.floats(out);
        return (from, to) -> {
            float[] u = new float[cols];
            float[] v = new float[cols];
            for (int r = from; r < to; r++) {
                x.get(r * cols, u);
                y.get(r * cols, v);
                for (int i = 0; i < cols; i++) {
                    u[i] += v[i];
                }
                z.put(r * cols, u);
            }
        };
    }

    /**
     * Runs {@code body} over {@code [0, rows)} split over the engine's threads, ranges of fewer than
     * {@code 2 minRows} rows on the caller alone: through {@link StepTeam}, whose caller works too and whose helpers
     * stay awake between the ~100 ranges of a small model's training step (a fork-join hand-off cost 12-17 us even
     * with no work, and woke the second thread late: the tiny model's [512, 128] x [128, 512] took 460-545 us split
     * that way against 360-390 us through the team, one MKL thread per half 357-366 us; 2026-12-02, load 2.8).
     * Bodies that sum into shared state must not depend on the ranges they are given: use {@link #parts}.
     */
    static void split(int rows, int minRows, StepTeam.RowRange body) {
        StepTeam.rows(rows, minRows, 1, body);
    }

    /**
     * Runs {@code body} over the parts {@code [0, parts)}, one range of them per call and each part in exactly one
     * call, split over the engine's threads: for work that is cut into a fixed number of pieces (a product's row
     * blocks, one partial sum per piece added up in order afterwards, so results do not depend on which thread ran
     * what).
     */
    static void parts(int parts, StepTeam.RowRange body) {
        if (parts <= 1) {
            body.run(0, parts);
            return;
        }
        StepTeam.rows(parts, 1, 1, body);
    }

    /** {@code x = 0}: a host fill where the host kernels apply and {@code x} is dense, ND4J's assign elsewhere. */
    static void zero(INDArray x) {
        if (hostKernels(x.dataType()) && HostBuffers.isDense(x)) {
            FloatBuffer z = HostBuffers.floats(x);
            int n = (int) x.length();
            float[] zeros = new float[Math.min(n, 4096)];
            for (int at = 0; at < n; at += zeros.length) {
                z.put(at, zeros, 0, Math.min(zeros.length, n - at));
            }
            return;
        }
        x.assign(0);
    }

    /** {@code out[j] (+)= sum_i x[i, j]}: bias gradients. */
    static void sumRows(INDArray x, INDArray out, boolean accumulate) {
        if (hostKernels(out.dataType()) && x.rank() == 2 && HostBuffers.isDense(x) && HostBuffers.isDense(out)
                && out.length() == x.columns()) {
            // A loop here: the GEMM by a row of ones is a single-row product, which keeps MKL's own threading
            // (HostGemm.SMALL_MIN_ROWS) and cost 67-90 us a call at the tiny model's [512, 128..512]. Split by
            // columns, each summed over the rows in order, so the bits do not depend on the split.
            int rows = (int) x.rows();
            int cols = (int) x.columns();
            FloatBuffer xb = HostBuffers.floats(x);
            FloatBuffer ob = HostBuffers.floats(out);
            split(cols, 32, (from, to) -> {
                int width = to - from;
                float[] sum = new float[width];
                float[] row = new float[width];
                if (accumulate) {
                    ob.get(from, sum, 0, width);
                }
                for (int r = 0; r < rows; r++) {
                    xb.get(r * cols + from, row, 0, width);
                    for (int j = 0; j < width; j++) {
                        sum[j] += row[j];
                    }
                }
                ob.put(from, sum, 0, width);
            });
            return;
        }
        INDArray ones = ones(x.dataType(), x.rows());
        gemm(ones, false, x, false, out.reshape(1, out.length()), 1.0, accumulate ? 1.0 : 0.0);
    }

    private static final java.util.Map<String, INDArray> ONES = new java.util.concurrent.ConcurrentHashMap<>();

    /** A cached row of ones, [1, n]: multiplying by it sums rows in one GEMM on every backend. */
    private static INDArray ones(DataType type, long n) {
        return ONES.computeIfAbsent(type + ":" + n, key -> Nd4j.ones(type, 1, n));
    }
}
