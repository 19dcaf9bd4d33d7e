package dev.attune.finetune.peft;

import dev.attune.core.model.ProjectionAdapter;

import dev.attune.core.model.GptModel;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.Projection;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * One adapted projection: layer {@code layer}'s {@code projection}.
 *
 * @param layer      the transformer block, 0-based
 * @param projection which of its four projections
 */
public record Target(int layer, Projection projection) {

    /** What the error for an unknown name lists. */
    static final String VALID_NAMES = "c_attn, c_proj (both attn.c_proj and mlp.c_proj), c_fc, attn.c_attn, "
            + "attn.c_proj, mlp.c_fc, mlp.c_proj, or a longer suffix such as h.0.attn.c_attn";

    /** The module's path in Hugging Face's GPT2LMHeadModel, e.g. {@code transformer.h.0.attn.c_attn}. */
    public String modulePath() {
        return "transformer.h." + layer + "." + projection.moduleName();
    }

    /** The base weight's name, e.g. {@code h.0.attn.c_attn.weight}. */
    public String weightName() {
        return "h." + layer + "." + projection.moduleName() + ".weight";
    }

    /** The base bias's name. */
    public String biasName() {
        return "h." + layer + "." + projection.moduleName() + ".bias";
    }

    /**
     * The projections PEFT's {@code target_modules} select in a model of shape {@code model}: a list of names
     * matches every module whose path equals a name or ends in {@code "." + name}; a regex (when {@code names} is
     * empty) must match the whole path. {@code layers} keeps only those layers (empty: all). A name that matches
     * nothing or a layer beyond the model is an error listing the valid choices.
     */
    public static List<Target> resolve(List<String> names, String regex, List<Integer> layers, GptConfig model) {
        for (int l : layers) {
            if (l >= model.layers()) {
                throw new IllegalArgumentException("layers_to_transform has layer " + l + ", but the model has "
                        + model.layers() + " layers (0.." + (model.layers() - 1) + ")");
            }
        }
        List<Target> found = new ArrayList<>();
        Set<String> matched = new LinkedHashSet<>();
        Pattern pattern = regex == null ? null : Pattern.compile(regex);
        for (int l = 0; l < model.layers(); l++) {
            for (Projection p : Projection.values()) {
                Target t = new Target(l, p);
                String path = t.modulePath();
                boolean hit = false;
                if (pattern != null) {
                    hit = pattern.matcher(path).matches();
                } else {
                    for (String name : names) {
                        if (matches(path, name)) {
                            matched.add(name);
                            hit = true;
                        }
                    }
                }
                if (hit && (layers.isEmpty() || layers.contains(l))) {
                    found.add(t);
                }
            }
        }
        List<String> unmatched = new ArrayList<>(names);
        unmatched.removeAll(matched);
        if (!unmatched.isEmpty()) {
            throw new IllegalArgumentException("target module" + (unmatched.size() > 1 ? "s " : " ") + unmatched
                    + " match" + (unmatched.size() > 1 ? "" : "es") + " no projection of this GPT-2; valid names: "
                    + VALID_NAMES + " (adapters reach the four projections of each layer, not the embeddings or "
                    + "LayerNorms)");
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException("targets " + (pattern != null ? "regex \"" + regex + "\"" : names)
                    + (layers.isEmpty() ? "" : " in layers " + layers)
                    + " select no module; module paths look like transformer.h.0.attn.c_attn");
        }
        return found;
    }

    /** PEFT's suffix rule. */
    public static boolean matches(String path, String name) {
        return path.equals(name) || path.endsWith("." + name);
    }

    /** Wraps each target's projection in {@code base} with the adapter layer at the same index. */
    public static void wrapAll(GptModel base, List<Target> targets, List<? extends ProjectionAdapter> layers) {
        for (int i = 0; i < targets.size(); i++) {
            base.adapters().wrap(targets.get(i).layer(), targets.get(i).projection(), layers.get(i));
        }
    }

    /** Removes the adapters around every target's projection in {@code base}. */
    public static void unwrapAll(GptModel base, List<Target> targets) {
        for (Target t : targets) {
            base.adapters().unwrap(t.layer(), t.projection());
        }
    }
}
