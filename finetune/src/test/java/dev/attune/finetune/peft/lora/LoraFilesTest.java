package dev.attune.finetune.peft.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.config.GptConfig;
import dev.attune.core.io.ModelFileException;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.Fixtures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** PEFT's files in, Attune's files out, and merged weights against PEFT's logits. */
class LoraFilesTest {

    @TempDir
    Path dir;

    static Lora read(Path adapter, GptModel base) throws IOException {
        LoraConfig config = (LoraConfig) AdapterFiles.readConfig(adapter);
        Lora lora = config.create(base.config(), 0);
        try (SafeTensors f = AdapterFiles.openWeights(adapter)) {
            lora.load(f, base);
        }
        return lora;
    }

    @Test
    void peftAdaptersMergedIntoTheBaseGivePeftsLogits() throws IOException {
        for (String name : new String[] {"lora", "lora_rslora"}) {
            GptModel base = Fixtures.base();
            INDArray before = base.logits(Fixtures.batch());
            assertThat(Fixtures.maxAbsDiff(before, Fixtures.logits("base"))).isLessThan(1e-4);
            read(Fixtures.adapter(name), base).merge(base);
            INDArray merged = base.logits(Fixtures.batch());
            assertThat(Fixtures.maxAbsDiff(merged, Fixtures.logits(name))).as(name).isLessThan(1e-4);
            assertThat(Fixtures.maxAbsDiff(merged, Fixtures.logits(name + ".merged"))).as(name).isLessThan(1e-4);
            // and the adapter changes the logits by much more than the tolerance
            assertThat(Fixtures.maxAbsDiff(merged, before)).as(name).isGreaterThan(0.1);
        }
    }

    @Test
    void savesPeftsKeysShapesValuesAndConfig() throws IOException {
        for (String name : new String[] {"lora", "lora_rslora"}) {
            GptModel base = Fixtures.base();
            Lora lora = read(Fixtures.adapter(name), base);
            Path out = dir.resolve(name);
            AdapterFiles.write(out, lora, base);
            try (SafeTensors peft = AdapterFiles.openWeights(Fixtures.adapter(name));
                 SafeTensors ours = AdapterFiles.openWeights(out)) {
                assertThat(ours.names()).containsExactlyInAnyOrderElementsOf(peft.names());
                for (String key : peft.names()) {
                    assertThat(ours.info(key).shape()).as(key).isEqualTo(peft.info(key).shape());
                    assertThat(Fixtures.maxAbsDiff(ours.read(key), peft.read(key))).as(key).isLessThan(1e-7);
                }
            }
            assertThat(AdapterFiles.readConfig(out)).isEqualTo(AdapterFiles.readConfig(Fixtures.adapter(name)));
        }
    }

    @Test
    void anAdapterForAnotherBaseShapeIsRefusedWithTheTensorAndShapes() throws IOException {
        GptModel wider = GptModel.zeros(Fixtures.base().config().toBuilder().embeddingSize(64).build());
        LoraConfig config = (LoraConfig) AdapterFiles.readConfig(Fixtures.adapter("lora"));
        Lora lora = config.create(wider.config(), 0);
        try (SafeTensors f = AdapterFiles.openWeights(Fixtures.adapter("lora"))) {
            assertThatThrownBy(() -> lora.load(f, wider)).isInstanceOf(ModelFileException.class)
                    .hasMessageContaining("adapter_model.safetensors")
                    .hasMessageContaining("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight has shape "
                            + Arrays.toString(new long[] {4, 32}) + ", expected [4, 64]")
                    .hasMessageContaining("base model of another shape");
        }
        GptConfig fewerLayers = Fixtures.base().config().toBuilder().layers(1).build();
        Lora shallow = config.create(fewerLayers, 0);
        try (SafeTensors f = AdapterFiles.openWeights(Fixtures.adapter("lora"))) {
            assertThatThrownBy(() -> shallow.load(f, GptModel.zeros(fewerLayers)))
                    .hasMessageContaining("unexpected tensor base_model.model.transformer.h.1.attn.c_attn.lora_A.weight");
        }
    }

    @Test
    void freshAdaptersFollowPeftsInitialisation() {
        GptConfig model = LoraLayerTest.MODEL;
        Lora lora = LoraConfig.builder().rank(4).targets("c_attn", "mlp.c_proj").build().create(model, 7);
        for (int i = 0; i < lora.targets().size(); i++) {
            LoraLayer layer = lora.layer(i);
            double bound = 1 / Math.sqrt(layer.a.size(1));
            assertThat(layer.a.amaxNumber().doubleValue()).isLessThanOrEqualTo(bound).isGreaterThan(bound * 0.7);
            assertThat(layer.b.amaxNumber().doubleValue()).isZero();
        }
        Lora same = LoraConfig.builder().rank(4).targets("c_attn", "mlp.c_proj").build().create(model, 7);
        assertThat(same.tensors().parameters()).isEqualTo(lora.tensors().parameters());
        Lora other = LoraConfig.builder().rank(4).targets("c_attn", "mlp.c_proj").build().create(model, 8);
        assertThat(other.tensors().parameters()).isNotEqualTo(lora.tensors().parameters());
    }

}
