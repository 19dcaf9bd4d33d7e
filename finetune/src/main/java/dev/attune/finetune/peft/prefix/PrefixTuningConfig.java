package dev.attune.finetune.peft.prefix;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.config.GptConfig;
import dev.attune.finetune.peft.AdapterConfig;
import dev.attune.finetune.peft.PromptLearning;
import java.util.ArrayList;
import java.util.List;

/**
 * Prefix tuning's options, as PEFT's {@code PrefixTuningConfig}: {@code numVirtualTokens} learned key/value
 * positions in front of every row, in every layer.
 *
 * @param numVirtualTokens   {@code num_virtual_tokens}
 * @param projection         {@code prefix_projection}: train the prefix through PEFT's reparameterisation MLP
 *                           ({@code embedding [P, C] -> Linear(C, H) -> tanh -> Linear(H, 2 L C)}), folded into a plain
 *                           prefix when saved, as PEFT does
 * @param encoderHiddenSize  {@code encoder_hidden_size}: the MLP's width H (0: n_embd)
 * @param taskType         {@code task_type}
 * @param baseModel        {@code base_model_name_or_path}, or null
 */
public record PrefixTuningConfig(int numVirtualTokens, boolean projection, int encoderHiddenSize, String taskType,
                                 String baseModel) implements AdapterConfig {

    public static final String PEFT_TYPE = "PREFIX_TUNING";

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String peftType() {
        return PEFT_TYPE;
    }

    @Override
    public PrefixTuning create(GptConfig model, long seed) {
        return PrefixTuning.create(this, model, seed, org.nd4j.linalg.api.buffer.DataType.FLOAT);
    }

    /** The {@code adapter_config.json} object; the model's dimensions are added by the adapter. */
    @Override
    public ObjectNode toJson() {
        ObjectNode o = new PromptLearning(numVirtualTokens, taskType, baseModel).toJson(PEFT_TYPE);
        o.put("prefix_projection", projection);
        o.putNull("modules_to_save");
        o.put("inference_mode", true);
        return o;
    }

    /**
     * Reads PEFT's prefix-tuning {@code adapter_config.json}. A file saved with {@code prefix_projection} holds the
     * projected prefix already (PEFT folds the MLP away on save), so it loads as a plain prefix.
     */
    public static PrefixTuningConfig fromJson(JsonNode json) {
        PromptLearning common = PromptLearning.fromJson(json);
        return builder().numVirtualTokens(common.numVirtualTokens()).taskType(common.taskType())
                .baseModel(common.baseModel()).build();
    }

    /** Fluent builder. */
    public static final class Builder {
        private int numVirtualTokens = 20;
        private boolean projection;
        private int encoderHiddenSize;
        private String taskType = "CAUSAL_LM";
        private String baseModel;

        private Builder() {
        }

        public Builder numVirtualTokens(int n) { this.numVirtualTokens = n; return this; }
        /** Trains through PEFT's reparameterisation MLP of width {@code hidden} (0: n_embd). */
        public Builder projection(boolean on, int hidden) {
            this.projection = on;
            this.encoderHiddenSize = hidden;
            return this;
        }
        public Builder taskType(String t) { this.taskType = t; return this; }
        public Builder baseModel(String nameOrPath) { this.baseModel = nameOrPath; return this; }

        public PrefixTuningConfig build() {
            List<String> problems = new ArrayList<>();
            if (numVirtualTokens < 1) {
                problems.add("num_virtual_tokens must be at least 1, got " + numVirtualTokens);
            }
            if (encoderHiddenSize < 0) {
                problems.add("encoder hidden size must be positive (0: n_embd), got " + encoderHiddenSize);
            }
            if (taskType == null || taskType.isBlank()) {
                problems.add("task type is blank");
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("Invalid prefix tuning config: " + String.join("; ", problems));
            }
            return new PrefixTuningConfig(numVirtualTokens, projection, encoderHiddenSize, taskType, baseModel);
        }
    }
}
