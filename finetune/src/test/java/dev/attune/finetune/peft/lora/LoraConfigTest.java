package dev.attune.finetune.peft.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.config.GptConfig;
import dev.attune.core.io.ModelFileException;
import dev.attune.core.model.Projection;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.Fixtures;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.PeftModel;
import dev.attune.finetune.peft.Target;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LoraConfigTest {

    @TempDir
    Path dir;

    static final GptConfig TINY = LoraLayerTest.MODEL;

    @Test
    void gpt2SmallWithRank8OnCAttnTrains294912Of124734720() {
        PeftModel.ParameterCount count = PeftModel.ParameterCount.of(GptConfig.gpt2(),
                Peft.lora().rank(8).targets("c_attn").build());
        assertThat(count.trainable()).isEqualTo(294_912);
        assertThat(count.total()).isEqualTo(124_734_720);
        assertThat(count.percent()).isCloseTo(0.2364, org.assertj.core.data.Offset.offset(1e-4));
    }

    @Test
    void trainedBiasesCountAsTrainableBaseWeightsAsInPeft() {
        // PEFT 0.21's get_nb_trainable_parameters for GPT-2 small, r=8 on c_attn (scripts/peft/count_parameters.py)
        for (var mode : new Object[][] {{LoraConfig.Bias.LORA_ONLY, 322_560L}, {LoraConfig.Bias.ALL, 397_056L}}) {
            PeftModel.ParameterCount count = PeftModel.ParameterCount.of(GptConfig.gpt2(),
                    Peft.lora().rank(8).targets("c_attn").bias((LoraConfig.Bias) mode[0]).build());
            assertThat(count.trainable()).as("%s", mode[0]).isEqualTo(mode[1]);
            assertThat(count.total()).as("%s", mode[0]).isEqualTo(124_734_720);
        }
    }

    @Test
    void builderValidatesEverythingAtOnce() {
        assertThatThrownBy(() -> Peft.lora().rank(0).alpha(-1).dropout(1).targets().build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("rank must be at least 1").hasMessageContaining("alpha must be positive")
                .hasMessageContaining("dropout must be in [0, 1)").hasMessageContaining("no target modules");
        assertThatThrownBy(() -> Peft.lora().targetRegex("h.(").build()).hasMessageContaining("not a valid regular");
        assertThatThrownBy(() -> Peft.lora().layers(1, 1).build()).hasMessageContaining("distinct");
    }

    @Test
    void targetsMatchByNameSuffixAndLayer() {
        assertThat(Peft.lora().targets("c_proj").build().targets(TINY)).containsExactly(
                new Target(0, Projection.ATTN_C_PROJ), new Target(0, Projection.MLP_C_PROJ),
                new Target(1, Projection.ATTN_C_PROJ), new Target(1, Projection.MLP_C_PROJ));
        assertThat(Peft.lora().targets("mlp.c_proj", "c_attn").layers(1).build().targets(TINY)).containsExactly(
                new Target(1, Projection.C_ATTN), new Target(1, Projection.MLP_C_PROJ));
        assertThat(Peft.lora().targets("h.0.mlp.c_fc").build().targets(TINY))
                .containsExactly(new Target(0, Projection.C_FC));
        assertThat(Peft.lora().rank(2).targetRegex(".*\\.1\\.attn\\..*").build().targets(TINY)).containsExactly(
                new Target(1, Projection.C_ATTN), new Target(1, Projection.ATTN_C_PROJ));
    }

    @Test
    void misfitsAreRefusedWithTheValidChoices() {
        assertThatThrownBy(() -> Peft.lora().targets("c_atn").build().create(TINY, 0))
                .hasMessageContaining("[c_atn]").hasMessageContaining("valid names: c_attn, c_proj");
        assertThatThrownBy(() -> Peft.lora().rank(9).targets("c_attn").build().create(TINY, 0))
                .hasMessageContaining("rank 9 is larger than transformer.h.0.attn.c_attn allows")
                .hasMessageContaining("at most 8");
        assertThatThrownBy(() -> Peft.lora().layers(2).build().create(TINY, 0))
                .hasMessageContaining("layer 2, but the model has 2 layers");
    }

    @Test
    void readsTheConfigsPeftWrote() throws Exception {
        LoraConfig lora = (LoraConfig) AdapterFiles.readConfig(Fixtures.adapter("lora"));
        assertThat(lora.rank()).isEqualTo(4);
        assertThat(lora.alpha()).isEqualTo(8);
        assertThat(lora.scaling()).isEqualTo(2);
        assertThat(lora.targetModules()).containsExactlyInAnyOrder("c_attn", "c_proj");
        assertThat(lora.bias()).isEqualTo(LoraConfig.Bias.NONE);
        LoraConfig rs = (LoraConfig) AdapterFiles.readConfig(Fixtures.adapter("lora_rslora"));
        assertThat(rs.rsLora()).isTrue();
        assertThat(rs.scaling()).isEqualTo(4 / Math.sqrt(2));
        assertThat(rs.layers()).containsExactly(1);
        assertThat(rs.bias()).isEqualTo(LoraConfig.Bias.LORA_ONLY);
    }

    @Test
    void jsonRoundTripKeepsEveryOption() {
        LoraConfig c = Peft.lora().rank(4).alpha(16).dropout(0.05).targets("c_attn", "mlp.c_proj").layers(0)
                .rsLora(true).bias(LoraConfig.Bias.LORA_ONLY).baseModel("gpt2").build();
        assertThat(LoraConfig.fromJson(c.toJson())).isEqualTo(c);
        LoraConfig regex = Peft.lora().targetRegex(".*c_fc").alpha(2.5).build();
        assertThat(LoraConfig.fromJson(regex.toJson())).isEqualTo(regex);
    }

    @Test
    void optionsAttuneDoesNotImplementAreRefusedByName() throws Exception {
        var json = (com.fasterxml.jackson.databind.node.ObjectNode) new ObjectMapper()
                .readTree(Fixtures.adapter("lora").resolve(AdapterFiles.CONFIG_FILE).toFile());
        json.put("use_dora", true);
        json.put("use_rslora", true);
        json.putObject("rank_pattern").put("c_attn", 2);
        Files.write(dir.resolve(AdapterFiles.CONFIG_FILE), new ObjectMapper().writeValueAsBytes(json));
        assertThatThrownBy(() -> AdapterFiles.readConfig(dir)).isInstanceOf(ModelFileException.class)
                .hasMessageContaining("adapter_config.json").hasMessageContaining("use_dora=true")
                .hasMessageContaining("rank_pattern={\"c_attn\":2}");
        // modules_to_save holds task heads (see PeftHeadTest) or base modules (AdapterWithBaseModulesTest); the tied
        // lm_head of the base model comes only with the embedding it is tied to
        json.remove("use_dora");
        json.remove("rank_pattern");
        json.putArray("modules_to_save").add("lm_head");
        Files.write(dir.resolve(AdapterFiles.CONFIG_FILE), new ObjectMapper().writeValueAsBytes(json));
        assertThatThrownBy(() -> AdapterFiles.readBaseModules(dir, Fixtures.base()))
                .isInstanceOf(ModelFileException.class).hasMessageContaining("adapter_config.json")
                .hasMessageContaining("ties the output layer (lm_head) to the token embedding (wte)");
    }

    @Test
    void anUnsupportedPeftTypeIsRefusedWithTheSupportedOnes() throws Exception {
        Files.writeString(dir.resolve(AdapterFiles.CONFIG_FILE), "{\"peft_type\": \"LOHA\", \"r\": 8}");
        assertThatThrownBy(() -> Peft.load(null, dir)).isInstanceOf(ModelFileException.class)
                .hasMessageContaining("peft_type \"LOHA\" is not supported").hasMessageContaining("LORA");
        Files.writeString(dir.resolve(AdapterFiles.CONFIG_FILE), "{\"architectures\": [\"GPT2LMHeadModel\"]}");
        assertThatThrownBy(() -> Peft.readConfig(dir)).hasMessageContaining("no \"peft_type\"");
        assertThatThrownBy(() -> Peft.readConfig(dir.resolve("nowhere"))).hasMessageContaining("not an adapter directory");
        assertThat(List.of(AdapterFiles.supportedTypes().toArray())).contains("LORA");
    }
}
