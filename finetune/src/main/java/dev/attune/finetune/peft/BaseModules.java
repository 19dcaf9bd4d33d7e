package dev.attune.finetune.peft;

import dev.attune.core.model.GptModel;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Modules of the base language model trained beside an adapter and saved with it, as PEFT's {@code modules_to_save}
 * does for a causal language model: the token embedding {@code wte} (GPT-2's output layer too, tied) and the
 * LayerNorms {@code ln_1}, {@code ln_2}, {@code ln_f}. A module name selects every module whose name ends in it, as
 * in PEFT: {@code ln_1} is the first LayerNorm of every block.
 *
 * <p>In {@code adapter_model.safetensors} each tensor sits under PEFT's key for it,
 * {@code base_model.model.transformer.<Attune's name>} ({@code base_model.model.transformer.h.0.ln_1.weight}). PEFT
 * gives every {@code modules_to_save} entry its own copy, so a tied output layer would stay the base's there: with
 * {@code wte} the adapter also lists {@code lm_head} and writes {@code base_model.model.lm_head.weight}, equal to the
 * embedding, and PEFT's model then computes what Attune's tied one does (checked with PEFT 0.21 by
 * {@code scripts/examples/check_peft_load.py}). Only LoRA-like methods (whose tuner model wraps the base) are
 * supported.
 */
final class BaseModules {

    /** The modules of GPT-2 that may be trained with an adapter. */
    static final Set<String> TRAINABLE = Set.of("wte", "ln_1", "ln_2", "ln_f");

    /** Where PEFT keeps a base module's tensor, before its name in the transformer. */
    static final String KEY_PREFIX = "base_model.model.transformer.";

    private BaseModules() {
    }

    /** GPT-2's output layer, tied to {@code wte}: listed and written beside it for PEFT, never trained apart. */
    static final String TIED_HEAD = "lm_head";
    /** PEFT's key for the output layer's weight. */
    static final String TIED_HEAD_KEY = "base_model.model." + TIED_HEAD + ".weight";

    /**
     * Whether {@code module} (a {@code modules_to_save} entry) names a base module Attune trains with an adapter, or
     * the output layer tied to one.
     */
    static boolean isBaseModule(String module) {
        return TRAINABLE.contains(module) || module.equals(TIED_HEAD);
    }

    /** The {@code modules_to_save} list for {@code modules}: {@code lm_head} added after {@code wte}. */
    static List<String> listed(List<String> modules) {
        List<String> out = new ArrayList<>(modules);
        if (modules.contains("wte") && !modules.contains(TIED_HEAD)) {
            out.add(TIED_HEAD);
        }
        return out;
    }

    /** Refuses anything but {@link #TRAINABLE}, naming what is supported. */
    static void require(String module) {
        if (!isBaseModule(module)) {
            throw new IllegalArgumentException("module \"" + module + "\" cannot be trained with an adapter; the base "
                    + "modules Attune trains that way are " + List.copyOf(new java.util.TreeSet<>(TRAINABLE)));
        }
    }

    /** The base model's tensor names the modules select, in the model's order ({@code h.0.ln_1.weight}, ...). */
    static List<String> tensorNames(GptModel model, List<String> modules) {
        modules.forEach(BaseModules::require);
        List<String> names = new ArrayList<>();
        for (String name : model.parameterNames()) {
            String module = name.substring(0, name.lastIndexOf('.'));
            String last = module.substring(module.lastIndexOf('.') + 1);
            if (modules.contains(last)) {
                names.add(name);
            }
        }
        return names;
    }

    /**
     * Whether a weights-file key is the tensor of one of the {@code listed} base modules
     * ({@code base_model.model.transformer.ln_f.weight} with {@code ln_f} listed). Keys of modules not listed are
     * the adapter's to claim (LoRA's {@code bias="all"} saves the LayerNorms' biases under the same keys).
     */
    static boolean isBaseModuleKey(String key, List<String> listed) {
        if (key.equals(TIED_HEAD_KEY)) {
            return listed.contains(TIED_HEAD);
        }
        if (!key.startsWith(KEY_PREFIX)) {
            return false;
        }
        String name = key.substring(KEY_PREFIX.length());
        int dot = name.lastIndexOf('.');
        if (dot <= 0) {
            return false;
        }
        String module = name.substring(0, dot);
        String last = module.substring(module.lastIndexOf('.') + 1);
        return TRAINABLE.contains(last) && listed.contains(last);
    }

    /** The Attune tensor name of a {@link #isBaseModuleKey base-module key} ({@code lm_head.weight} for the head). */
    static String tensorName(String key) {
        return key.equals(TIED_HEAD_KEY) ? TIED_HEAD + ".weight" : key.substring(KEY_PREFIX.length());
    }
}
