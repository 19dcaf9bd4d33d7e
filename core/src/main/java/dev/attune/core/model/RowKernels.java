package dev.attune.core.model;

/**
 * Element-wise kernels over one row in a {@code float[]}: GELU forward and backward, and the sweeps of a softmax and
 * of a softmax cross-entropy, with an exp of their own. {@code Math.exp} goes through double precision and costs about
 * 8 ns an element here; this one, float-only, about 6. GELU (a tenth of a GPT-2 training step, a third of a small
 * model's) no longer uses it: its tanh is a rational function, which C2's superword pass vectorises (about 1 ns an
 * element); the exp's float/int bit moves keep C2 to one element at a time.
 *
 * <p>Plain loops on purpose. The Vector API runs these 15 to 20 times faster once compiled, but until the JIT's
 * second tier compiles a loop every vector operation is a heap object: warming the loops up took about a second of
 * CPU and 135 MB of garbage, which raised the peak RSS of a LoRA step at GPT-2 shape by 130 MB (measured 2026-12-02),
 * more than the speed was worth to the memory goals and to short commands.
 */
final class RowKernels {

    private static final float K = (float) Math.sqrt(2.0 / Math.PI);
    private static final float A = 0.044715f;
    /** GELU's input is clamped to [-HC, HC] inside tanh: there {@code u = K (h + A h^3)} is 9.35 and tanh(u) 1 in float. */
    static final float HC = 5.25f;
    // tanh(u) ~ u P(u^2) / Q(u^2), P = 1 + P1 s + ... + P4 s^4, Q likewise: scripts/kernels/fit_tanh.py's output
    private static final float P1 = 0.13383986055850983f;
    private static final float P2 = 0.003499002894386649f;
    private static final float P3 = 2.0661378584918566e-05f;
    private static final float P4 = 1.3419980682272126e-08f;
    private static final float Q1 = 0.4671730697154999f;
    private static final float Q2 = 0.025890231132507324f;
    private static final float Q3 = 0.0003291049797553569f;
    private static final float Q4 = 7.804794677213067e-07f;

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

    private RowKernels() {
    }

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

    /**
     * GELU, tanh approximation: {@code o = 0.5 h (1 + tanh(u))} with {@code u = K (h + A h^3)}. A plain loop of
     * multiplies, FMAs, one divide and min/max, which C2 vectorises (see {@link #tanhOfInner}); about 0.5 ns an
     * element against 6 for the same formula through {@link #exp}, whose float/int bit moves keep C2 scalar.
     * {@code +inf} gives {@code +inf}, {@code -inf} and every {@code h <= -HC} give zero, NaN gives NaN.
     */
    static void gelu(float[] h, float[] o, int n) {
        for (int i = 0; i < n; i++) {
            o[i] = gelu(h[i]);
        }
    }

    /** GELU of one value, as {@link #gelu(float[], float[], int)} computes it (the one-token step's epilogues). */
    static float gelu(float v) {
        float t = tanhOfInner(Math.min(Math.max(v, -HC), HC));
        // below -HC, t is exactly -1: max(v, -HC) keeps -inf * 0 from making a NaN there
        return Math.max(v, -HC) * Math.fma(0.5f, t, 0.5f);
    }

    /**
     * GELU's backward in place: {@code dg *= d gelu / dh = 0.5 (1 + t) + 0.5 h (1 - t^2) K (1 + 3A h^2)}, with
     * {@code t = tanh(u)} as in {@link #gelu(float)}. Past {@code |h| = HC}, t is exactly +-1, so the second term
     * is exactly zero and the clamped h keeps {@code h^3} from overflowing into {@code 0 * inf}.
     */
    static void geluBackward(float[] h, float[] dg, int n) {
        for (int i = 0; i < n; i++) {
            float c = Math.min(Math.max(h[i], -HC), HC);
            float t = tanhOfInner(c);
            float slope = Math.fma(c * (1f - t * t), Math.fma(1.5f * A * K, c * c, 0.5f * K), Math.fma(0.5f, t, 0.5f));
            dg[i] *= slope;
        }
    }

    /**
     * {@code tanh(K (c + A c^3))} for {@code |c| <= HC}: a rational {@code u P(u^2) / Q(u^2)}, near-minimax on
     * {@code [0, 9]} (relative error 2.5e-8 in exact arithmetic, about 4e-7 absolute in float), clamped to [-1, 1].
     * Coefficients from {@code scripts/kernels/fit_tanh.py} (run as its docstring says). {@code u(HC) = 9.35}, where
     * the rational is past 1, so the clamp makes t exactly +-1 at and past {@code |h| = HC} (RowKernelsTest pins it).
     */
    private static float tanhOfInner(float c) {
        float u = c * Math.fma(A * K, c * c, K);
        float s = u * u;
        float p = Math.fma(Math.fma(Math.fma(Math.fma(P4, s, P3), s, P2), s, P1), s, 1f);
        float q = Math.fma(Math.fma(Math.fma(Math.fma(Q4, s, Q3), s, Q2), s, Q1), s, 1f);
        return Math.max(-1f, Math.min(1f, u * p / q));
    }

    /** The largest of {@code x[0, n)}. */
    static float max(float[] x, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, x[i]);
        }
        return max;
    }

    /**
     * {@code x[j] = exp(x[j] - shift)} for {@code j < n}, the same bits as {@link #exp(float)}; returns their sum (in
     * double, in order). {@code scratch} holds at least {@code n} floats. See {@link #exp(float[], int, float[])}.
     */
    static double expShiftedSum(float[] x, int n, float shift, float[] scratch) {
        expShifted(x, n, shift, scratch);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += x[i];
        }
        return sum;
    }

    /**
     * {@code x[j] = exp(x[j])} for {@code j < n}, the same bits as {@link #exp(float)} element by element, in two
     * loops: everything but the float/int bit moves first, which C2 vectorises, then {@code 2^k} from the bits kept
     * in {@code scratch} (at least {@code n} floats), one element at a time.
     */
    static void exp(float[] x, int n, float[] scratch) {
        expShifted(x, n, 0f, scratch);
    }

    private static void expShifted(float[] x, int n, float shift, float[] scratch) {
        for (int i = 0; i < n; i++) {
            float c = Math.max(LOW, Math.min(HIGH, x[i] - shift));
            float j = c * LOG2E + ROUND;
            float k = j - ROUND;
            float r = Math.fma(k, -LN2_HI, c);
            r = Math.fma(k, -LN2_LO, r);
            float p = Math.fma(r, C7, C6);
            p = Math.fma(p, r, C5);
            p = Math.fma(p, r, C4);
            p = Math.fma(p, r, C3);
            p = Math.fma(p, r, C2);
            p = Math.fma(p, r, 1f);
            x[i] = Math.fma(p, r, 1f);
            scratch[i] = j;
        }
        for (int i = 0; i < n; i++) {
            x[i] *= Float.intBitsToFloat((Float.floatToRawIntBits(scratch[i]) + EXPONENT_BIAS) << 23);
        }
    }

    /** {@code x[j] *= scale} for {@code j < n}. */
    static void scale(float[] x, int n, float scale) {
        for (int i = 0; i < n; i++) {
            x[i] *= scale;
        }
    }

    /** Softmax's backward along one row: {@code d[j] = p[j] (d[j] - sum_k p[k] d[k])}, in place. */
    static void softmaxBackward(float[] p, float[] d, int n) {
        double dot = 0;
        for (int i = 0; i < n; i++) {
            dot += p[i] * d[i];
        }
        float dt = (float) dot;
        for (int i = 0; i < n; i++) {
            d[i] = p[i] * (d[i] - dt);
        }
    }
}
