package dev.attune.prompting.scoring;

import java.util.Objects;

/**
 * One log-likelihood request: how likely is {@code continuation} right after {@code context}? As in
 * lm-evaluation-harness, whitespace at the end of the context is moved to the front of the continuation before
 * tokenizing (so {@code "Answer:" + " Paris"} tokenizes as GPT-2 would see it in running text), and an empty
 * context is the end-of-text token.
 */
public record Request(String context, String continuation) {
    public Request {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(continuation, "continuation");
        if (continuation.isEmpty()) {
            throw new IllegalArgumentException("continuation must not be empty (context: \""
                    + (context.length() > 40 ? context.substring(context.length() - 40) : context) + "\")");
        }
    }
}
