package dev.attune.core.model;

import dev.attune.core.config.GptConfig;
import java.util.ArrayList;
import java.util.List;

/** The four projections of a GPT-2 layer, by their Hugging Face module names. */
public enum Projection {
    /** {@code attn.c_attn}: x [C] -> q|k|v [3C]. */
    C_ATTN("attn.c_attn"),
    /** {@code attn.c_proj}: heads [C] -> [C]. */
    ATTN_C_PROJ("attn.c_proj"),
    /** {@code mlp.c_fc}: [C] -> [4C] (n_inner). */
    C_FC("mlp.c_fc"),
    /** {@code mlp.c_proj}: [4C] -> [C]. */
    MLP_C_PROJ("mlp.c_proj");

    private final String moduleName;

    Projection(String moduleName) {
        this.moduleName = moduleName;
    }

    /** The module's name inside a layer, e.g. {@code attn.c_attn} (its weight is {@code h.{i}.attn.c_attn.weight}). */
    public String moduleName() {
        return moduleName;
    }

    /** Input width of the projection. */
    public int inputSize(GptConfig c) {
        return this == MLP_C_PROJ ? c.innerSize() : c.embeddingSize();
    }

    /** Output width of the projection. */
    public int outputSize(GptConfig c) {
        return switch (this) {
            case C_ATTN -> 3 * c.embeddingSize();
            case C_FC -> c.innerSize();
            default -> c.embeddingSize();
        };
    }

    /**
     * The projection whose module name ends with {@code suffix} at a dot boundary, as PEFT matches target modules:
     * {@code c_attn}, {@code attn.c_attn}, {@code c_fc}, {@code mlp.c_proj}, ... ({@code c_proj} alone names two and
     * is refused).
     */
    public static Projection fromName(String suffix) {
        List<Projection> matches = matching(suffix);
        if (matches.size() == 1) {
            return matches.get(0);
        }
        throw new IllegalArgumentException(matches.isEmpty()
                ? "no projection named '" + suffix + "'; valid names: " + validNames()
                : "'" + suffix + "' names both " + matches.get(0).moduleName + " and " + matches.get(1).moduleName
                        + "; say which: " + validNames());
    }

    /** Every projection whose module name ends with {@code suffix} at a dot boundary (PEFT's target matching). */
    public static List<Projection> matching(String suffix) {
        List<Projection> matches = new ArrayList<>();
        for (Projection p : values()) {
            if (p.moduleName.equals(suffix) || p.moduleName.endsWith("." + suffix)) {
                matches.add(p);
            }
        }
        return matches;
    }

    private static String validNames() {
        return "c_attn, attn.c_attn, attn.c_proj, c_fc, mlp.c_fc, mlp.c_proj";
    }
}
