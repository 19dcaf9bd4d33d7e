package dev.attune.core.generate;

import java.util.List;

/**
 * A generated token's log-probability under the model and, when asked for, the most likely tokens at that step.
 * Log-probabilities are the log-softmax of the model's raw logits: penalties, temperature and filtering do not
 * change them, so they mean the same for every decoding strategy.
 *
 * @param id      the generated token
 * @param logprob its log-probability
 * @param top     the most likely tokens at this step, best first (possibly including {@code id}); empty unless
 *                {@code topLogprobs > 0}
 */
public record TokenLogprobs(int id, float logprob, List<Alternative> top) {

    public TokenLogprobs {
        top = List.copyOf(top);
    }

    /** One of the most likely tokens at a step. */
    public record Alternative(int id, float logprob) {
    }
}
