package dev.attune.finetune.tribuo;

import java.util.Locale;

/** What trains beside a task head ({@link LmClassifierTrainer}, {@link LmTaggerTrainer}). */
public enum TuningMethod {
    /** Every weight of the base model; the saved model holds the fine-tuned checkpoint. */
    FULL,
    /** Only the head, on the unchanged base (a linear probe); the saved model refers to the base. */
    HEAD,
    /**
     * A parameter-efficient adapter (LoRA, AdaLoRA, IA3, prefix, prompt, bottleneck: the trainer's adapter config)
     * beside the head, on the frozen base; the saved model holds the adapter in PEFT's layout and refers to the base.
     */
    PEFT;

    /** The lower-case name, as saved model files and the command line write it. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Reads {@link #id()} (any case); the error names the accepted values. */
    public static TuningMethod parse(String s) {
        try {
            return valueOf(s.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("unknown method '" + s + "'; use one of full, head, peft");
        }
    }
}
