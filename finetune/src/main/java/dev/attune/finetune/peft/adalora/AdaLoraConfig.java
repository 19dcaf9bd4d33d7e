package dev.attune.finetune.peft.adalora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.config.GptConfig;
import dev.attune.finetune.peft.AdapterConfig;
import dev.attune.finetune.peft.ConfigJson;
import dev.attune.finetune.peft.Target;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdaLoRA's options, as PEFT's {@code AdaLoraConfig}: LoRA in SVD form {@code B diag(E) A} whose rank budget
 * shrinks from {@code initR} to {@code targetR} per module on average while training, keeping the triplets with
 * the highest smoothed importance.
 *
 * @param initR         {@code init_r}: the starting rank of every module
 * @param targetR       {@code target_r}: the average rank at the end
 * @param alpha         {@code lora_alpha}; the update is {@code alpha / init_r * B diag(E) A}, as PEFT
 * @param dropout       {@code lora_dropout}
 * @param targetModules {@code target_modules}, name suffixes as for LoRA
 * @param layers        {@code layers_to_transform}, empty for all
 * @param tinit         {@code tinit}: steps of warm-up at the full budget
 * @param tfinal        {@code tfinal}: final steps at the target budget with the mask fixed
 * @param deltaT        {@code deltaT}: steps between budget updates
 * @param beta1         {@code beta1}: smoothing of the importance
 * @param beta2         {@code beta2}: smoothing of its uncertainty
 * @param orthRegWeight {@code orth_reg_weight}: weight of the orthogonality regulariser on A and B
 * @param totalStep     {@code total_step}: the training length the schedule is laid out over
 * @param rankPattern   {@code rank_pattern}: per module (its {@code lora_E} key), which triplets are kept; empty
 *                      until a budget was applied
 * @param taskType      {@code task_type}
 * @param baseModel     {@code base_model_name_or_path}, or null
 */
public record AdaLoraConfig(int initR, int targetR, double alpha, double dropout, List<String> targetModules,
                            List<Integer> layers, int tinit, int tfinal, int deltaT, double beta1, double beta2,
                            double orthRegWeight, int totalStep, Map<String, List<Boolean>> rankPattern,
                            String taskType, String baseModel) implements AdapterConfig {

    public static final String PEFT_TYPE = "ADALORA";

    public AdaLoraConfig {
        targetModules = List.copyOf(targetModules);
        layers = List.copyOf(layers);
        Map<String, List<Boolean>> copy = new LinkedHashMap<>();
        rankPattern.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        rankPattern = Collections.unmodifiableMap(copy);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String peftType() {
        return PEFT_TYPE;
    }

    /** The factor of {@code B diag(E) A}: {@code alpha / (init_r + 1e-5)}, PEFT's {@code scaling / ranknum}. */
    public double scaling() {
        return alpha / (initR + 1e-5);
    }

    public List<Target> targets(GptConfig model) {
        List<Target> found = Target.resolve(targetModules, null, layers, model);
        for (Target t : found) {
            int in = t.projection().inputSize(model);
            int out = t.projection().outputSize(model);
            if (initR > Math.min(in, out)) {
                throw new IllegalArgumentException("init_r " + initR + " is larger than " + t.modulePath()
                        + " allows: it maps " + in + " to " + out + ", so at most " + Math.min(in, out));
            }
        }
        return found;
    }

    /**
     * PEFT's budget schedule: the total rank allowed after {@code step} optimizer steps, and whether the mask is
     * recomputed then. Full budget through {@code tinit}, a cubic decrease to the target until
     * {@code totalStep - tfinal}, the target after.
     */
    public Budget budget(long step, int modules) {
        int initBudget = initR * modules;
        int targetBudget = targetR * modules;
        if (step <= tinit) {
            return new Budget(initBudget, false);
        }
        if (step > totalStep - tfinal) {
            return new Budget(targetBudget, true);
        }
        double mul = 1 - (double) (step - tinit) / (totalStep - tfinal - tinit);
        return new Budget((int) ((initBudget - targetBudget) * mul * mul * mul + targetBudget), step % deltaT == 0);
    }

    /** A total rank, and whether the mask is recomputed at this step. */
    public record Budget(int total, boolean mask) {
    }

    @Override
    public AdaLora create(GptConfig model, long seed) {
        return AdaLora.create(this, model, seed, org.nd4j.linalg.api.buffer.DataType.FLOAT);
    }

    /** A copy with this rank pattern. */
    public AdaLoraConfig withRankPattern(Map<String, List<Boolean>> pattern) {
        return new AdaLoraConfig(initR, targetR, alpha, dropout, targetModules, layers, tinit, tfinal, deltaT, beta1,
                beta2, orthRegWeight, totalStep, pattern, taskType, baseModel);
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode o = ConfigJson.header(PEFT_TYPE, taskType, baseModel);
        o.put("init_r", initR);
        o.put("target_r", targetR);
        o.put("r", initR);
        o.put("lora_alpha", alpha);
        o.put("lora_dropout", dropout);
        ArrayNode t = o.putArray("target_modules");
        targetModules.forEach(t::add);
        ConfigJson.putLayers(o, layers);
        o.put("tinit", tinit);
        o.put("tfinal", tfinal);
        o.put("deltaT", deltaT);
        o.put("beta1", beta1);
        o.put("beta2", beta2);
        o.put("orth_reg_weight", orthRegWeight);
        o.put("total_step", totalStep);
        if (rankPattern.isEmpty()) {
            o.putNull("rank_pattern");
        } else {
            ObjectNode p = o.putObject("rank_pattern");
            rankPattern.forEach((k, v) -> {
                ArrayNode a = p.putArray(k);
                v.forEach(a::add);
            });
        }
        o.put("fan_in_fan_out", true);
        o.put("bias", "none");
        o.putNull("modules_to_save");
        o.put("inference_mode", true);
        return o;
    }

    public static AdaLoraConfig fromJson(JsonNode json) {
        List<String> problems = new ArrayList<>();
        if (!json.path("bias").asText("none").equals("none")) {
            problems.add("bias=" + json.get("bias"));
        }
        if (json.path("use_dora").asBoolean(false)) {
            problems.add("use_dora=true");
        }
        JsonNode targets = json.get("target_modules");
        if (targets != null && targets.isTextual()) {
            problems.add("target_modules as a regex string");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("AdaLoRA options Attune does not implement: " + String.join(", ", problems));
        }
        Builder b = builder().initR(json.path("init_r").asInt(12)).targetR(json.path("target_r").asInt(8))
                .alpha(json.path("lora_alpha").asDouble(8)).dropout(json.path("lora_dropout").asDouble(0))
                .schedule(json.path("tinit").asInt(0), json.path("tfinal").asInt(0), json.path("deltaT").asInt(1))
                .betas(json.path("beta1").asDouble(0.85), json.path("beta2").asDouble(0.85))
                .orthRegWeight(json.path("orth_reg_weight").asDouble(0.5))
                .totalStep(json.path("total_step").asInt(0))
                .taskType(ConfigJson.textOrNull(json, "task_type"))
                .baseModel(ConfigJson.textOrNull(json, "base_model_name_or_path"));
        if (targets != null && targets.isArray()) {
            List<String> names = new ArrayList<>();
            targets.forEach(n -> names.add(n.asText()));
            b.targets(names.toArray(String[]::new));
        }
        int[] layers = ConfigJson.layers(json);
        if (layers != null) {
            b.layers(layers);
        }
        JsonNode pattern = json.get("rank_pattern");
        if (pattern != null && pattern.isObject()) {
            Map<String, List<Boolean>> p = new LinkedHashMap<>();
            pattern.fields().forEachRemaining(e -> {
                List<Boolean> keep = new ArrayList<>();
                e.getValue().forEach(v -> keep.add(v.asBoolean()));
                p.put(e.getKey(), keep);
            });
            b.rankPattern(p);
        }
        return b.build();
    }

    /** Fluent builder; PEFT's defaults (init_r 12, target_r 8, alpha 8, tinit 0, tfinal 0, deltaT 1, betas 0.85). */
    public static final class Builder {
        private int initR = 12;
        private int targetR = 8;
        private double alpha = 8;
        private double dropout;
        private List<String> targets = List.of("c_attn");
        private List<Integer> layers = List.of();
        private int tinit;
        private int tfinal;
        private int deltaT = 1;
        private double beta1 = 0.85;
        private double beta2 = 0.85;
        private double orthRegWeight = 0.5;
        private int totalStep;
        private Map<String, List<Boolean>> rankPattern = Map.of();
        private String taskType = "CAUSAL_LM";
        private String baseModel;

        private Builder() {
        }

        public Builder initR(int r) { this.initR = r; return this; }
        public Builder targetR(int r) { this.targetR = r; return this; }
        public Builder alpha(double a) { this.alpha = a; return this; }
        public Builder dropout(double p) { this.dropout = p; return this; }
        public Builder targets(String... names) { this.targets = List.of(names); return this; }
        public Builder layers(int... indices) { this.layers = ConfigJson.indices(indices); return this; }
        /** Warm-up steps at full budget, final steps at the target, steps between budget updates. */
        public Builder schedule(int tinit, int tfinal, int deltaT) {
            this.tinit = tinit;
            this.tfinal = tfinal;
            this.deltaT = deltaT;
            return this;
        }
        public Builder betas(double b1, double b2) { this.beta1 = b1; this.beta2 = b2; return this; }
        public Builder orthRegWeight(double w) { this.orthRegWeight = w; return this; }
        /** The number of optimizer steps the schedule spans (the run's max steps). */
        public Builder totalStep(int steps) { this.totalStep = steps; return this; }
        public Builder rankPattern(Map<String, List<Boolean>> pattern) { this.rankPattern = pattern; return this; }
        public Builder taskType(String t) { this.taskType = t; return this; }
        public Builder baseModel(String nameOrPath) { this.baseModel = nameOrPath; return this; }

        public AdaLoraConfig build() {
            List<String> problems = new ArrayList<>();
            if (initR < 1) {
                problems.add("init_r must be at least 1, got " + initR);
            }
            if (targetR < 0 || targetR > initR) {
                problems.add("target_r must be in [0, init_r = " + initR + "], got " + targetR);
            }
            if (!(alpha > 0) || Double.isInfinite(alpha)) {
                problems.add("alpha must be positive and finite, got " + alpha);
            }
            if (!(dropout >= 0 && dropout < 1)) {
                problems.add("dropout must be in [0, 1), got " + dropout);
            }
            if (targets.isEmpty()) {
                problems.add("no target modules");
            }
            if (totalStep < 1) {
                problems.add("total_step must be set to the training's number of steps (PEFT requires it too)");
            } else if (tinit < 0 || tfinal < 0 || tinit >= totalStep - tfinal) {
                problems.add("the schedule needs 0 <= tinit < total_step - tfinal, got tinit " + tinit + ", tfinal "
                        + tfinal + ", total_step " + totalStep);
            }
            if (deltaT < 1) {
                problems.add("deltaT must be at least 1, got " + deltaT);
            }
            if (!(beta1 > 0 && beta1 < 1) || !(beta2 > 0 && beta2 < 1)) {
                problems.add("beta1 and beta2 must be in (0, 1), got " + beta1 + " and " + beta2);
            }
            if (!(orthRegWeight >= 0)) {
                problems.add("orth_reg_weight must be non-negative, got " + orthRegWeight);
            }
            ConfigJson.checkLayers(layers, problems);
            if (taskType == null || taskType.isBlank()) {
                problems.add("task type is blank");
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("Invalid AdaLoRA config: " + String.join("; ", problems));
            }
            return new AdaLoraConfig(initR, targetR, alpha, dropout, targets, layers, tinit, tfinal, deltaT, beta1,
                    beta2, orthRegWeight, totalStep, rankPattern, taskType, baseModel);
        }
    }
}
