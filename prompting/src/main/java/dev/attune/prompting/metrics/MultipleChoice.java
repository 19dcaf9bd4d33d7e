package dev.attune.prompting.metrics;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Multiple-choice decisions as lm-evaluation-harness makes them, from the summed log-likelihood of each choice's
 * continuation given the context:
 * <ul>
 *   <li>{@code acc}: the choice with the highest log-likelihood;</li>
 *   <li>{@code acc_norm}: the highest log-likelihood divided by the choice's length in characters (UTF-16 code
 *       units would overcount astral characters, so code points are counted, as Python's {@code len});</li>
 *   <li>{@code acc_bytes}: divided by the choice's length in UTF-8 bytes.</li>
 * </ul>
 * Ties go to the earliest choice ({@code numpy.argmax}). The lengths are of the choice text without the target
 * delimiter, as lm-eval computes them.
 */
public final class MultipleChoice {

    private MultipleChoice() {
    }

    /** The three predictions for one item. */
    public record Prediction(int acc, int accNorm, int accBytes) {
    }

    public static Prediction predict(double[] logLikelihoods, List<String> choices) {
        if (logLikelihoods.length != choices.size() || choices.isEmpty()) {
            throw new IllegalArgumentException("need one log-likelihood per choice, got " + logLikelihoods.length
                    + " for " + choices.size() + " choices");
        }
        double[] norm = new double[choices.size()];
        double[] bytes = new double[choices.size()];
        for (int i = 0; i < norm.length; i++) {
            String c = choices.get(i);
            norm[i] = logLikelihoods[i] / Math.max(1, c.codePointCount(0, c.length()));
            bytes[i] = logLikelihoods[i] / Math.max(1, c.getBytes(StandardCharsets.UTF_8).length);
        }
        return new Prediction(argmax(logLikelihoods), argmax(norm), argmax(bytes));
    }

    /** Index of the largest value, the first one on ties (NaN never wins). */
    public static int argmax(double[] values) {
        int best = -1;
        for (int i = 0; i < values.length; i++) {
            if (!Double.isNaN(values[i]) && (best < 0 || values[i] > values[best])) {
                best = i;
            }
        }
        return Math.max(best, 0);
    }
}
