package dev.attune.finetune.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What PEFT's prompt-learning configs (its {@code PromptLearningConfig}: prefix tuning and prompt tuning) share in
 * {@code adapter_config.json}: the task, the base model, the number of virtual tokens, and one transformer submodule
 * (GPT-2 is decoder-only).
 *
 * @param numVirtualTokens {@code num_virtual_tokens} (0 when the file has none: the method's builder refuses it)
 * @param taskType         {@code task_type}, or null
 * @param baseModel        {@code base_model_name_or_path}, or null
 */
public record PromptLearning(int numVirtualTokens, String taskType, String baseModel) {

    /**
     * The shared fields of a file; one written for an encoder-decoder model ({@code num_transformer_submodules}
     * other than 1) is refused.
     */
    public static PromptLearning fromJson(JsonNode json) {
        int submodules = json.path("num_transformer_submodules").asInt(1);
        if (submodules != 1) {
            throw new IllegalArgumentException("num_transformer_submodules " + submodules + " (encoder-decoder "
                    + "models); GPT-2 has 1");
        }
        return new PromptLearning(json.path("num_virtual_tokens").asInt(0), ConfigJson.textOrNull(json, "task_type"),
                ConfigJson.textOrNull(json, "base_model_name_or_path"));
    }

    /** A config object that starts with the shared fields under {@code peft_type}; the method adds its own. */
    public ObjectNode toJson(String peftType) {
        ObjectNode o = ConfigJson.header(peftType, taskType, baseModel);
        o.put("num_virtual_tokens", numVirtualTokens);
        o.put("num_transformer_submodules", 1);
        return o;
    }
}
