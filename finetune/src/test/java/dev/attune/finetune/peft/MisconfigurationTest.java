package dev.attune.finetune.peft;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.config.GptConfig;
import dev.attune.core.io.ModelFileException;
import dev.attune.core.model.GptModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The refusals of issue 11 item 9, for every method: an unknown target module (listing the valid names), a rank
 * larger than a projection allows, an adapter for a base of another shape (naming the tensor and both shapes), and a
 * PEFT file of an unsupported type. LoRA's own cases are in LoraConfigTest and LoraFilesTest.
 */
class MisconfigurationTest {

    private static final GptConfig TINY = Fixtures.base().config();

    @TempDir
    Path dir;

    @Test
    void unknownTargetsListTheValidNamesForEveryMethodThatTargetsModules() {
        assertThatThrownBy(() -> Peft.adaLora().targets("q_proj").totalStep(100).build().create(TINY, 0))
                .hasMessageContaining("[q_proj]").hasMessageContaining("valid names: c_attn, c_proj");
        assertThatThrownBy(() -> Peft.ia3().targets("c_attn", "v_proj").feedforward().build().create(TINY, 0))
                .hasMessageContaining("[v_proj]").hasMessageContaining("valid names");
        assertThatThrownBy(() -> Peft.lora().targetRegex(".*q_proj").build().create(TINY, 0))
                .hasMessageContaining(".*q_proj");
    }

    @Test
    void ranksAndWidthsLargerThanTheModelAllowsAreRefused() {
        assertThatThrownBy(() -> Peft.adaLora().initR(33).targetR(2).targets("c_attn").totalStep(100).build().create(TINY, 0))
                .hasMessageContaining("init_r 33 is larger than transformer.h.0.attn.c_attn allows")
                .hasMessageContaining("at most 32");
        assertThatThrownBy(() -> Peft.lora().rank(40).targets("c_fc").build().create(TINY, 0))
                .hasMessageContaining("rank 40 is larger than transformer.h.0.mlp.c_fc allows");
        assertThatThrownBy(() -> Peft.bottleneck().reductionFactor(64).build().create(TINY, 0))
                .hasMessageContaining("reduction factor 64 leaves no width of n_embd 32");
        assertThatThrownBy(() -> Peft.prefixTuning().numVirtualTokens(32).build().create(TINY, 0))
                .hasMessageContaining("32 virtual tokens leave no room");
        assertThatThrownBy(() -> Peft.promptTuning().numVirtualTokens(32).build().create(TINY, 0))
                .hasMessageContaining("32 virtual tokens leave no room");
    }

    @Test
    void everyMethodsAdapterIsRefusedOnABaseOfAnotherShape() throws IOException {
        GptModel wider = GptModel.zeros(TINY.toBuilder().embeddingSize(64).build());
        String[][] cases = {
                {"lora", "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight has shape [4, 32], expected [4, 64]"},
                {"adalora", "base_model.model.transformer.h.0.attn.c_attn.lora_A has shape [4, 32], expected [4, 64]"},
                {"ia3", "base_model.model.transformer.h.0.attn.c_attn.ia3_l has shape [96, 1], expected [192, 1]"},
                {"prompt", "tensor prompt_embeddings has shape [3, 32], expected [3, 64]"},
                {"prefix", "tensor prompt_embeddings has shape [3, 128], expected [3, 256]"},
        };
        for (String[] c : cases) {
            assertThatThrownBy(() -> Peft.load(GptModel.zeros(wider.config()), Fixtures.adapter(c[0]))).as(c[0])
                    .hasMessageContaining(c[1]);
        }
        // bottleneck adapters are Attune's own: save one, load it onto the wider base
        Path saved = dir.resolve("bottleneck");
        Peft.bottleneck().reductionFactor(4).build().apply(Fixtures.base()).save(Files.createDirectories(saved));
        assertThatThrownBy(() -> Peft.load(GptModel.zeros(wider.config()), saved))
                .hasMessageContaining("has shape").hasMessageContaining("base model of another shape");
        // an adapter made for one base and attached to another
        PeftModel made = Peft.lora().rank(2).build().apply(Fixtures.base());
        assertThatThrownBy(() -> made.adapter(PeftModel.DEFAULT_ADAPTER).attach(GptModel.zeros(wider.config())))
                .hasMessageContaining("made for a model of shape");
    }

    @Test
    void peftFilesOfAnUnsupportedTypeAreRefusedWithTheSupportedOnes() throws IOException {
        for (String type : new String[] {"LOHA", "BOFT", "VERA"}) {
            Files.writeString(dir.resolve(AdapterFiles.CONFIG_FILE), "{\"peft_type\": \"" + type + "\"}");
            assertThatThrownBy(() -> Peft.load(Fixtures.base(), dir)).isInstanceOf(ModelFileException.class)
                    .hasMessageContaining("peft_type \"" + type + "\" is not supported")
                    .hasMessageContaining(String.join(", ", AdapterFiles.supportedTypes()));
        }
        assertThatThrownBy(() -> AdapterFiles.configFromJson("{\"peft_type\": \"OFT\"}"))
                .hasMessageContaining("peft_type \"OFT\" is not supported");
    }
}
