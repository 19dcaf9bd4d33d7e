package dev.attune.core.model;

import dev.attune.core.engine.Engine;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Locale;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * GEMM straight into the BLAS ND4J loaded (MKL or OpenBLAS, through JavaCPP's cblas binding), for float32 on the
 * CPU backend. ND4J's Mmul op costs tens of microseconds of bookkeeping per call, which dominated small models;
 * CBLAS takes row-major strided views and transposes as they are, so no operand is copied.
 */
final class HostGemm {

    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int TRANS = 112;

    /** Set by tests to run batched products one matrix at a time even where MKL's batched call is available. */
    static volatile boolean forceOneByOne = false;

    private HostGemm() {
    }

    /** Whether batched products go to MKL's batched call (MKL is the BLAS and has it). */
    static boolean batchedCall() {
        return Batched.SGEMM != null;
    }

    /** How a matrix (the last two axes) sits in memory: row-major with a leading dimension, or transposed. */
    private record Layout(boolean transposed, int ld, long batchStride, long extent) {

        static Layout of(INDArray x) {
            int rank = x.rank();
            long rows = x.size(rank - 2);
            long cols = x.size(rank - 1);
            long s0 = x.stride(rank - 2);
            long s1 = x.stride(rank - 1);
            long batchStride = rank == 3 ? x.stride(0) : 0;
            if ((s1 == 1 || cols == 1) && (rows == 1 || s0 >= cols)) {
                int ld = (int) Math.max(rows == 1 ? cols : s0, 1);
                return new Layout(false, ld, batchStride, (rows - 1) * ld + cols);
            }
            if ((s0 == 1 || rows == 1) && (cols == 1 || s1 >= rows)) {
                int ld = (int) Math.max(cols == 1 ? rows : s1, 1);
                return new Layout(true, ld, batchStride, (cols - 1) * ld + rows);
            }
            return null;
        }
    }

    /**
     * {@code c = alpha op(a) op(b) + beta c} for rank-2 or batched rank-3 operands; returns false, having done nothing,
     * when a layout is not one CBLAS takes (the caller then uses ND4J's op).
     */
    static boolean gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha, double beta) {
        int rank = c.rank();
        if ((rank != 2 && rank != 3) || a.rank() != rank || b.rank() != rank) {
            return false;
        }
        Layout la = Layout.of(a);
        Layout lb = Layout.of(b);
        Layout lc = Layout.of(c);
        if (la == null || lb == null || lc == null || lc.transposed()) {
            return false;
        }
        long batches = rank == 3 ? c.size(0) : 1;
        if (rank == 3 && (a.size(0) != batches || b.size(0) != batches)) {
            return false;
        }
        int m = (int) c.size(rank - 2);
        int n = (int) c.size(rank - 1);
        int k = (int) (transA ? a.size(rank - 2) : a.size(rank - 1));
        long kb = transB ? b.size(rank - 1) : b.size(rank - 2);
        long ma = transA ? a.size(rank - 1) : a.size(rank - 2);
        long nb = transB ? b.size(rank - 2) : b.size(rank - 1);
        if (kb != k || ma != m || nb != n) {
            throw new IllegalArgumentException("gemm shapes do not match: " + java.util.Arrays.toString(a.shape())
                    + (transA ? "^T" : "") + " x " + java.util.Arrays.toString(b.shape()) + (transB ? "^T" : "")
                    + " -> " + java.util.Arrays.toString(c.shape()));
        }
        int opA = (transA ^ la.transposed()) ? TRANS : NO_TRANS;
        int opB = (transB ^ lb.transposed()) ? TRANS : NO_TRANS;
        FloatPointer pa = new FloatPointer(a.data().pointer());
        FloatPointer pb = new FloatPointer(b.data().pointer());
        FloatPointer pc = new FloatPointer(c.data().pointer());
        if (batches > 1 && !forceOneByOne && Batched.SGEMM != null && Batched.fits(la) && Batched.fits(lb) && Batched.fits(lc)) {
            pa.position(a.offset());
            pb.position(b.offset());
            pc.position(c.offset());
            try {
                Batched.SGEMM.invokeExact(ROW_MAJOR, opA, opB, m, n, k, (float) alpha, pa, la.ld(),
                        (int) la.batchStride(), pb, lb.ld(), (int) lb.batchStride(), (float) beta, pc, lc.ld(),
                        (int) lc.batchStride(), (int) batches);
            } catch (Throwable e) {
                throw new IllegalStateException("MKL's cblas_sgemm_batch_strided failed", e);
            }
            return true;
        }
        for (long i = 0; i < batches; i++) {
            pa.position(a.offset() + i * la.batchStride());
            pb.position(b.offset() + i * lb.batchStride());
            pc.position(c.offset() + i * lc.batchStride());
            openblas_nolapack.cblas_sgemm(ROW_MAJOR, opA, opB, m, n, k, (float) alpha, pa, la.ld(), pb, lb.ld(),
                    (float) beta, pc, lc.ld());
        }
        return true;
    }

    /**
     * MKL's {@code cblas_sgemm_batch_strided}, where MKL is the BLAS ND4J loaded (null otherwise, and OpenBLAS 0.3.19
     * has no batched GEMM). Attention's products are 48 small GEMMs each (batch x heads, [128, 64] by [64, 128] for
     * GPT-2 at T=128): one call per matrix paid MKL's threading start-up each time, and one batched call ran the same
     * work 2-4x faster (measured, 2 threads). Looked up reflectively: the core compiles without MKL (the CUDA build).
     */
    private static final class Batched {

        static final MethodHandle SGEMM = lookup();

        private Batched() {
        }

        /** A batch stride MKL takes: an int, consecutive matrices apart (overlapping or repeated ones go one by one). */
        static boolean fits(Layout l) {
            return l.batchStride() <= Integer.MAX_VALUE && l.batchStride() >= l.extent();
        }

        private static MethodHandle lookup() {
            if (!Engine.init().blas().toLowerCase(Locale.ROOT).contains("mkl")) {
                return null;
            }
            try {
                Class<?> rt = Class.forName("org.bytedeco.mkl.global.mkl_rt");
                return MethodHandles.publicLookup().findStatic(rt, "cblas_sgemm_batch_strided",
                        MethodType.methodType(void.class, int.class, int.class, int.class, int.class, int.class,
                                int.class, float.class, FloatPointer.class, int.class, int.class, FloatPointer.class,
                                int.class, int.class, float.class, FloatPointer.class, int.class, int.class,
                                int.class));
            } catch (ReflectiveOperationException | LinkageError e) {
                return null;    // an MKL build without the batched call: one call per matrix, as before
            }
        }
    }
}
