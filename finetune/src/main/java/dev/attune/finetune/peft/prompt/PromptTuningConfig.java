package dev.attune.finetune.peft.prompt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.finetune.peft.AdapterConfig;
import dev.attune.finetune.peft.ConfigJson;
import dev.attune.finetune.peft.PromptLearning;
import java.util.ArrayList;
import java.util.List;

/**
 * Prompt tuning's options, as PEFT's {@code PromptTuningConfig}: {@code numVirtualTokens} learned input embeddings
 * in front of every row's real tokens.
 *
 * @param numVirtualTokens {@code num_virtual_tokens}
 * @param initText         {@code prompt_tuning_init_text}: start from the embeddings of this text's tokens
 *                         (repeated or cut to {@code numVirtualTokens}, as PEFT); null for PEFT's random start
 *                         (N(0, 1), like torch's {@code nn.Embedding})
 * @param initTokenIds     the ids of {@code initText} (not stored in the file; GPT-2's tokenizer when read back)
 * @param tokenizer        {@code tokenizer_name_or_path}, or null
 * @param taskType         {@code task_type}
 * @param baseModel        {@code base_model_name_or_path}, or null
 */
public record PromptTuningConfig(int numVirtualTokens, String initText, List<Integer> initTokenIds, String tokenizer,
                                 String taskType, String baseModel) implements AdapterConfig {

    public static final String PEFT_TYPE = "PROMPT_TUNING";

    public PromptTuningConfig {
        initTokenIds = List.copyOf(initTokenIds);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String peftType() {
        return PEFT_TYPE;
    }

    @Override
    public PromptTuning create(GptConfig model, long seed) {
        return PromptTuning.create(this, model, null, seed, org.nd4j.linalg.api.buffer.DataType.FLOAT);
    }

    @Override
    public PromptTuning create(GptModel base, long seed) {
        return PromptTuning.create(this, base.config(), base, seed, org.nd4j.linalg.api.buffer.DataType.FLOAT);
    }

    /** The ids the text start uses, repeated or cut to {@code numVirtualTokens} as PEFT does. */
    List<Integer> startIds() {
        List<Integer> ids = initTokenIds;
        if (ids.isEmpty()) {
            ids = new ArrayList<>();
            for (int id : Tokenizer.gpt2().encode(initText)) {
                ids.add(id);
            }
        }
        if (ids.isEmpty()) {
            throw new IllegalArgumentException("prompt_tuning_init_text \"" + initText + "\" has no tokens");
        }
        List<Integer> out = new ArrayList<>();
        while (out.size() < numVirtualTokens) {
            out.addAll(ids);
        }
        return out.subList(0, numVirtualTokens);
    }

    /** The {@code adapter_config.json} object; {@code token_dim} and friends are added by the adapter. */
    @Override
    public ObjectNode toJson() {
        ObjectNode o = new PromptLearning(numVirtualTokens, taskType, baseModel).toJson(PEFT_TYPE);
        o.put("prompt_tuning_init", initText == null ? "RANDOM" : "TEXT");
        if (initText == null) {
            o.putNull("prompt_tuning_init_text");
        } else {
            o.put("prompt_tuning_init_text", initText);
        }
        if (tokenizer == null) {
            o.putNull("tokenizer_name_or_path");
        } else {
            o.put("tokenizer_name_or_path", tokenizer);
        }
        o.putNull("modules_to_save");
        o.put("inference_mode", true);
        return o;
    }

    /** Reads PEFT's prompt-tuning {@code adapter_config.json}. */
    public static PromptTuningConfig fromJson(JsonNode json) {
        PromptLearning common = PromptLearning.fromJson(json);
        String init = json.path("prompt_tuning_init").asText("RANDOM");
        if (!init.equals("RANDOM") && !init.equals("TEXT")) {
            throw new IllegalArgumentException("prompt_tuning_init \"" + init + "\" is not supported; RANDOM or TEXT");
        }
        Builder b = builder().numVirtualTokens(common.numVirtualTokens()).taskType(common.taskType())
                .baseModel(common.baseModel()).tokenizer(ConfigJson.textOrNull(json, "tokenizer_name_or_path"));
        if (init.equals("TEXT")) {
            b.initText(json.path("prompt_tuning_init_text").asText(null));
        }
        return b.build();
    }

    /** Fluent builder; random start unless {@link #initText(String, Tokenizer)}. */
    public static final class Builder {
        private int numVirtualTokens = 20;
        private String initText;
        private List<Integer> initTokenIds = List.of();
        private String tokenizer;
        private String taskType = "CAUSAL_LM";
        private String baseModel;

        private Builder() {
        }

        public Builder numVirtualTokens(int n) { this.numVirtualTokens = n; return this; }

        /** Starts the prompt from the embeddings of {@code text}'s tokens. */
        public Builder initText(String text, Tokenizer tokenizer) {
            this.initText = text;
            List<Integer> ids = new ArrayList<>();
            for (int id : tokenizer.encode(text)) {
                ids.add(id);
            }
            this.initTokenIds = ids;
            return this;
        }

        /** Like {@link #initText(String, Tokenizer)} with GPT-2's tokenizer, applied when the adapter is made. */
        public Builder initText(String text) {
            this.initText = text;
            this.initTokenIds = List.of();
            return this;
        }

        public Builder tokenizer(String nameOrPath) { this.tokenizer = nameOrPath; return this; }
        public Builder taskType(String t) { this.taskType = t; return this; }
        public Builder baseModel(String nameOrPath) { this.baseModel = nameOrPath; return this; }

        public PromptTuningConfig build() {
            List<String> problems = new ArrayList<>();
            if (numVirtualTokens < 1) {
                problems.add("num_virtual_tokens must be at least 1, got " + numVirtualTokens);
            }
            if (initText != null && initText.isEmpty()) {
                problems.add("the init text is empty");
            }
            if (taskType == null || taskType.isBlank()) {
                problems.add("task type is blank");
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("Invalid prompt tuning config: " + String.join("; ", problems));
            }
            return new PromptTuningConfig(numVirtualTokens, initText, initTokenIds, tokenizer, taskType, baseModel);
        }
    }
}
