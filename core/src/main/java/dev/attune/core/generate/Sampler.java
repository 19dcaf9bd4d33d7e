package dev.attune.core.generate;

import java.util.SplittableRandom;

/** Picking the next token from a row of scores, and the log-softmax that log-probabilities and beams use. */
final class Sampler {
    private Sampler() {
    }

    /** Index of the highest score (the first one on ties). */
    static int argmax(float[] scores) {
        for (int i = 0; i < scores.length; i++) {
            if (Float.isNaN(scores[i]) || scores[i] == Float.POSITIVE_INFINITY) {
                throw new IllegalStateException("the model's score for token " + i + " is " + scores[i]
                        + ": its logits are not finite (broken weights, or activations that overflowed)");
            }
        }
        int best = 0;
        for (int i = 1; i < scores.length; i++) {
            if (scores[i] > scores[best]) {
                best = i;
            }
        }
        if (scores[best] == Float.NEGATIVE_INFINITY || Float.isNaN(scores[best])) {
            throw new IllegalStateException("every token is banned: no next token can be chosen");
        }
        return best;
    }

    /** Draws an index with probability softmax(scores); {@code -infinity} scores are never drawn. */
    static int sample(float[] scores, SplittableRandom rng) {
        float max = scores[argmax(scores)];
        double total = 0;
        for (float s : scores) {
            total += Math.exp(s - max);
        }
        double u = rng.nextDouble() * total;
        int last = -1;
        for (int i = 0; i < scores.length; i++) {
            if (scores[i] == Float.NEGATIVE_INFINITY) {
                continue;
            }
            u -= Math.exp(scores[i] - max);
            last = i;
            if (u < 0) {
                return i;
            }
        }
        return last; // rounding left a sliver of mass: the last drawable token takes it
    }

    /** out[i] = scores[i] - log(sum(exp(scores))), computed in double; {@code out} may be {@code scores}. */
    static void logSoftmax(float[] scores, float[] out) {
        float max = Float.NEGATIVE_INFINITY;
        for (float s : scores) {
            max = Math.max(max, s);
        }
        double total = 0;
        for (float s : scores) {
            total += Math.exp(s - max);
        }
        double logZ = max + Math.log(total);
        for (int i = 0; i < scores.length; i++) {
            out[i] = (float) (scores[i] - logZ);
        }
    }
}
