package dev.attune.core.model;

import dev.attune.core.engine.StepTeam;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Matrix products over compressed weights, read as they are stored (no float copy of the matrix): for output rows
 * {@code o} in {@code [from, to)} of a weight matrix {@code W [out, in]} (one row per output channel) and every row
 * {@code r} of {@code x [rows, in]}, {@code y[r, o] = sum_i x[r, i] W[o, i]}, accumulated in float32.
 *
 * <p>Batch-1 decoding reads every weight once per token, so these loops are bound by memory bandwidth: a weight
 * converts to float in a register (int8: sign-extend and convert; bfloat16: shift into the top half of a float) and
 * meets its input in one fused multiply-add. Weight rows are taken in blocks small enough to stay in L1 while every
 * input row passes over them, so a small batch reads the weights from memory once. Java's Vector API
 * ({@code jdk.incubator.vector}, as llama3.java uses for its Q8_0 matmul) compiles to the CPU's widest vectors;
 * where its byte or short shapes do not exist (128-bit vectors) the scalar loops run instead.
 */
final class PackedKernels {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = F.length();
    /** Whether the narrow species exist: a byte vector of LANES bytes needs at least 64 bits. */
    static final boolean VECTOR = LANES >= 8;
    private static final VectorSpecies<Byte> B = VECTOR ? VectorSpecies.of(byte.class,
            VectorShape.forBitSize(LANES * 8)) : null;
    private static final VectorSpecies<Short> S = VECTOR ? VectorSpecies.of(short.class,
            VectorShape.forBitSize(LANES * 16)) : null;
    private static final VectorSpecies<Integer> I = VectorSpecies.of(int.class, F.vectorShape());
    /** Weight rows per block: 16 rows of GPT-2's widest input (3072 int8, 6144 bf16 bytes) stay in L1. */
    private static final int BLOCK = 16;

    /** Set by tests to run the scalar loops on a machine with vectors. */
    static volatile boolean forceScalar = false;

    private PackedKernels() {
    }

    /**
     * int8 weights {@code q [out, in]} with one scale per {@code group} inputs of each row ({@code scales
     * [out, ceil(in / group)]}).
     */
    static void int8(float[] x, int rows, byte[] q, float[] scales, int in, int out, int group, float[] y,
                     int from, int to) {
        boolean vector = VECTOR && !forceScalar;
        boolean pairs = vector && group == 2 * LANES && in % group == 0;
        for (int o0 = from; o0 < to; o0 += BLOCK) {
            int o1 = Math.min(to, o0 + BLOCK);
            int r = 0;
            if (pairs) {
                for (; r + 4 <= rows; r += 4) {
                    for (int o = o0; o < o1; o++) {
                        int8PairsFourRows(x, r, q, scales, in, out, o, y);
                    }
                }
            }
            for (; r < rows; r++) {
                for (int o = o0; o < o1; o++) {
                    y[r * out + o] = pairs ? int8DotPairs(x, r * in, q, scales, in, o)
                            : vector ? int8Dot(x, r * in, q, scales, in, group, o)
                            : int8DotScalar(x, r * in, q, scales, in, group, o);
                }
            }
        }
    }

    /**
     * Output {@code o} for input rows {@code r .. r+3} at once: each block of weights is converted and scaled once
     * and meets four inputs, so a small batch costs less than four single rows (batched decoding, short prompts).
     */
    private static void int8PairsFourRows(float[] x, int r, byte[] q, float[] scales, int in, int out, int o,
                                          float[] y) {
        int row = o * in;
        int g = o * (in / (2 * LANES));
        int x0 = r * in;
        int x1 = x0 + in;
        int x2 = x1 + in;
        int x3 = x2 + in;
        FloatVector t0 = FloatVector.zero(F);
        FloatVector t1 = t0;
        FloatVector t2 = t0;
        FloatVector t3 = t0;
        for (int i = 0; i < in; i += 2 * LANES, g++) {
            FloatVector s = FloatVector.broadcast(F, scales[g]);
            FloatVector w0 = ((FloatVector) ByteVector.fromArray(B, q, row + i)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(s);
            FloatVector w1 = ((FloatVector) ByteVector.fromArray(B, q, row + i + LANES)
                    .convertShape(VectorOperators.B2F, F, 0)).mul(s);
            int j = i + LANES;
            t0 = w1.fma(FloatVector.fromArray(F, x, x0 + j), w0.fma(FloatVector.fromArray(F, x, x0 + i), t0));
            t1 = w1.fma(FloatVector.fromArray(F, x, x1 + j), w0.fma(FloatVector.fromArray(F, x, x1 + i), t1));
            t2 = w1.fma(FloatVector.fromArray(F, x, x2 + j), w0.fma(FloatVector.fromArray(F, x, x2 + i), t2));
            t3 = w1.fma(FloatVector.fromArray(F, x, x3 + j), w0.fma(FloatVector.fromArray(F, x, x3 + i), t3));
        }
        y[r * out + o] = t0.reduceLanes(VectorOperators.ADD);
        y[(r + 1) * out + o] = t1.reduceLanes(VectorOperators.ADD);
        y[(r + 2) * out + o] = t2.reduceLanes(VectorOperators.ADD);
        y[(r + 3) * out + o] = t3.reduceLanes(VectorOperators.ADD);
    }

    /**
     * The common case, groups of exactly two vectors (32 inputs on AVX-512) and no partial group, unrolled: the
     * general loop's inner loop and tail cost more than half the speed (measured 8 vs 20 GB/s on one core).
     */
    private static float int8DotPairs(float[] x, int xOff, byte[] q, float[] scales, int in, int o) {
        int row = o * in;
        int groupOfRow = o * (in / (2 * LANES));
        FloatVector total = FloatVector.zero(F);
        for (int i = 0, g = groupOfRow; i < in; i += 2 * LANES, g++) {
            FloatVector w0 = (FloatVector) ByteVector.fromArray(B, q, row + i).convertShape(VectorOperators.B2F, F, 0);
            FloatVector w1 = (FloatVector) ByteVector.fromArray(B, q, row + i + LANES)
                    .convertShape(VectorOperators.B2F, F, 0);
            FloatVector acc = w0.mul(FloatVector.fromArray(F, x, xOff + i));
            acc = w1.fma(FloatVector.fromArray(F, x, xOff + i + LANES), acc);
            total = acc.fma(FloatVector.broadcast(F, scales[g]), total);
        }
        return total.reduceLanes(VectorOperators.ADD);
    }

    private static float int8Dot(float[] x, int xOff, byte[] q, float[] scales, int in, int group, int o) {
        int groups = (in + group - 1) / group;
        int row = o * in;
        FloatVector total = FloatVector.zero(F);
        float tail = 0;
        for (int g = 0, g0 = 0; g < groups; g++, g0 += group) {
            int g1 = Math.min(g0 + group, in);
            FloatVector acc = FloatVector.zero(F);
            int i = g0;
            for (; i <= g1 - LANES; i += LANES) {
                FloatVector w = (FloatVector) ByteVector.fromArray(B, q, row + i)
                        .convertShape(VectorOperators.B2F, F, 0);
                acc = w.fma(FloatVector.fromArray(F, x, xOff + i), acc);
            }
            float s = scales[o * groups + g];
            total = acc.fma(FloatVector.broadcast(F, s), total);
            if (i < g1) {
                float t = 0;
                for (; i < g1; i++) {
                    t += q[row + i] * x[xOff + i];
                }
                tail += s * t;
            }
        }
        return total.reduceLanes(VectorOperators.ADD) + tail;
    }

    private static float int8DotScalar(float[] x, int xOff, byte[] q, float[] scales, int in, int group, int o) {
        int groups = (in + group - 1) / group;
        int row = o * in;
        float sum = 0;
        for (int g = 0, g0 = 0; g < groups; g++, g0 += group) {
            int g1 = Math.min(g0 + group, in);
            float t = 0;
            for (int i = g0; i < g1; i++) {
                t += q[row + i] * x[xOff + i];
            }
            sum += scales[o * groups + g] * t;
        }
        return sum;
    }

    /** bfloat16 weights {@code w [out, in]}, the upper 16 bits of float32 values. */
    static void bf16(float[] x, int rows, short[] w, int in, int out, float[] y, int from, int to) {
        boolean vector = VECTOR && !forceScalar;
        for (int o0 = from; o0 < to; o0 += BLOCK) {
            int o1 = Math.min(to, o0 + BLOCK);
            int r = 0;
            if (vector) {
                for (; r + 4 <= rows; r += 4) {
                    for (int o = o0; o < o1; o++) {
                        bf16FourRows(x, r, w, in, out, o, y);
                    }
                }
            }
            for (; r < rows; r++) {
                for (int o = o0; o < o1; o++) {
                    y[r * out + o] = vector ? bf16Dot(x, r * in, w, in, o) : bf16DotScalar(x, r * in, w, in, o, 0);
                }
            }
        }
    }

    /** Output {@code o} for input rows {@code r .. r+3}, each weight vector converted once. */
    private static void bf16FourRows(float[] x, int r, short[] w, int in, int out, int o, float[] y) {
        int row = o * in;
        int x0 = r * in;
        int x1 = x0 + in;
        int x2 = x1 + in;
        int x3 = x2 + in;
        FloatVector t0 = FloatVector.zero(F);
        FloatVector t1 = t0;
        FloatVector t2 = t0;
        FloatVector t3 = t0;
        int i = 0;
        for (; i <= in - LANES; i += LANES) {
            FloatVector v = bf16Vector(w, row + i);
            t0 = v.fma(FloatVector.fromArray(F, x, x0 + i), t0);
            t1 = v.fma(FloatVector.fromArray(F, x, x1 + i), t1);
            t2 = v.fma(FloatVector.fromArray(F, x, x2 + i), t2);
            t3 = v.fma(FloatVector.fromArray(F, x, x3 + i), t3);
        }
        y[r * out + o] = t0.reduceLanes(VectorOperators.ADD) + bf16DotScalar(x, x0, w, in, o, i);
        y[(r + 1) * out + o] = t1.reduceLanes(VectorOperators.ADD) + bf16DotScalar(x, x1, w, in, o, i);
        y[(r + 2) * out + o] = t2.reduceLanes(VectorOperators.ADD) + bf16DotScalar(x, x2, w, in, o, i);
        y[(r + 3) * out + o] = t3.reduceLanes(VectorOperators.ADD) + bf16DotScalar(x, x3, w, in, o, i);
    }

    private static FloatVector bf16Vector(short[] w, int at) {
        return ((IntVector) ShortVector.fromArray(S, w, at).convertShape(VectorOperators.S2I, I, 0))
                .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    private static float bf16Dot(float[] x, int xOff, short[] w, int in, int o) {
        int row = o * in;
        FloatVector acc = FloatVector.zero(F);
        int i = 0;
        for (; i <= in - LANES; i += LANES) {
            acc = bf16Vector(w, row + i).fma(FloatVector.fromArray(F, x, xOff + i), acc);
        }
        return acc.reduceLanes(VectorOperators.ADD) + bf16DotScalar(x, xOff, w, in, o, i);
    }

    private static float bf16DotScalar(float[] x, int xOff, short[] w, int in, int o, int start) {
        int row = o * in;
        float t = 0;
        for (int i = start; i < in; i++) {
            t += Float.intBitsToFloat(w[row + i] << 16) * x[xOff + i];
        }
        return t;
    }

    /**
     * float32 weights {@code w [out, in]} in host memory (little-endian, row {@code o} from byte {@code 4 o in}): the
     * decoding layout of {@link GptModel#forDecoding()}. One row per output channel makes each output one contiguous
     * stream of weights; GPT-2's own {@code [in, out]} layout needs an axpy over rows instead, which read GPT-2
     * small's matrices at 13-20 GB/s against 23-32 GB/s for this loop (2 threads, alternating runs, 2026-12-02).
     */
    static void fp32(float[] x, int rows, ByteBuffer w, int in, int out, float[] y, int from, int to) {
        boolean vector = !forceScalar;
        for (int o0 = from; o0 < to; o0 += BLOCK) {
            int o1 = Math.min(to, o0 + BLOCK);
            int r = 0;
            if (vector) {
                for (; r + 4 <= rows; r += 4) {
                    for (int o = o0; o < o1; o++) {
                        fp32FourRows(x, r, w, in, out, o, y);
                    }
                }
            }
            for (; r < rows; r++) {
                for (int o = o0; o < o1; o++) {
                    y[r * out + o] = vector ? fp32Dot(x, r * in, w, in, o) : fp32DotScalar(x, r * in, w, in, o, 0);
                }
            }
        }
    }

    /** Output {@code o} for input rows {@code r .. r+3}, each weight vector loaded once. */
    private static void fp32FourRows(float[] x, int r, ByteBuffer w, int in, int out, int o, float[] y) {
        int row = 4 * o * in;
        int x0 = r * in;
        int x1 = x0 + in;
        int x2 = x1 + in;
        int x3 = x2 + in;
        FloatVector t0 = FloatVector.zero(F);
        FloatVector t1 = t0;
        FloatVector t2 = t0;
        FloatVector t3 = t0;
        int i = 0;
        for (; i <= in - LANES; i += LANES) {
            FloatVector v = FloatVector.fromByteBuffer(F, w, row + 4 * i, ByteOrder.LITTLE_ENDIAN);
            t0 = v.fma(FloatVector.fromArray(F, x, x0 + i), t0);
            t1 = v.fma(FloatVector.fromArray(F, x, x1 + i), t1);
            t2 = v.fma(FloatVector.fromArray(F, x, x2 + i), t2);
            t3 = v.fma(FloatVector.fromArray(F, x, x3 + i), t3);
        }
        y[r * out + o] = t0.reduceLanes(VectorOperators.ADD) + fp32DotScalar(x, x0, w, in, o, i);
        y[(r + 1) * out + o] = t1.reduceLanes(VectorOperators.ADD) + fp32DotScalar(x, x1, w, in, o, i);
        y[(r + 2) * out + o] = t2.reduceLanes(VectorOperators.ADD) + fp32DotScalar(x, x2, w, in, o, i);
        y[(r + 3) * out + o] = t3.reduceLanes(VectorOperators.ADD) + fp32DotScalar(x, x3, w, in, o, i);
    }

    /**
     * One row's output {@code o}, four independent sums: a single chain of fused multiply-adds waits on its own
     * latency and read the weights at 16-20 GB/s where four chains read 23-34 (the same runs).
     */
    private static float fp32Dot(float[] x, int xOff, ByteBuffer w, int in, int o) {
        int row = 4 * o * in;
        FloatVector a0 = FloatVector.zero(F);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int i = 0;
        for (; i <= in - 4 * LANES; i += 4 * LANES) {
            int b = row + 4 * i;
            a0 = FloatVector.fromByteBuffer(F, w, b, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xOff + i), a0);
            a1 = FloatVector.fromByteBuffer(F, w, b + 4 * LANES, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xOff + i + LANES), a1);
            a2 = FloatVector.fromByteBuffer(F, w, b + 8 * LANES, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xOff + i + 2 * LANES), a2);
            a3 = FloatVector.fromByteBuffer(F, w, b + 12 * LANES, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xOff + i + 3 * LANES), a3);
        }
        for (; i <= in - LANES; i += LANES) {
            a0 = FloatVector.fromByteBuffer(F, w, row + 4 * i, ByteOrder.LITTLE_ENDIAN)
                    .fma(FloatVector.fromArray(F, x, xOff + i), a0);
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(VectorOperators.ADD) + fp32DotScalar(x, xOff, w, in, o, i);
    }

    private static float fp32DotScalar(float[] x, int xOff, ByteBuffer w, int in, int o, int start) {
        int row = 4 * o * in;
        float t = 0;
        for (int i = start; i < in; i++) {
            t += w.getFloat(row + 4 * i) * x[xOff + i];
        }
        return t;
    }

    /**
     * A product's input and output rows over Java arrays, kept per thread and grown as needed: a decoding step's or a
     * prompt's fresh arrays (up to 32 x 3072 floats, several a step) were a visible share of its time while the Java
     * heap still grew into untouched memory. Returns {x, y} with at least {@code xFloats} and {@code yFloats}.
     */
    static float[][] rowsScratch(int xFloats, int yFloats) {
        float[][] scratch = ROWS_SCRATCH.get();
        if (scratch[0].length < xFloats) {
            scratch[0] = new float[xFloats];
        }
        if (scratch[1].length < yFloats) {
            scratch[1] = new float[yFloats];
        }
        return scratch;
    }

    private static final ThreadLocal<float[][]> ROWS_SCRATCH = ThreadLocal.withInitial(
            () -> new float[][] {new float[0], new float[0]});

    /** Fills {@code y}'s columns {@code [from, to)} for every row: one kernel call over a range of output rows. */
    @FunctionalInterface
    interface OutputRange {
        void run(int from, int to);
    }

    /**
     * {@code y [rows, out] = kernel + bias}, then GELU when {@code gelu}: the output rows split over the engine's
     * threads, each part adding the bias to its own outputs (and applying GELU) while they are in cache.
     */
    static void product(int rows, int out, float[] y, float[] bias, boolean gelu, OutputRange kernel) {
        StepTeam.rows(out, 64, 16, (from, to) -> {
            kernel.run(from, to);
            if (bias != null || gelu) {
                for (int r = 0; r < rows; r++) {
                    for (int o = r * out + from, end = r * out + to, j = from; o < end; o++, j++) {
                        float v = bias == null ? y[o] : y[o] + bias[j];
                        y[o] = gelu ? RowKernels.gelu(v) : v;
                    }
                }
            }
        });
    }

    /** Row {@code o} of int8 weights as floats, {@code q * scale}, into {@code dst[offset ..]}. */
    static void int8Row(byte[] q, float[] scales, int in, int group, int o, float[] dst, int offset) {
        int groups = (in + group - 1) / group;
        int row = o * in;
        int i = 0;
        if (VECTOR && !forceScalar && group % LANES == 0) {
            for (; i <= in - LANES; i += LANES) {
                FloatVector s = FloatVector.broadcast(F, scales[o * groups + i / group]);
                ((FloatVector) ByteVector.fromArray(B, q, row + i).convertShape(VectorOperators.B2F, F, 0)).mul(s)
                        .intoArray(dst, offset + i);
            }
        }
        for (; i < in; i++) {
            dst[offset + i] = q[row + i] * scales[o * groups + i / group];
        }
    }

    /** Row {@code o} of bfloat16 weights as floats into {@code dst[offset ..]}. */
    static void bf16Row(short[] w, int in, int o, float[] dst, int offset) {
        int row = o * in;
        int i = 0;
        if (VECTOR && !forceScalar) {
            for (; i <= in - LANES; i += LANES) {
                bf16Vector(w, row + i).intoArray(dst, offset + i);
            }
        }
        for (; i < in; i++) {
            dst[offset + i] = Float.intBitsToFloat(w[row + i] << 16);
        }
    }

    // ------------------------------------------------------------------ attention of one query over the KV store

    /** {@code sum_i a[aOff + i] b[i]} for {@code n} floats of {@code b} from byte {@code bOff} (little-endian). */
    static float dot(float[] a, int aOff, ByteBuffer b, int bOff, int n) {
        int i = 0;
        float sum = 0;
        if (!forceScalar) {
            FloatVector acc = FloatVector.zero(F);
            for (; i <= n - LANES; i += LANES) {
                acc = FloatVector.fromArray(F, a, aOff + i)
                        .fma(FloatVector.fromByteBuffer(F, b, bOff + 4 * i, ByteOrder.LITTLE_ENDIAN), acc);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            sum += a[aOff + i] * b.getFloat(bOff + 4 * i);
        }
        return sum;
    }

    /** {@code out[i] += s v[i]} for {@code n} floats of {@code v} from byte {@code vOff} (little-endian). */
    static void addScaled(float[] out, ByteBuffer v, int vOff, float s, int n) {
        int i = 0;
        if (!forceScalar) {
            FloatVector scale = FloatVector.broadcast(F, s);
            for (; i <= n - LANES; i += LANES) {
                FloatVector.fromByteBuffer(F, v, vOff + 4 * i, ByteOrder.LITTLE_ENDIAN)
                        .fma(scale, FloatVector.fromArray(F, out, i)).intoArray(out, i);
            }
        }
        for (; i < n; i++) {
            out[i] += s * v.getFloat(vOff + 4 * i);
        }
    }
}
