package dev.attune.finetune.peft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.finetune.peft.prefix.PrefixTuningConfig;
import dev.attune.finetune.peft.prompt.PromptTuningConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The fields prefix and prompt tuning share in {@code adapter_config.json}, against PEFT's own files. */
class PromptLearningTest {

    @Test
    void readsPeftsSharedFieldsAndWritesThemFirst() throws Exception {
        for (String name : List.of("prefix", "prompt", "seqcls_prefix")) {
            var json = new ObjectMapper().readTree(Fixtures.adapter(name).resolve(AdapterFiles.CONFIG_FILE).toFile());
            PromptLearning common = PromptLearning.fromJson(json);
            assertThat(common.numVirtualTokens()).as(name).isEqualTo(3);
            assertThat(common.taskType()).as(name).isEqualTo(name.startsWith("seqcls") ? "SEQ_CLS" : "CAUSAL_LM");
            assertThat(common.baseModel()).as(name).isNull();
            assertThat(common.toJson("X").fieldNames()).toIterable().containsExactly("peft_type", "task_type",
                    "base_model_name_or_path", "num_virtual_tokens", "num_transformer_submodules");
        }
    }

    @Test
    void encoderDecoderFilesAreRefusedByBothMethods() {
        ObjectNode prefix = Peft.prefixTuning().numVirtualTokens(2).baseModel("gpt2").build().toJson();
        ObjectNode prompt = Peft.promptTuning().numVirtualTokens(2).build().toJson();
        assertThat(PrefixTuningConfig.fromJson(prefix)).isEqualTo(Peft.prefixTuning().numVirtualTokens(2)
                .baseModel("gpt2").build());
        assertThat(PromptTuningConfig.fromJson(prompt)).isEqualTo(Peft.promptTuning().numVirtualTokens(2).build());
        prefix.put("num_transformer_submodules", 2);
        prompt.put("num_transformer_submodules", 2);
        assertThatThrownBy(() -> PrefixTuningConfig.fromJson(prefix))
                .hasMessageContaining("num_transformer_submodules 2 (encoder-decoder models); GPT-2 has 1");
        assertThatThrownBy(() -> PromptTuningConfig.fromJson(prompt))
                .hasMessageContaining("num_transformer_submodules 2 (encoder-decoder models); GPT-2 has 1");
    }
}
