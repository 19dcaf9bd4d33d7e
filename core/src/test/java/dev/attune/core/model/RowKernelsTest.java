package dev.attune.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The element-wise kernels against their closed forms in double precision. */
class RowKernelsTest {

    private static final double K = Math.sqrt(2.0 / Math.PI);
    private static final double A = 0.044715;

    private static double gelu(double x) {
        return 0.5 * x * (1 + Math.tanh(K * (x + A * x * x * x)));
    }

    /** Inputs from about -12 to 12, exact zeros and far tails. */
    private static float[] inputs() {
        Random random = new Random(7);
        float[] h = new float[4099];
        for (int i = 0; i < h.length; i++) {
            h[i] = i % 97 == 0 ? 0f : (float) (random.nextGaussian() * 3);
        }
        h[1] = 12f;
        h[2] = -12f;
        h[3] = 40f;
        h[4] = -40f;
        return h;
    }

    @Test
    void expIsWithinThreeUlpOfTheLibraryExpAndClampsAtTheFloatRange() {
        for (float x = -87f; x <= 88f; x += 0.0137f) {
            double expected = Math.exp(x);
            assertEquals(expected, RowKernels.exp(x), 3 * Math.ulp((float) expected), "exp(" + x + ")");
        }
        assertEquals(1f, RowKernels.exp(0f));
        assertTrue(RowKernels.exp(-1000f) < 2e-38f && RowKernels.exp(-1000f) > 0f, "clamped low, still a normal float");
        assertTrue(Float.isFinite(RowKernels.exp(1000f)) && RowKernels.exp(1000f) > 1e38f, "clamped high, finite");
        assertTrue(Float.isNaN(RowKernels.exp(Float.NaN)));
    }

    @Test
    void geluMatchesTheTanhFormula() {
        float[] h = inputs();
        float[] g = new float[h.length];
        RowKernels.gelu(h, g, h.length);
        for (int i = 0; i < h.length; i++) {
            assertEquals(gelu(h[i]), g[i], 2e-6 * Math.max(1, Math.abs(h[i])), "gelu(" + h[i] + ")");
        }
        assertEquals(40f, g[3]);
        assertEquals(0f, g[4], 1e-30f);
    }

    @Test
    void geluBackwardMatchesCentralDifferences() {
        float[] h = inputs();
        float[] upstream = new float[h.length];
        Random random = new Random(11);
        for (int i = 0; i < h.length; i++) {
            upstream[i] = (float) random.nextGaussian();
        }
        float[] dh = upstream.clone();
        RowKernels.geluBackward(h, dh, h.length);
        double eps = 1e-4;
        for (int i = 0; i < h.length; i++) {
            double slope = (gelu(h[i] + eps) - gelu(h[i] - eps)) / (2 * eps);
            assertEquals(upstream[i] * slope, dh[i], 1e-5 * Math.max(1, Math.abs(upstream[i])), "at h = " + h[i]);
        }
    }

    private static double geluSlope(double x) {
        double t = Math.tanh(K * (x + A * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * K * (1 + 3 * A * x * x);
    }

    /**
     * Every float step of 1e-5 over [-12, 12] and far values: GELU within 3e-7 of the double formula (relative
     * above |h| = 1), its slope within 5e-6 (the float tanh's 2e-7 times the slope's {@code d/dt}, about 18 near
     * the clamp), against 2.0e-7 and 4.2e-6 measured when the rational was fitted.
     */
    @Test
    void geluAndItsSlopeStayWithinFloatErrorOfTheDoubleFormulaOnADenseGrid() {
        int n = 2_400_001;
        float[] h = new float[n + 8];
        for (int i = 0; i < n; i++) {
            h[i] = (float) (-12 + 24.0 * i / (n - 1));
        }
        float[] far = {30f, -30f, 1e3f, -1e3f, 1e20f, -1e20f, Float.MAX_VALUE, -Float.MAX_VALUE};
        System.arraycopy(far, 0, h, n, far.length);
        float[] g = new float[h.length];
        RowKernels.gelu(h, g, h.length);
        float[] slope = new float[h.length];
        java.util.Arrays.fill(slope, 1f);
        RowKernels.geluBackward(h, slope, h.length);
        for (int i = 0; i < h.length; i++) {
            assertEquals(gelu(h[i]), g[i], 3e-7 * Math.max(1, Math.abs(h[i])), "gelu(" + h[i] + ")");
            assertEquals(RowKernels.gelu(h[i]), g[i], "the one-value form at " + h[i]);
            double expectedSlope = Math.abs(h[i]) > 30 ? (h[i] > 0 ? 1 : 0) : geluSlope(h[i]);
            assertEquals(expectedSlope, slope[i], 5e-6, "gelu'(" + h[i] + ")");
        }
    }

    /** Past |h| = HC tanh is exactly +-1: GELU is h or zero and its slope 1 or 0, never 0 * inf; NaN stays NaN. */
    @Test
    void geluSaturatesExactlyPastTheClampAndKeepsNaN() {
        float[] big = {RowKernels.HC, 5.5f, 8f, 100f, 1e20f, Float.MAX_VALUE, Float.POSITIVE_INFINITY};
        for (float v : big) {
            assertEquals(v, RowKernels.gelu(v), "gelu(" + v + ")");
            assertEquals(0f, RowKernels.gelu(-v), 0f, "gelu(" + -v + ")");
            float[] slope = {1f, 1f};
            RowKernels.geluBackward(new float[] {v, -v}, slope, 2);
            assertEquals(1f, slope[0], "gelu'(" + v + ")");
            assertEquals(0f, slope[1], 0f, "gelu'(" + -v + ")");
        }
        assertTrue(Float.isNaN(RowKernels.gelu(Float.NaN)));
        float[] slope = {1f};
        RowKernels.geluBackward(new float[] {Float.NaN}, slope, 1);
        assertTrue(Float.isNaN(slope[0]), "a NaN input makes a NaN gradient");
    }

    /** GPT-2's vocabulary and a width that is not a multiple of anything. */
    @ParameterizedTest
    @ValueSource(ints = {1003, 50257})
    void crossEntropyMatchesLogSumExpAndSoftmaxMinusOneHot(int v) {
        int rows = 5;
        Random random = new Random(3);
        float[][] x = new float[rows][v];
        for (float[] row : x) {
            for (int j = 0; j < v; j++) {
                row[j] = (float) (random.nextGaussian() * 4);
            }
        }
        x[1][17] = 60f;  // a row dominated by one logit: its target is the argmax
        int[] targets = {5, 17, -1, v - 1, 0};
        double gradScale = 0.25;

        double[] lossPerRow = new double[rows];
        boolean[] greedy = new boolean[rows];
        INDArray logits = Nd4j.createFromArray(x).castTo(DataType.FLOAT);
        double total = LmHead.crossEntropy(logits, targets, gradScale, lossPerRow, greedy);

        double expectedTotal = 0;
        for (int r = 0; r < rows; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (float f : x[r]) {
                max = Math.max(max, f);
            }
            double sum = 0;
            for (float f : x[r]) {
                sum += Math.exp(f - max);
            }
            double logZ = max + Math.log(sum);
            int t = targets[r];
            if (t < 0) {
                assertEquals(0.0, lossPerRow[r]);
                for (int j = 0; j < v; j++) {
                    assertEquals(0f, logits.getFloat(r, j), "a skipped row's gradient is zero");
                }
                continue;
            }
            double expected = logZ - x[r][t];
            expectedTotal += expected;
            assertEquals(expected, lossPerRow[r], 1e-5 * Math.max(1, expected), "row " + r);
            for (int j = 0; j < v; j++) {
                double grad = gradScale * (Math.exp(x[r][j] - logZ) - (j == t ? 1 : 0));
                assertEquals(grad, logits.getFloat(r, j), 1e-7, "d loss / d logit[" + r + ", " + j + "]");
            }
        }
        assertEquals(expectedTotal, total, 1e-4);
        assertTrue(greedy[1]);
        assertFalse(greedy[0]);
    }

    @Test
    void softmaxBackwardIsTheJacobianTransposeTimesTheUpstreamGradient() {
        int n = 77;
        Random random = new Random(5);
        double[] z = new double[n];
        double zMax = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            z[j] = random.nextGaussian() * 2;
            zMax = Math.max(zMax, z[j]);
        }
        double sum = 0;
        for (double v : z) {
            sum += Math.exp(v - zMax);
        }
        float[] p = new float[n];
        float[] d = new float[n];
        double[] upstream = new double[n];
        for (int j = 0; j < n; j++) {
            p[j] = (float) (Math.exp(z[j] - zMax) / sum);
            upstream[j] = random.nextGaussian();
            d[j] = (float) upstream[j];
        }
        RowKernels.softmaxBackward(p, d, n);
        // d loss / d z_k = sum_j upstream_j * d p_j / d z_k = sum_j upstream_j p_j (delta_jk - p_k)
        for (int k = 0; k < n; k++) {
            double expected = 0;
            for (int j = 0; j < n; j++) {
                expected += upstream[j] * p[j] * ((j == k ? 1 : 0) - p[k]);
            }
            assertEquals(expected, d[k], 1e-6, "d / d z[" + k + "]");
        }
    }

    /**
     * The row exp (two loops, the first vectorised) gives the one-element exp's bits: over a dense grid on [-100, 100],
     * the clamp's edges, infinities and NaN, at lengths around the vector width; the shifted sum adds them in order.
     */
    @Test
    void rowExpGivesTheScalarExpBitForBit() {
        float[] special = {0f, -0f, 1e-30f, -1e-30f, -87.3f, -87.31f, 88.3f, 88.31f, Float.NEGATIVE_INFINITY,
            Float.POSITIVE_INFINITY, Float.NaN, Float.MIN_VALUE, -Float.MAX_VALUE, Float.MAX_VALUE};
        int grid = 200_001;
        float[] values = new float[grid + special.length];
        for (int i = 0; i < grid; i++) {
            values[i] = -100f + i * 1e-3f;
        }
        System.arraycopy(special, 0, values, grid, special.length);
        float[] x = values.clone();
        RowKernels.exp(x, x.length, new float[x.length]);
        for (int i = 0; i < values.length; i++) {
            assertEquals(Float.floatToRawIntBits(RowKernels.exp(values[i])), Float.floatToRawIntBits(x[i]),
                    "exp(" + values[i] + ")");
        }
        Random random = new Random(7);
        for (int n : new int[] {1, 7, 15, 16, 17, 63, 64, 256, 257}) {
            float[] row = new float[n + 3];
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) (random.nextGaussian() * 4);
            }
            float shift = 1.25f;
            float[] expected = row.clone();
            double expectedSum = 0;
            for (int i = 0; i < n; i++) {
                expected[i] = RowKernels.exp(row[i] - shift);
                expectedSum += expected[i];
            }
            double sum = RowKernels.expShiftedSum(row, n, shift, new float[n]);
            assertEquals(expectedSum, sum, 0.0, "n=" + n);
            for (int i = 0; i < row.length; i++) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(row[i]), "n=" + n + " i=" + i);
            }
        }
    }
}
