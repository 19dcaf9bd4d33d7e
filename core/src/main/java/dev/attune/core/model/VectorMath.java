package dev.attune.core.model;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Element-wise kernels over one row in a {@code float[]}: GELU forward and backward, and the sweeps of a softmax
 * and of a softmax cross-entropy. {@code Math.exp} in a scalar loop (about 30 ns an element here) had made GELU a
 * tenth of a GPT-2 training step and a third of a small model's; these use an exp of their own (below) that the
 * vector loops run 16 lanes at a time and the scalar loops one at a time, with the same operations in the same order,
 * so both give bit-identical element values (sums over a row may differ in their last bits: the lanes add in
 * another order).
 *
 * <p>Why both: the Vector API is only fast once the JIT's second tier has compiled the loop; before that it runs
 * hundreds of times slower than plain code, and warming up costs about half a second of CPU. Matrices of at least
 * {@link #VECTOR_MIN_ELEMENTS} elements (training, batch scoring) take the vector loops; the small ones of a short
 * command or a decoding step take the scalar loops, which pay no warm-up. {@link #vectors(long)} decides.
 */
final class VectorMath {

    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int LANES = F.length();
    /** Elements of one matrix from which the vector loops are worth their JIT warm-up. */
    static final long VECTOR_MIN_ELEMENTS = 1 << 17;
    private static final float K = (float) Math.sqrt(2.0 / Math.PI);
    private static final float A = 0.044715f;
    /** Elements summed in float lanes before the partial sum joins a double: a 50k-wide row's sum stays exact to ~1e-7. */
    private static final int SUM_BLOCK = 1024;

    // exp(x) = 2^k e^r with k = round(x / ln 2) and |r| <= ln 2 / 2; ln 2 split so that k * LN2_HI is exact in float
    // (Cody and Waite's reduction), e^r by its Taylor series to r^7 (the next term is below 6e-9).
    private static final float LOG2E = (float) (1 / Math.log(2));
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = (float) (Math.log(2) - 0.693359375);
    private static final float ROUND = 12582912f;  // 1.5 * 2^23: adding and subtracting it rounds to an integer
    /** Added to the bits of {@code k + ROUND}, then shifted into the exponent field: the bits of 2^k. */
    private static final int EXPONENT_BIAS = 127 - Float.floatToRawIntBits(ROUND);
    private static final float LOW = -87.3f;       // clamped so that 2^k stays a normal float: e^-87.3 ~ 1.2e-38
    private static final float HIGH = 88.3f;       // e^88.3 ~ 2.2e38, below Float.MAX_VALUE
    private static final float C2 = 1f / 2;
    private static final float C3 = 1f / 6;
    private static final float C4 = 1f / 24;
    private static final float C5 = 1f / 120;
    private static final float C6 = 1f / 720;
    private static final float C7 = 1f / 5040;

    private VectorMath() {
    }

    /** Whether a matrix of {@code elements} elements takes the vector loops (warming them up the first time). */
    static boolean vectors(long elements) {
        if (LANES < 8 || elements < VECTOR_MIN_ELEMENTS) {
            return false;
        }
        if (!warm) {
            warmUp();
        }
        return true;
    }

    private static volatile boolean warm;

    /**
     * Runs every vector loop on a short row until the JIT has compiled it. Before that each vector operation is an
     * object on the heap: left to the first real matrices, the loops ran a million elements in that state, which
     * cost seconds and, through the garbage, raised a small model's peak RSS by 250 MB. Short rows reach the
     * compiler's invocation threshold after a hundredth of that. Three vector iterations and a scalar tail a call,
     * so the compiled loops have seen their back-edges and their tails taken.
     */
    private static synchronized void warmUp() {
        if (warm) {
            return;
        }
        int n = 3 * LANES + 1;
        float[] a = new float[n];
        float[] b = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (i - n / 2) * 0.25f;
        }
        for (int call = 0; call < WARM_UP_CALLS; call++) {
            gelu(a, b, n, true);
            geluBackward(a, b, n, true);
            softmaxBackward(a, b, n, true);
            scale(b, n, 0.5f, true);
            float max = max(a, n, true);
            System.arraycopy(a, 0, b, 0, n);
            expShiftedSum(b, n, max, true);
        }
        warm = true;
    }

    /** Calls per loop in {@link #warmUp}: above the JIT's tier-4 invocation threshold (5,000 by default). */
    private static final int WARM_UP_CALLS = 12_000;

    /** e^x to about 2 ulp for x in [-87.3, 88.3] (clamped outside it); NaN stays NaN. */
    static float exp(float x) {
        float c = Math.max(LOW, Math.min(HIGH, x));
        float j = c * LOG2E + ROUND;  // k = round(c / ln 2) sits in the low bits of j's mantissa
        float k = j - ROUND;
        float r = Math.fma(k, -LN2_HI, c);
        r = Math.fma(k, -LN2_LO, r);
        float p = Math.fma(r, C7, C6);
        p = Math.fma(p, r, C5);
        p = Math.fma(p, r, C4);
        p = Math.fma(p, r, C3);
        p = Math.fma(p, r, C2);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        return p * Float.intBitsToFloat((Float.floatToRawIntBits(j) + EXPONENT_BIAS) << 23);
    }

    /** The vector form of {@link #exp(float)}, lane by lane the same operations. */
    private static FloatVector exp(FloatVector x) {
        FloatVector c = x.max(LOW).min(HIGH);
        FloatVector j = c.mul(LOG2E).add(ROUND);
        FloatVector k = j.sub(ROUND);
        FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI), c);
        r = k.fma(FloatVector.broadcast(F, -LN2_LO), r);
        FloatVector p = r.fma(C7, C6);
        p = p.fma(r, FloatVector.broadcast(F, C5));
        p = p.fma(r, FloatVector.broadcast(F, C4));
        p = p.fma(r, FloatVector.broadcast(F, C3));
        p = p.fma(r, FloatVector.broadcast(F, C2));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        p = p.fma(r, FloatVector.broadcast(F, 1f));
        IntVector bits = j.reinterpretAsInts().add(EXPONENT_BIAS).lanewise(VectorOperators.LSHL, 23);
        return p.mul(bits.reinterpretAsFloats());
    }

    /**
     * GELU, tanh approximation: {@code o = 0.5 h (1 + tanh(u))} with {@code u = K (h + A h^3)}, computed as
     * {@code h / (1 + exp(-2u))} (the same function: {@code (1 + tanh u) / 2} is the logistic of {@code 2u}).
     */
    static void gelu(float[] h, float[] o, int n, boolean vector) {
        int i = 0;
        if (vector) {
            for (; i < F.loopBound(n); i += LANES) {
                FloatVector v = FloatVector.fromArray(F, h, i);
                FloatVector e = exp(v.mul(v).mul(v).mul(A).add(v).mul(-2f * K));
                v.div(e.add(1f)).intoArray(o, i);
            }
        }
        for (; i < n; i++) {
            float v = h[i];
            float e = exp((v * v * v * A + v) * (-2f * K));
            o[i] = v / (e + 1f);
        }
    }

    /**
     * GELU's backward in place: {@code dg *= d gelu / dh}. With {@code s = 1 / (1 + exp(-2u))},
     * {@code d/dh = 0.5 (1 + t) + 0.5 h (1 - t^2) K (1 + 3A h^2)} becomes {@code s + 2K h s (1 - s) (1 + 3A h^2)}.
     */
    static void geluBackward(float[] h, float[] dg, int n, boolean vector) {
        int i = 0;
        if (vector) {
            for (; i < F.loopBound(n); i += LANES) {
                FloatVector v = FloatVector.fromArray(F, h, i);
                FloatVector v2 = v.mul(v);
                FloatVector e = exp(v2.mul(v).mul(A).add(v).mul(-2f * K));
                FloatVector s = FloatVector.broadcast(F, 1f).div(e.add(1f));
                FloatVector inner = v2.mul(3f * A).add(1f).mul(2f * K);
                FloatVector local = s.neg().add(1f).mul(s).mul(v).mul(inner).add(s);
                FloatVector.fromArray(F, dg, i).mul(local).intoArray(dg, i);
            }
        }
        for (; i < n; i++) {
            float v = h[i];
            float v2 = v * v;
            float e = exp((v2 * v * A + v) * (-2f * K));
            float s = 1f / (e + 1f);
            float inner = (v2 * (3f * A) + 1f) * (2f * K);
            dg[i] *= (-s + 1f) * s * v * inner + s;
        }
    }

    /** The largest of {@code x[0, n)}. */
    static float max(float[] x, int n, boolean vector) {
        int i = 0;
        float max = Float.NEGATIVE_INFINITY;
        if (vector && n >= LANES) {
            FloatVector m = FloatVector.fromArray(F, x, 0);
            for (i = LANES; i < F.loopBound(n); i += LANES) {
                m = m.max(FloatVector.fromArray(F, x, i));
            }
            max = m.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        return max;
    }

    /** {@code x[j] = exp(x[j] - shift)} for {@code j < n}; returns their sum. */
    static double expShiftedSum(float[] x, int n, float shift, boolean vector) {
        double sum = 0;
        int i = 0;
        if (vector) {
            int bound = F.loopBound(n);
            while (i < bound) {
                int blockEnd = Math.min(bound, i + SUM_BLOCK);
                FloatVector acc = FloatVector.zero(F);
                for (; i < blockEnd; i += LANES) {
                    FloatVector e = exp(FloatVector.fromArray(F, x, i).sub(shift));
                    e.intoArray(x, i);
                    acc = acc.add(e);
                }
                sum += acc.reduceLanes(VectorOperators.ADD);
            }
        }
        for (; i < n; i++) {
            x[i] = exp(x[i] - shift);
            sum += x[i];
        }
        return sum;
    }

    /** {@code x[j] *= scale} for {@code j < n}. */
    static void scale(float[] x, int n, float scale, boolean vector) {
        int i = 0;
        if (vector) {
            for (; i < F.loopBound(n); i += LANES) {
                FloatVector.fromArray(F, x, i).mul(scale).intoArray(x, i);
            }
        }
        for (; i < n; i++) {
            x[i] *= scale;
        }
    }

    /** Softmax's backward along one row: {@code d[j] = p[j] (d[j] - sum_k p[k] d[k])}, in place. */
    static void softmaxBackward(float[] p, float[] d, int n, boolean vector) {
        double dot = 0;
        int i = 0;
        if (vector) {
            FloatVector acc = FloatVector.zero(F);
            for (; i < F.loopBound(n); i += LANES) {
                acc = FloatVector.fromArray(F, p, i).fma(FloatVector.fromArray(F, d, i), acc);
            }
            dot = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            dot += p[i] * d[i];
        }
        float dt = (float) dot;
        i = 0;
        if (vector) {
            for (; i < F.loopBound(n); i += LANES) {
                FloatVector.fromArray(F, d, i).sub(dt).mul(FloatVector.fromArray(F, p, i)).intoArray(d, i);
            }
        }
        for (; i < n; i++) {
            d[i] = p[i] * (d[i] - dt);
        }
    }
}
