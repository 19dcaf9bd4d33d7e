package dev.attune.core.model;

/** What {@link GptModel#forward(TokenBatch, Output...)} computes and returns. */
public enum Output {
    /** Next-token logits of every position, [B, T, V]. */
    LOGITS,
    /** Final hidden states after {@code ln_f}, [B, T, C]: what classification and tagging heads read. */
    HIDDEN,
    /**
     * Per row, the summed log-probability of the counted targets (targets {@code >= 0}), their number, and whether
     * each is its position's argmax: what continuation scoring needs, without materialising [B, T, V].
     */
    TARGET_LOGPROBS
}
