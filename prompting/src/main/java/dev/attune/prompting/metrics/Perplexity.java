package dev.attune.prompting.metrics;

/**
 * Corpus-level language-modelling metrics from per-document sums: perplexity {@code exp(sum NLL / sum tokens)}
 * over the scored tokens, and bits per byte {@code sum NLL / (ln 2 * sum UTF-8 bytes)}.
 */
public final class Perplexity {

    private Perplexity() {
    }

    /** Perplexity from summed negative log-likelihoods (nats) and scored-token counts. */
    public static double perplexity(double[] nll, double[] tokens) {
        return Math.exp(sum(nll) / sum(tokens));
    }

    /** Bits per UTF-8 byte of the text. */
    public static double bitsPerByte(double[] nll, double[] bytes) {
        return sum(nll) / (Math.log(2) * sum(bytes));
    }

    public static double perplexityStderr(double[] nll, double[] tokens, int iterations, long seed) {
        return Bootstrap.ratioStderr(nll, tokens, Math::exp, iterations, seed);
    }

    public static double bitsPerByteStderr(double[] nll, double[] bytes, int iterations, long seed) {
        return Bootstrap.ratioStderr(nll, bytes, x -> x / Math.log(2), iterations, seed);
    }

    private static double sum(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s;
    }
}
