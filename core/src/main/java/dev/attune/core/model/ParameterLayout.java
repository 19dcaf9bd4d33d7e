package dev.attune.core.model;

import dev.attune.core.config.GptConfig;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where each named tensor lives in the flat parameter buffer. Names and shapes are Hugging Face GPT-2's (without
 * the {@code transformer.} prefix), Conv1D weights stored {@code [in, out]}.
 */
final class ParameterLayout {

    record Entry(String name, long[] shape, long offset, long size) {
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Set<String> external;
    private final long total;
    private long count;

    ParameterLayout(GptConfig c) {
        this(c, Set.of());
    }

    /**
     * A layout whose {@code external} tensors (compressed matrices, held elsewhere) take no room in the flat buffer:
     * their entries have offset -1.
     */
    ParameterLayout(GptConfig c, Set<String> external) {
        this.external = external;
        long C = c.embeddingSize();
        long offset = 0;
        offset = add("wte.weight", offset, c.vocabSize(), C);
        offset = add("wpe.weight", offset, c.contextLength(), C);
        for (int i = 0; i < c.layers(); i++) {
            String p = "h." + i + ".";
            offset = add(p + "ln_1.weight", offset, C);
            offset = add(p + "ln_1.bias", offset, C);
            offset = add(p + "attn.c_attn.weight", offset, C, 3 * C);
            offset = add(p + "attn.c_attn.bias", offset, 3 * C);
            offset = add(p + "attn.c_proj.weight", offset, C, C);
            offset = add(p + "attn.c_proj.bias", offset, C);
            offset = add(p + "ln_2.weight", offset, C);
            offset = add(p + "ln_2.bias", offset, C);
            offset = add(p + "mlp.c_fc.weight", offset, C, c.innerSize());
            offset = add(p + "mlp.c_fc.bias", offset, c.innerSize());
            offset = add(p + "mlp.c_proj.weight", offset, c.innerSize(), C);
            offset = add(p + "mlp.c_proj.bias", offset, C);
        }
        offset = add("ln_f.weight", offset, C);
        offset = add("ln_f.bias", offset, C);
        total = offset;
    }

    private long add(String name, long offset, long... shape) {
        long size = 1;
        for (long s : shape) {
            size *= s;
        }
        count += size;
        if (external.contains(name)) {
            entries.put(name, new Entry(name, shape, -1, size));
            return offset;
        }
        entries.put(name, new Entry(name, shape, offset, size));
        return offset + size;
    }

    /** Floats in the flat buffer. */
    long total() {
        return total;
    }

    /** Weights of the model, those held outside the flat buffer included. */
    long count() {
        return count;
    }

    List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(entries.keySet()));
    }

    Entry entry(String name) {
        Entry e = entries.get(name);
        if (e == null) {
            throw new IllegalArgumentException("no parameter named '" + name + "' (names look like 'wte.weight', "
                    + "'h.0.attn.c_attn.weight', 'ln_f.bias')");
        }
        return e;
    }

    boolean contains(String name) {
        return entries.containsKey(name);
    }
}
