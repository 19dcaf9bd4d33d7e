package dev.attune.core.generate;

import java.util.Locale;

/** Why a sequence stopped growing. {@link #label()} is the lower-case name used in JSON output. */
public enum FinishReason {
    /** {@code maxNewTokens} were generated, or the model's context is full. */
    LENGTH,
    /** The model produced an end-of-sequence token (it is the last of the returned ids). */
    EOS,
    /** The generated text contains a stop string (the returned text ends just before it). */
    STOP;

    /** {@code "length"}, {@code "eos"} or {@code "stop"}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
