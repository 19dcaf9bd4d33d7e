package dev.attune.core.generate;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One generated continuation.
 *
 * @param ids          the generated token ids only (not the prompt). An EOS that ended generation is the last id;
 *                     with a stop string, every generated token is kept, including the one that completed it
 * @param text         the decoded generated text: no EOS text, and it ends just before a stop string
 * @param finishReason why generation ended
 * @param promptTokens prompt tokens the model saw (fewer than given when the prompt was truncated from the left)
 * @param logprobs     one entry per id when log-probabilities were requested, else empty
 */
public record GenerationResult(int[] ids, String text, FinishReason finishReason, int promptTokens,
                               List<TokenLogprobs> logprobs) {

    public GenerationResult {
        ids = ids.clone();
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(finishReason, "finishReason");
        logprobs = List.copyOf(logprobs);
    }

    @Override
    public int[] ids() {
        return ids.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationResult r && Arrays.equals(ids, r.ids) && text.equals(r.text)
                && finishReason == r.finishReason && promptTokens == r.promptTokens && logprobs.equals(r.logprobs);
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(ids), text, finishReason, promptTokens, logprobs);
    }

    @Override
    public String toString() {
        return "GenerationResult[ids=" + Arrays.toString(ids) + ", text=\"" + text + "\", finishReason="
                + finishReason.label() + ", promptTokens=" + promptTokens + "]";
    }
}
