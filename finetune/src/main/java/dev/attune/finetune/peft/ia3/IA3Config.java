package dev.attune.finetune.peft.ia3;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.config.GptConfig;
import dev.attune.finetune.peft.AdapterConfig;
import dev.attune.finetune.peft.ConfigJson;
import dev.attune.finetune.peft.Target;
import java.util.ArrayList;
import java.util.List;

/**
 * IA3's options, as PEFT's {@code IA3Config} stores them: learned vectors that rescale the outputs of the target
 * modules (keys, values and queries, for GPT-2's fused {@code c_attn}), or the inputs of the feed-forward ones.
 *
 * @param targetModules      {@code target_modules}, name suffixes as for LoRA (PEFT's GPT-2 default:
 *                           {@code c_attn, mlp.c_proj})
 * @param feedforwardModules {@code feedforward_modules}: those of the targets whose input is rescaled instead of
 *                           their output (default {@code mlp.c_proj}); must be targets themselves
 * @param layers             {@code layers_to_transform}, empty for all
 * @param taskType           {@code task_type}
 * @param baseModel          {@code base_model_name_or_path}, or null
 */
public record IA3Config(List<String> targetModules, List<String> feedforwardModules, List<Integer> layers,
                        String taskType, String baseModel) implements AdapterConfig {

    public static final String PEFT_TYPE = "IA3";

    public IA3Config {
        targetModules = List.copyOf(targetModules);
        feedforwardModules = List.copyOf(feedforwardModules);
        layers = List.copyOf(layers);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String peftType() {
        return PEFT_TYPE;
    }

    /** The modules rescaled, in layer order. */
    public List<Target> targets(GptConfig model) {
        return Target.resolve(targetModules, null, layers, model);
    }

    /** Whether {@code t} has its input rescaled (a feed-forward module) rather than its output. */
    public boolean feedforward(Target t) {
        return feedforwardModules.stream().anyMatch(name -> Target.matches(t.modulePath(), name));
    }

    @Override
    public IA3 create(GptConfig model, long seed) {
        return IA3.create(this, model, org.nd4j.linalg.api.buffer.DataType.FLOAT);
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode o = ConfigJson.header(PEFT_TYPE, taskType, baseModel);
        ArrayNode t = o.putArray("target_modules");
        targetModules.forEach(t::add);
        ArrayNode f = o.putArray("feedforward_modules");
        feedforwardModules.forEach(f::add);
        ConfigJson.putLayers(o, layers);
        o.put("fan_in_fan_out", true);
        o.put("init_ia3_weights", true);
        o.putNull("modules_to_save");
        o.put("inference_mode", true);
        return o;
    }

    /** Reads PEFT's IA3 {@code adapter_config.json}; a regex target is refused (a task head in
     * {@code modules_to_save} is read by {@code AdapterFiles.readModulesToSave}). */
    public static IA3Config fromJson(JsonNode json) {
        JsonNode targets = json.get("target_modules");
        if (targets != null && targets.isTextual()) {
            throw new IllegalArgumentException("IA3 target_modules as a regex string is not supported; list the names");
        }
        JsonNode exclude = json.get("exclude_modules");
        if (exclude != null && !exclude.isNull() && !exclude.isEmpty()) {
            throw new IllegalArgumentException("IA3 option Attune does not implement: exclude_modules=" + exclude);
        }
        Builder b = builder()
                .taskType(ConfigJson.textOrNull(json, "task_type"))
                .baseModel(ConfigJson.textOrNull(json, "base_model_name_or_path"));
        if (targets != null && targets.isArray()) {
            b.targets(ConfigJson.strings(targets));
        }
        JsonNode ff = json.get("feedforward_modules");
        if (ff != null && ff.isArray()) {
            b.feedforward(ConfigJson.strings(ff));
        } else if (ff != null && ff.isTextual()) {
            throw new IllegalArgumentException("IA3 feedforward_modules as a regex string is not supported");
        }
        int[] layers = ConfigJson.layers(json);
        if (layers != null) {
            b.layers(layers);
        }
        return b.build();
    }

    /** Fluent builder; PEFT's GPT-2 defaults (targets c_attn and mlp.c_proj, feed-forward mlp.c_proj). */
    public static final class Builder {
        private List<String> targets = List.of("c_attn", "mlp.c_proj");
        private List<String> feedforward = List.of("mlp.c_proj");
        private List<Integer> layers = List.of();
        private String taskType = "CAUSAL_LM";
        private String baseModel;

        private Builder() {
        }

        public Builder targets(String... names) { this.targets = List.of(names); return this; }
        public Builder feedforward(String... names) { this.feedforward = List.of(names); return this; }
        public Builder layers(int... indices) { this.layers = ConfigJson.indices(indices); return this; }
        public Builder taskType(String t) { this.taskType = t; return this; }
        public Builder baseModel(String nameOrPath) { this.baseModel = nameOrPath; return this; }

        public IA3Config build() {
            List<String> problems = new ArrayList<>();
            if (targets.isEmpty()) {
                problems.add("no target modules");
            }
            for (String f : feedforward) {
                if (!targets.contains(f)) {
                    problems.add("feed-forward module " + f + " is not among the targets " + targets
                            + " (PEFT requires feedforward_modules to be a subset of target_modules)");
                }
            }
            ConfigJson.checkLayers(layers, problems);
            if (taskType == null || taskType.isBlank()) {
                problems.add("task type is blank");
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("Invalid IA3 config: " + String.join("; ", problems));
            }
            return new IA3Config(targets, feedforward, layers, taskType, baseModel);
        }
    }
}
