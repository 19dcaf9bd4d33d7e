package dev.attune.finetune.peft.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.config.GptConfig;
import dev.attune.finetune.peft.AdapterConfig;
import dev.attune.finetune.peft.ConfigJson;
import dev.attune.finetune.peft.Target;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * LoRA's options, as PEFT's {@code LoraConfig} stores them in {@code adapter_config.json}.
 *
 * @param rank          {@code r}: the inner dimension of {@code B A}
 * @param alpha         {@code lora_alpha}; the update is scaled by {@code alpha / r} ({@code alpha / sqrt(r)} with
 *                      rsLoRA)
 * @param dropout       {@code lora_dropout}, on the adapter's input only
 * @param targetModules {@code target_modules}: module-name suffixes ({@code c_attn}, {@code attn.c_proj},
 *                      {@code c_proj} = both c_proj, {@code c_fc}, {@code mlp.c_proj}, or longer such as
 *                      {@code h.0.attn.c_attn}); empty when {@link #targetRegex} is used
 * @param targetRegex   {@code target_modules} given as one string: a regular expression the whole module path
 *                      (e.g. {@code transformer.h.3.mlp.c_fc}) must match; null when suffixes are used
 * @param layers        {@code layers_to_transform}: the layers adapted; empty means all
 * @param rsLora        {@code use_rslora}
 * @param bias          {@code bias}: which biases train with the adapter
 * @param taskType      {@code task_type}, e.g. {@code CAUSAL_LM}
 * @param baseModel     {@code base_model_name_or_path}, or null
 */
public record LoraConfig(int rank, double alpha, double dropout, List<String> targetModules, String targetRegex,
                         List<Integer> layers, boolean rsLora, Bias bias, String taskType, String baseModel)
        implements AdapterConfig {

    public static final String PEFT_TYPE = "LORA";

    /** PEFT's {@code bias} option. */
    public enum Bias {
        /** No bias trains. */
        NONE,
        /**
         * Every bias of the base trains: the LayerNorms' ({@code ln_1}, {@code ln_2}, {@code ln_f}) and all four
         * projections' of every layer, targeted or not. Saved whole under PEFT's keys. PEFT changes the base biases
         * in place, so its {@code disable_adapter()} still runs the trained biases; Attune keeps them as shifts in
         * the adapter, so a disabled, detached or switched adapter leaves the base model exactly as it was.
         */
        ALL,
        /** The biases of the adapted projections train (saved whole, as PEFT does, under {@code base_layer.bias}). */
        LORA_ONLY;

        String json() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** PEFT's spelling: {@code none}, {@code all} or {@code lora_only}; anything else is an error listing them. */
        public static Bias parse(String s) {
            for (Bias b : values()) {
                if (b.json().equals(s)) {
                    return b;
                }
            }
            throw new IllegalArgumentException("bias must be one of none, all, lora_only, got \"" + s + "\"");
        }
    }

    public LoraConfig {
        targetModules = List.copyOf(targetModules);
        layers = List.copyOf(layers);
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder().rank(rank).alpha(alpha).dropout(dropout).rsLora(rsLora).bias(bias)
                .taskType(taskType).baseModel(baseModel).layers(layers.stream().mapToInt(Integer::intValue).toArray());
        return targetRegex != null ? b.targetRegex(targetRegex) : b.targets(targetModules.toArray(String[]::new));
    }

    @Override
    public String peftType() {
        return PEFT_TYPE;
    }

    /** The factor of {@code B A}: {@code alpha / r}, or {@code alpha / sqrt(r)} with rsLoRA. */
    public double scaling() {
        return rsLora ? alpha / Math.sqrt(rank) : alpha / rank;
    }

    /**
     * The projections this config adapts in a model of shape {@code model}, layer by layer. A target name that
     * matches nothing, a layer index beyond the model, or a rank larger than a projection's smaller side is an
     * error naming the valid choices.
     */
    public List<Target> targets(GptConfig model) {
        List<Target> found = Target.resolve(targetModules, targetRegex, layers, model);
        for (Target t : found) {
            int in = t.projection().inputSize(model);
            int out = t.projection().outputSize(model);
            if (rank > Math.min(in, out)) {
                throw new IllegalArgumentException("rank " + rank + " is larger than " + t.modulePath() + " allows: "
                        + "it maps " + in + " to " + out + ", so the rank can be at most " + Math.min(in, out));
            }
        }
        return found;
    }

    @Override
    public Lora create(GptConfig model, long seed) {
        return Lora.create(this, model, seed, org.nd4j.linalg.api.buffer.DataType.FLOAT);
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode o = ConfigJson.header(PEFT_TYPE, taskType, baseModel);
        o.put("r", rank);
        if (alpha == Math.rint(alpha) && Math.abs(alpha) < 1e9) {
            o.put("lora_alpha", (long) alpha);
        } else {
            o.put("lora_alpha", alpha);
        }
        o.put("lora_dropout", dropout);
        if (targetRegex != null) {
            o.put("target_modules", targetRegex);
        } else {
            ArrayNode a = o.putArray("target_modules");
            targetModules.forEach(a::add);
        }
        ConfigJson.putLayers(o, layers);
        o.put("fan_in_fan_out", true); // GPT-2's projections are Conv1D, weight [in, out]
        o.put("bias", bias.json());
        o.put("use_rslora", rsLora);
        o.put("use_dora", false);
        o.putNull("modules_to_save");
        o.putObject("rank_pattern");
        o.putObject("alpha_pattern");
        o.put("init_lora_weights", true);
        o.put("inference_mode", true);
        return o;
    }

    /**
     * Reads PEFT's {@code adapter_config.json} for LoRA. Options that change what the adapter computes and that
     * Attune does not implement (DoRA, per-module rank or alpha patterns, excluded modules, LoRA on parameters) are
     * refused by name rather than ignored. A task head in {@code modules_to_save} is not LoRA's: see
     * {@code AdapterFiles.readModulesToSave}.
     */
    public static LoraConfig fromJson(JsonNode json) {
        List<String> problems = new ArrayList<>();
        refuseIfSet(json, "use_dora", problems);
        refuseIfSet(json, "rank_pattern", problems);
        refuseIfSet(json, "alpha_pattern", problems);
        refuseIfSet(json, "exclude_modules", problems);
        refuseIfSet(json, "target_parameters", problems);
        refuseIfSet(json, "layer_replication", problems);
        refuseIfSet(json, "lora_bias", problems);
        refuseIfSet(json, "trainable_token_indices", problems);
        JsonNode pattern = json.get("layers_pattern");
        if (pattern != null && !pattern.isNull() && !(pattern.isTextual() && pattern.asText().equals("h"))
                && !(pattern.isArray() && pattern.size() == 1 && pattern.get(0).asText().equals("h"))) {
            problems.add("layers_pattern " + pattern + " (GPT-2's layers are \"h\")");
        }
        JsonNode fanInFanOut = json.get("fan_in_fan_out");
        if (fanInFanOut != null && fanInFanOut.isBoolean() && !fanInFanOut.asBoolean()) {
            // PEFT warns and sets it to true for GPT-2's Conv1D itself; the saved tensors are the same either way
            fanInFanOut = null;
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("LoRA options Attune does not implement: " + String.join(", ", problems));
        }
        Builder b = builder()
                .rank(json.path("r").asInt(8))
                .alpha(json.path("lora_alpha").asDouble(8))
                .dropout(json.path("lora_dropout").asDouble(0))
                .rsLora(json.path("use_rslora").asBoolean(false))
                .bias(Bias.parse(json.path("bias").asText("none")))
                .taskType(ConfigJson.textOrNull(json, "task_type"))
                .baseModel(ConfigJson.textOrNull(json, "base_model_name_or_path"));
        JsonNode targets = json.get("target_modules");
        if (targets == null || targets.isNull()) {
            b.targets("c_attn"); // PEFT's default for GPT-2
        } else if (targets.isTextual()) {
            b.targetRegex(targets.asText());
        } else if (targets.isArray()) {
            List<String> names = new ArrayList<>();
            targets.forEach(t -> names.add(t.asText()));
            b.targets(names.toArray(String[]::new));
        } else {
            throw new IllegalArgumentException("target_modules must be a list of names or a regex string, got " + targets);
        }
        int[] layers = ConfigJson.layers(json);
        if (layers != null) {
            b.layers(layers);
        }
        return b.build();
    }

    /** A JSON option counts as set when it is present and not null, false, empty or {}. */
    private static void refuseIfSet(JsonNode json, String key, List<String> problems) {
        JsonNode v = json.get(key);
        if (v == null || v.isNull() || (v.isBoolean() && !v.asBoolean()) || (v.isContainerNode() && v.isEmpty())) {
            return;
        }
        problems.add(key + "=" + v);
    }

    /** Fluent builder; PEFT's defaults (r 8, alpha 8, no dropout, target c_attn, bias none). */
    public static final class Builder {
        private int rank = 8;
        private double alpha = 8;
        private double dropout = 0;
        private List<String> targets = List.of("c_attn");
        private String targetRegex;
        private List<Integer> layers = List.of();
        private boolean rsLora;
        private Bias bias = Bias.NONE;
        private String taskType = "CAUSAL_LM";
        private String baseModel;

        private Builder() {
        }

        public Builder rank(int r) { this.rank = r; return this; }
        public Builder alpha(double a) { this.alpha = a; return this; }
        public Builder dropout(double p) { this.dropout = p; return this; }
        /** Module-name suffixes (see {@link LoraConfig#targetModules()}); replaces a regex. */
        public Builder targets(String... names) { this.targets = List.of(names); this.targetRegex = null; return this; }
        /** A regular expression over whole module paths; replaces the names. */
        public Builder targetRegex(String regex) { this.targetRegex = regex; this.targets = List.of(); return this; }
        /** Only these layers (PEFT's {@code layers_to_transform}); none given means all. */
        public Builder layers(int... indices) { this.layers = ConfigJson.indices(indices); return this; }
        public Builder rsLora(boolean on) { this.rsLora = on; return this; }
        public Builder bias(Bias b) { this.bias = b; return this; }
        public Builder taskType(String t) { this.taskType = t; return this; }
        public Builder baseModel(String nameOrPath) { this.baseModel = nameOrPath; return this; }

        public LoraConfig build() {
            List<String> problems = new ArrayList<>();
            if (rank < 1) {
                problems.add("rank must be at least 1, got " + rank);
            }
            if (!(alpha > 0) || Double.isInfinite(alpha)) {
                problems.add("alpha must be positive and finite, got " + alpha);
            }
            if (!(dropout >= 0 && dropout < 1)) {
                problems.add("dropout must be in [0, 1), got " + dropout);
            }
            if (targetRegex != null) {
                try {
                    Pattern.compile(targetRegex);
                } catch (PatternSyntaxException e) {
                    problems.add("target regex \"" + targetRegex + "\" is not a valid regular expression: "
                            + e.getDescription());
                }
            } else if (targets.isEmpty()) {
                problems.add("no target modules (e.g. targets(\"c_attn\"))");
            }
            for (String t : targets) {
                if (t == null || t.isBlank()) {
                    problems.add("a target module name is blank");
                }
            }
            ConfigJson.checkLayers(layers, problems);
            if (bias == null) {
                problems.add("bias must be NONE, ALL or LORA_ONLY");
            }
            if (taskType == null || taskType.isBlank()) {
                problems.add("task type is blank (PEFT's CAUSAL_LM for language modelling)");
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("Invalid LoRA config: " + String.join("; ", problems));
            }
            return new LoraConfig(rank, alpha, dropout, targets, targetRegex, layers, rsLora, bias, taskType, baseModel);
        }
    }
}
