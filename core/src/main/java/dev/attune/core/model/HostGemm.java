package dev.attune.core.model;

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

    private HostGemm() {
    }

    /** How a matrix (the last two axes) sits in memory: row-major with a leading dimension, or transposed. */
    private record Layout(boolean transposed, int ld, long batchStride) {

        static Layout of(INDArray x) {
            int rank = x.rank();
            long rows = x.size(rank - 2);
            long cols = x.size(rank - 1);
            long s0 = x.stride(rank - 2);
            long s1 = x.stride(rank - 1);
            long batchStride = rank == 3 ? x.stride(0) : 0;
            if ((s1 == 1 || cols == 1) && (rows == 1 || s0 >= cols)) {
                return new Layout(false, (int) Math.max(rows == 1 ? cols : s0, 1), batchStride);
            }
            if ((s0 == 1 || rows == 1) && (cols == 1 || s1 >= rows)) {
                return new Layout(true, (int) Math.max(cols == 1 ? rows : s1, 1), batchStride);
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
        for (long i = 0; i < batches; i++) {
            pa.position(a.offset() + i * la.batchStride());
            pb.position(b.offset() + i * lb.batchStride());
            pc.position(c.offset() + i * lc.batchStride());
            openblas_nolapack.cblas_sgemm(ROW_MAJOR, opA, opB, m, n, k, (float) alpha, pa, la.ld(), pb, lb.ld(),
                    (float) beta, pc, lc.ld());
        }
        return true;
    }
}
