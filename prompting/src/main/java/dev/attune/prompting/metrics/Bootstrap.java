package dev.attune.prompting.metrics;

import java.util.SplittableRandom;

/**
 * Bootstrap standard errors: items are resampled with replacement, the statistic is recomputed on each resample,
 * and the standard error is the sample standard deviation (n - 1) of those recomputed values, as
 * lm-evaluation-harness's {@code bootstrap_stderr}. Seeded, so a report is reproducible.
 */
public final class Bootstrap {

    /** Default number of resamples. */
    public static final int DEFAULT_ITERATIONS = 1000;

    private Bootstrap() {
    }

    /** A statistic of a resample: {@code counts[i]} is how often item i was drawn (the counts sum to n). */
    @FunctionalInterface
    public interface Statistic {
        double of(int[] counts);
    }

    /** Standard error of {@code statistic} over {@code n} items; NaN without items, 0 for one. */
    public static double stderr(int n, Statistic statistic, int iterations, long seed) {
        if (iterations < 2) {
            throw new IllegalArgumentException("bootstrap needs at least 2 iterations, got " + iterations);
        }
        if (n == 0) {
            return Double.NaN;
        }
        if (n == 1) {
            return 0;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        int[] counts = new int[n];
        double mean = 0;
        double m2 = 0;
        for (int it = 0; it < iterations; it++) {
            java.util.Arrays.fill(counts, 0);
            for (int i = 0; i < n; i++) {
                counts[rng.nextInt(n)]++;
            }
            double v = statistic.of(counts);
            double delta = v - mean; // Welford
            mean += delta / (it + 1);
            m2 += delta * (v - mean);
        }
        return Math.sqrt(m2 / (iterations - 1));
    }

    /** Standard error of the mean of per-item values. */
    public static double meanStderr(double[] values, int iterations, long seed) {
        return stderr(values.length, counts -> {
            double sum = 0;
            for (int i = 0; i < values.length; i++) {
                sum += counts[i] * values[i];
            }
            return sum / values.length;
        }, iterations, seed);
    }

    /** Standard error of a ratio of sums, {@code f(sum numerators / sum denominators)} (corpus-level metrics). */
    public static double ratioStderr(double[] numerators, double[] denominators,
                                     java.util.function.DoubleUnaryOperator f, int iterations, long seed) {
        return stderr(numerators.length, counts -> {
            double num = 0;
            double den = 0;
            for (int i = 0; i < numerators.length; i++) {
                num += counts[i] * numerators[i];
                den += counts[i] * denominators[i];
            }
            return f.applyAsDouble(num / den);
        }, iterations, seed);
    }
}
