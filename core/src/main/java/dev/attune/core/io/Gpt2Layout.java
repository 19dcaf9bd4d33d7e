package dev.attune.core.io;

import dev.attune.core.config.GptConfig;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The tensors of a GPT-2 checkpoint under their Hugging Face names (without the {@code transformer.} prefix) and
 * shapes, computed from the config alone, so a checkpoint can be checked without allocating the model.
 */
final class Gpt2Layout {

    static final String PREFIX = "transformer.";
    static final String LM_HEAD = "lm_head.weight";
    /** Causal-mask buffers older checkpoints carry; they are not parameters. */
    private static final Pattern MASK_BUFFER = Pattern.compile("h\\.\\d+\\.attn\\.(bias|masked_bias)");
    private static final Pattern LAYER = Pattern.compile("h\\.(\\d+)\\..*");

    private Gpt2Layout() {
    }

    /** Expected tensors in GPT-2's canonical order, name to shape. Conv1D weights are [in, out]. */
    static Map<String, long[]> tensors(GptConfig config) {
        long v = config.vocabSize();
        long t = config.contextLength();
        long c = config.embeddingSize();
        long inner = config.innerSize();
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("wte.weight", new long[] {v, c});
        m.put("wpe.weight", new long[] {t, c});
        for (int i = 0; i < config.layers(); i++) {
            String h = "h." + i + ".";
            m.put(h + "ln_1.weight", new long[] {c});
            m.put(h + "ln_1.bias", new long[] {c});
            m.put(h + "attn.c_attn.weight", new long[] {c, 3 * c});
            m.put(h + "attn.c_attn.bias", new long[] {3 * c});
            m.put(h + "attn.c_proj.weight", new long[] {c, c});
            m.put(h + "attn.c_proj.bias", new long[] {c});
            m.put(h + "ln_2.weight", new long[] {c});
            m.put(h + "ln_2.bias", new long[] {c});
            m.put(h + "mlp.c_fc.weight", new long[] {c, inner});
            m.put(h + "mlp.c_fc.bias", new long[] {inner});
            m.put(h + "mlp.c_proj.weight", new long[] {inner, c});
            m.put(h + "mlp.c_proj.bias", new long[] {c});
        }
        m.put("ln_f.weight", new long[] {c});
        m.put("ln_f.bias", new long[] {c});
        return m;
    }

    /** Total number of parameters (the LM head is tied to {@code wte} and not counted twice). */
    static long parameterCount(GptConfig config) {
        long n = 0;
        for (long[] shape : tensors(config).values()) {
            n += TensorInfo.elementCount(shape);
        }
        return n;
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
