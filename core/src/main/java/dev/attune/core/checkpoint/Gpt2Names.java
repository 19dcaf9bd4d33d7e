package dev.attune.core.checkpoint;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How tensor names in Hugging Face GPT-2 files relate to the model's parameter names (which carry no
 * {@code transformer.} prefix; see {@link dev.attune.core.model.GptModel#parameterShapes}).
 */
final class Gpt2Names {

    static final String PREFIX = "transformer.";
    static final String LM_HEAD = "lm_head.weight";
    /** Causal-mask buffers older checkpoints carry; they are not parameters. */
    private static final Pattern MASK_BUFFER = Pattern.compile("h\\.\\d+\\.attn\\.(bias|masked_bias)");
    private static final Pattern LAYER = Pattern.compile("h\\.(\\d+)\\..*");

    private Gpt2Names() {
    }

    /** The stored name without the {@code transformer.} prefix. */
    static String canonical(String stored) {
        return stored.startsWith(PREFIX) ? stored.substring(PREFIX.length()) : stored;
    }

    static boolean isMaskBuffer(String canonical) {
        return MASK_BUFFER.matcher(canonical).matches();
    }

    /** The block index of an {@code h.<i>.} name, or -1. */
    static int layerOf(String canonical) {
        Matcher m = LAYER.matcher(canonical);
        if (!m.matches()) {
            return -1;
        }
        try {
            return Integer.parseInt(m.group(1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
