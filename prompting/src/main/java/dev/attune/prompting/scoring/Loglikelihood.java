package dev.attune.prompting.scoring;

/**
 * The score of a continuation given its context.
 *
 * @param logLikelihood sum over the continuation's tokens of {@code log p(token | everything before it)}, nats
 * @param greedy        true when every continuation token is the model's arg-max at its position (the
 *                      continuation is what greedy decoding would produce)
 * @param tokens        number of continuation tokens scored
 */
public record Loglikelihood(double logLikelihood, boolean greedy, int tokens) {
}
