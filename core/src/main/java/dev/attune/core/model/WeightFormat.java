package dev.attune.core.model;

import java.util.Locale;

/**
 * How a model holds its large matrices (the four projections of every layer and the tied token embedding / LM head)
 * for inference. Everything is computed in float32 whatever the format; only the stored weights differ. Batch-1
 * decoding reads every weight once per token, so it runs about as much faster as the weights get smaller.
 *
 * <ul>
 *   <li>{@link #FP32}: float32, the format that trains; 4 bytes a weight.</li>
 *   <li>{@link #BF16}: bfloat16 (float32 rounded to nearest even, 8 mantissa bits); 2 bytes a weight.</li>
 *   <li>{@link #INT8}: weight-only int8 with one float32 scale per block of {@value #INT8_GROUP} inputs of each
 *       output channel (llama.cpp's Q8_0 layout, symmetric, values in [-127, 127]); 1.125 bytes a weight.</li>
 * </ul>
 *
 * @see GptModel#compressed(WeightFormat)
 */
public enum WeightFormat {
    FP32, BF16, INT8;

    /** Inputs of one output channel that share an int8 scale. */
    public static final int INT8_GROUP = 32;

    /** The lower-case name the command line and file metadata use: {@code fp32}, {@code bf16}, {@code int8}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The format named {@code fp32}, {@code bf16} or {@code int8} (any case). */
    public static WeightFormat parse(String name) {
        for (WeightFormat f : values()) {
            if (f.id().equalsIgnoreCase(name == null ? "" : name.trim())) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown weight format '" + name + "'; expected fp32, bf16 or int8");
    }
}
