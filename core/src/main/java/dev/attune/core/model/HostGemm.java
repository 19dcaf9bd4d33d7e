package dev.attune.core.model;

import dev.attune.core.engine.Engine;
import dev.attune.core.engine.StepTeam;
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
 *
 * <p>Small products (up to {@link #SMALL_MACS} multiply-adds each) run with MKL held to one thread on the calling
 * thread, and a batch of them, or the rows of a single one, is split over the engine's threads here. MKL's own
 * threading costs tens of microseconds per call whatever the size: a 64x64x32 product took 61-70 us on two threads
 * against 3.3 us on one (2026-12-02, this VM, busy), and the tiny model issued 384 of them a step (the attention
 * heads); its projections (8-34 M multiply-adds) also ran faster on one MKL thread per half than on MKL's two.
 * Splitting in Java also leaves no MKL thread spinning beside the Java kernels that follow each product. Batches of
 * larger products go to MKL's batched call ({@link Batched}); since the small path, that call serves only those.
 */
final class HostGemm {

    private static final int ROW_MAJOR = 101;
    static final int NO_TRANS = 111;
    static final int TRANS = 112;

    /** Products up to this many multiply-adds take the small path: all of a tiny model's, and attention's heads. */
    static final long SMALL_MACS = 1L << 26;
    /**
     * A single product with fewer rows than this keeps MKL's own threading: it reads each weight once for all its
     * rows, so splitting its rows over threads would read the weights once per thread, and with one row (the float32
     * LM head of batch-1 decoding: 1 x 50,257 x 768, under {@link #SMALL_MACS}) one thread would read all 154 MB
     * alone. (On the quiet machine, 2026-12-02, 3 alternating runs each could not resolve the difference in decoding
     * speed: 27-37 ms a step with either path.)
     */
    static final int SMALL_MIN_ROWS = 64;
    /** The least work worth handing to another thread (a thread hand-off costs a few microseconds). */
    private static final long MIN_TASK_MACS = 1L << 21;

    /** MKL's {@code MKL_Set_Num_Threads_Local}, or null where the BLAS is not MKL (the CUDA build has no MKL). */
    private static final MethodHandle SET_LOCAL_THREADS = localThreads();

    /** Set by tests to run batched products one matrix at a time even where MKL's batched call is available. */
    static volatile boolean forceOneByOne = false;

    /** Set by tests (and speed comparisons) to split every single product by rows, wide ones too. */
    static volatile boolean rowBlocksOnly = false;

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
        return gemm(a, transA, b, transB, c, alpha, beta, null, null);
    }

    /**
     * As {@link #gemm(INDArray, boolean, INDArray, boolean, INDArray, double, double)}, with {@code before} run on
     * rows of c just before the product writes them and {@code after} just after (either may be null; rank-2 c
     * only): a split product runs them on each of its row blocks on the thread that computes the block, so that a
     * row-wise pass (the bias, GELU) needs no pass of its own over the team and finds its rows in cache. Each row is
     * in exactly one call of each, so row-wise work gives the same bits however the rows were split.
     */
    static boolean gemm(INDArray a, boolean transA, INDArray b, boolean transB, INDArray c, double alpha, double beta,
                        StepTeam.RowRange before, StepTeam.RowRange after) {
        int rank = c.rank();
        if ((before != null || after != null) && rank != 2) {
            throw new IllegalArgumentException("row hooks need a rank-2 product, got rank " + rank);
        }
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
        if (!smallPath(batches, m, n, k)) {
            if (before != null) {
                Ops.split(m, 4, before);    // MKL's own threads for the product, the engine's for the rows
            }
            FloatPointer pa = new FloatPointer(a.data().pointer());
            FloatPointer pb = new FloatPointer(b.data().pointer());
            FloatPointer pc = new FloatPointer(c.data().pointer());
            if (batches > 1 && !forceOneByOne && Batched.SGEMM != null && Batched.fits(la) && Batched.fits(lb)
                    && Batched.fits(lc)) {
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
                sgemm(opA, opB, m, n, k, (float) alpha, pa, a.offset() + i * la.batchStride(), la.ld(),
                        pb, b.offset() + i * lb.batchStride(), lb.ld(), (float) beta,
                        pc, c.offset() + i * lc.batchStride(), lc.ld());
            }
            if (after != null) {
                Ops.split(m, 4, after);
            }
            return true;
        }
        if (batches > 1) {
            long macs = (long) m * n * k;
            Ops.split((int) batches, (int) Math.max(1, MIN_TASK_MACS / Math.max(1, macs)), (from, to) -> {
                FloatPointer pa = new FloatPointer(a.data().pointer());
                FloatPointer pb = new FloatPointer(b.data().pointer());
                FloatPointer pc = new FloatPointer(c.data().pointer());
                int previous = oneThread();
                try {
                    for (long i = from; i < to; i++) {
                        sgemm(opA, opB, m, n, k, (float) alpha, pa, a.offset() + i * la.batchStride(), la.ld(),
                                pb, b.offset() + i * lb.batchStride(), lb.ld(), (float) beta,
                                pc, c.offset() + i * lc.batchStride(), lc.ld());
                    }
                } finally {
                    restoreThreads(previous);
                }
            });
            return true;
        }
        if (before == null && after == null && n > m && !rowBlocksOnly) {
            // Wider than tall (the weight gradients x^T dy of c_attn and c_fc: [128, 384] and [128, 512] from 512
            // rows): split by columns. Each block's call packs all of the operand it does not split, and op(b) is
            // then the larger one (dy, up to [512, 512]); by columns each thread packs half of it and all of op(a).
            int parts = Math.max(1, Math.min(Engine.init().threads(),
                    n / (int) Math.max(1, MIN_TASK_MACS / Math.max(1, (long) m * k))));
            Ops.parts(parts, (first, last) -> {
                int from = (int) ((long) n * first / parts);
                int to = (int) ((long) n * last / parts);
                FloatPointer pa = new FloatPointer(a.data().pointer());
                FloatPointer pb = new FloatPointer(b.data().pointer());
                FloatPointer pc = new FloatPointer(c.data().pointer());
                // Column j of op(b): column j of b stored as is, row j of b stored transposed.
                long bColumn = opB == NO_TRANS ? 1 : lb.ld();
                int previous = oneThread();
                try {
                    sgemm(opA, opB, m, to - from, k, (float) alpha, pa, a.offset(), la.ld(),
                            pb, b.offset() + from * bColumn, lb.ld(), (float) beta, pc, c.offset() + from, lc.ld());
                } finally {
                    restoreThreads(previous);
                }
            });
            return true;
        }
        // One product: its rows (of op(a) and c) in as many blocks as threads, not more: each call packs op(b)
        // again. Block i is the rows [i m / parts, (i + 1) m / parts).
        int parts = Math.max(1, Math.min(Engine.init().threads(),
                m / (int) Math.max(1, MIN_TASK_MACS / Math.max(1, (long) n * k))));
        Ops.parts(parts, (first, last) -> {
            int from = (int) ((long) m * first / parts);
            int to = (int) ((long) m * last / parts);
            FloatPointer pa = new FloatPointer(a.data().pointer());
            FloatPointer pb = new FloatPointer(b.data().pointer());
            FloatPointer pc = new FloatPointer(c.data().pointer());
            // Row i of op(a): row i of a stored as is, column i of a stored transposed.
            long aRow = opA == NO_TRANS ? la.ld() : 1;
            if (before != null) {
                before.run(from, to);
            }
            int previous = oneThread();
            try {
                sgemm(opA, opB, to - from, n, k, (float) alpha, pa, a.offset() + from * aRow, la.ld(),
                        pb, b.offset(), lb.ld(), (float) beta, pc, c.offset() + (long) from * lc.ld(), lc.ld());
            } finally {
                restoreThreads(previous);
            }
            if (after != null) {
                after.run(from, to);
            }
        });
        return true;
    }

    /**
     * Whether a product of {@code batches} matrices, each {@code [m, k] x [k, n]}, takes the small path: MKL can be
     * held to one thread, each matrix is at most {@link #SMALL_MACS} multiply-adds, and a single product has rows
     * enough to split ({@link #SMALL_MIN_ROWS}).
     */
    static boolean smallPath(long batches, int m, int n, int k) {
        return singleThreadable() && (long) m * n * k <= SMALL_MACS && (batches > 1 || m >= SMALL_MIN_ROWS);
    }

    /**
     * One CBLAS product on row-major memory, each operand given as a pointer (its position is set here: one pointer
     * per thread), an element offset and a leading dimension; {@code opA}, {@code opB} are {@link #NO_TRANS} or
     * {@link #TRANS}.
     */
    static void sgemm(int opA, int opB, int m, int n, int k, float alpha, FloatPointer a, long aAt, int lda,
                      FloatPointer b, long bAt, int ldb, float beta, FloatPointer c, long cAt, int ldc) {
        a.position(aAt);
        b.position(bAt);
        c.position(cAt);
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, opA, opB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    /**
     * Whether this thread's BLAS calls can be held to one thread ({@link #oneThread}): with MKL. Small products are
     * then split over Java threads; elsewhere they stay on the caller with the BLAS's own threading.
     */
    static boolean singleThreadable() {
        return SET_LOCAL_THREADS != null;
    }

    /** Holds MKL to one thread on the calling thread; returns the setting to give {@link #restoreThreads}. */
    static int oneThread() {
        return setLocalThreads(1);
    }

    /** Undoes {@link #oneThread} ({@code 0}: MKL's global setting again). */
    static void restoreThreads(int previous) {
        setLocalThreads(previous);
    }

    private static int setLocalThreads(int threads) {
        if (SET_LOCAL_THREADS == null) {
            return 0;
        }
        try {
            return (int) SET_LOCAL_THREADS.invokeExact(threads);
        } catch (Throwable e) {
            throw new IllegalStateException("MKL_Set_Num_Threads_Local failed", e);
        }
    }

    private static MethodHandle localThreads() {
        if (!Engine.init().blas().equalsIgnoreCase("MKL")) {
            return null;
        }
        try {
            Class<?> mkl = Class.forName("org.bytedeco.mkl.global.mkl_rt");
            return MethodHandles.publicLookup().findStatic(mkl, "MKL_Set_Num_Threads_Local",
                    MethodType.methodType(int.class, int.class));
        } catch (ReflectiveOperationException | LinkageError e) {
            return null;    // products keep MKL's own threading
        }
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
