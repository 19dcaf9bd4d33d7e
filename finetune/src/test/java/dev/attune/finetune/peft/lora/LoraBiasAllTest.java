package dev.attune.finetune.peft.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.Generator;
import dev.attune.core.io.ModelFileException;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.core.train.TrainableTensor;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.Fixtures;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.PeftModel;
import dev.attune.finetune.peft.TestSteps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * LoRA's bias mode {@code all}: every bias of the base trains (LayerNorms, untargeted and targeted projections), held
 * as shifts in the adapter. Against PEFT's own {@code lora_bias_all} fixture (scripts/peft/make_fixtures.py) and, the
 * other way, an adapter Attune wrote that PEFT loaded ({@code attune_lora_bias_all},
 * scripts/peft/check_attune_adapter.py).
 */
class LoraBiasAllTest {

    /** Every bias of the fixture base (2 layers), as PEFT saves them for bias="all" with c_attn targeted. */
    private static final List<String> PEFT_KEYS = List.of("h.0.ln_1.bias", "h.0.attn.c_attn.base_layer.bias",
            "h.0.attn.c_proj.bias", "h.0.ln_2.bias", "h.0.mlp.c_fc.bias", "h.0.mlp.c_proj.bias", "h.1.ln_1.bias",
            "h.1.attn.c_attn.base_layer.bias", "h.1.attn.c_proj.bias", "h.1.ln_2.bias", "h.1.mlp.c_fc.bias",
            "h.1.mlp.c_proj.bias", "ln_f.bias").stream().map(k -> Lora.PREFIX + "transformer." + k).toList();

    @TempDir
    Path dir;

    @Test
    void peftsAdapterGivesPeftsLogitsAndGenerationAndLeavesTheBaseUntouched() throws IOException {
        GptModel base = Fixtures.base();
        INDArray weights = base.parameters().dup();
        PeftModel peft = Peft.load(base, Fixtures.adapter("lora_bias_all"));
        assertThat(((LoraConfig) peft.adapter("default").config()).bias()).isEqualTo(LoraConfig.Bias.ALL);
        INDArray logits = base.logits(Fixtures.batch());
        assertThat(Fixtures.maxAbsDiff(logits, Fixtures.logits("lora_bias_all"))).isLessThan(1e-4);
        // the biases matter: without the LayerNorm and untargeted shifts the logits would be far off
        assertThat(Fixtures.maxAbsDiff(logits, Fixtures.logits("base"))).isGreaterThan(1);
        assertThat(base.parameters()).as("the base is bit-identical").isEqualTo(weights);
        int[] generated = Generator.of(base, Tokenizer.gpt2()).generate(Fixtures.prompt(), GenerationConfig.greedy(6))
                .ids();
        assertThat(generated).containsExactly(Fixtures.greedy("lora_bias_all"));
    }

    @Test
    void disabledRunsTheUntouchedBaseWherePeftKeepsTheTrainedBiases() throws IOException {
        GptModel base = Fixtures.base();
        PeftModel peft = Peft.load(base, Fixtures.adapter("lora_bias_all"));
        peft.disableAdapters();
        INDArray disabled = base.logits(Fixtures.batch());
        assertThat(Fixtures.maxAbsDiff(disabled, Fixtures.logits("base"))).isLessThan(1e-4);
        // PEFT trained the base biases in place, so its disable_adapter() still runs them (documented difference)
        assertThat(Fixtures.maxAbsDiff(disabled, Fixtures.logits("lora_bias_all.disabled"))).isGreaterThan(1);
        peft.enableAdapters();
        assertThat(Fixtures.maxAbsDiff(base.logits(Fixtures.batch()), Fixtures.logits("lora_bias_all")))
                .isLessThan(1e-4);
        // a second adapter on the same base does not see the first one's biases
        peft.loadAdapter("plain", Fixtures.adapter("lora"));
        peft.setActiveAdapter("plain");
        assertThat(Fixtures.maxAbsDiff(base.logits(Fixtures.batch()), Fixtures.logits("lora"))).isLessThan(1e-4);
    }

    @Test
    void mergeGivesPeftsMergedModelAndUnmergeRestoresEveryBiasExactly() throws IOException {
        GptModel base = Fixtures.base();
        INDArray weights = base.parameters().dup();
        PeftModel peft = Peft.load(base, Fixtures.adapter("lora_bias_all"));
        INDArray unmerged = base.logits(Fixtures.batch());
        INDArray ln1 = base.parameter("h.0.ln_1.bias").dup();
        peft.merge();
        assertThat(base.adapters().isEmpty()).as("every shift is folded in and detached").isTrue();
        assertThat(Fixtures.maxAbsDiff(base.logits(Fixtures.batch()), unmerged)).isLessThan(1e-5);
        assertThat(Fixtures.maxAbsDiff(base.parameter("h.0.ln_1.bias"), ln1)).isGreaterThan(0.01);
        peft.unmerge();
        assertThat(base.parameters()).isEqualTo(weights);
        assertThat(base.logits(Fixtures.batch())).isEqualTo(unmerged);

        peft.saveMerged(dir.resolve("merged"));
        assertThat(base.parameters()).isEqualTo(weights);
        GptModel merged = HfCheckpoint.load(dir.resolve("merged"));
        assertThat(Fixtures.maxAbsDiff(merged.logits(Fixtures.batch()), Fixtures.logits("lora_bias_all.merged")))
                .isLessThan(1e-4);
        assertThat(Fixtures.maxAbsDiff(merged.parameter("ln_f.bias"), base.parameter("ln_f.bias")))
                .isGreaterThan(0.01);
    }

    @Test
    void savesPeftsKeysShapesValuesAndConfig() throws IOException {
        GptModel base = Fixtures.base();
        Lora lora = LoraFilesTest.read(Fixtures.adapter("lora_bias_all"), base);
        AdapterFiles.write(dir, lora, base);
        try (SafeTensors peft = AdapterFiles.openWeights(Fixtures.adapter("lora_bias_all"));
             SafeTensors ours = AdapterFiles.openWeights(dir)) {
            assertThat(peft.names()).containsAll(PEFT_KEYS);
            assertThat(ours.names()).containsExactlyInAnyOrderElementsOf(peft.names());
            for (String key : peft.names()) {
                assertThat(ours.info(key).shape()).as(key).isEqualTo(peft.info(key).shape());
                assertThat(Fixtures.maxAbsDiff(ours.read(key), peft.read(key))).as(key).isLessThan(1e-7);
            }
        }
        assertThat(AdapterFiles.readConfig(dir)).isEqualTo(AdapterFiles.readConfig(Fixtures.adapter("lora_bias_all")));
    }

    @Test
    void trainableParametersCountEveryBiasOnceAsPeftDoes() throws IOException {
        // PEFT 0.21 on the fixture base, r=2 on c_attn: bias all 1,248 of 30,208, lora_only 704 of 30,208, none 512
        PeftModel peft = Peft.load(Fixtures.base(), Fixtures.adapter("lora_bias_all"));
        assertThat(peft.trainableParameters()).isEqualTo(new PeftModel.ParameterCount(1_248, 30_208));
        assertThat(peft.parameters().length()).as("the optimizer's buffer").isEqualTo(1_248);
        for (var mode : new Object[][] {{LoraConfig.Bias.LORA_ONLY, 704L}, {LoraConfig.Bias.NONE, 512L}}) {
            PeftModel other = Peft.lora().rank(2).targets("c_attn").bias((LoraConfig.Bias) mode[0]).build()
                    .apply(Fixtures.base(), 1);
            assertThat(other.trainableParameters()).as("%s", mode[0])
                    .isEqualTo(new PeftModel.ParameterCount((long) mode[1], 30_208));
        }
    }

    @Test
    void gradientsOfEveryKindOfBiasMatchCentralDifferences() throws IOException {
        // float32 model: per shift tensor, its largest gradient entry against a central difference with a wide step
        GptModel base = Fixtures.base();
        PeftModel peft = Peft.load(base, Fixtures.adapter("lora_bias_all"));
        TokenBatch batch = Fixtures.batch();
        int n = batch.validTargets();
        peft.forwardBackward(batch, n, false, 0);
        INDArray grad = peft.gradients().dup();
        int checked = 0;
        for (TrainableTensor t : peft.tensors()) {
            if (!t.name().endsWith("bias_delta")) {
                continue;
            }
            int i = (int) t.offset();
            for (long k = t.offset(); k < t.end(); k++) {
                if (Math.abs(grad.getDouble(k)) > Math.abs(grad.getDouble(i))) {
                    i = (int) k;
                }
            }
            double exact = grad.getDouble(i);
            assertThat(Math.abs(exact)).as(t.name()).isGreaterThan(1e-3);
            double numeric = TestSteps.centralDifference(peft, batch, i, 1e-2);
            assertThat(Math.abs(numeric - exact) / Math.abs(exact)).as("%s: %s vs %s", t.name(), numeric, exact)
                    .isLessThan(0.02);
            checked++;
        }
        assertThat(checked).as("ln_1, c_attn, c_proj, ln_2, c_fc, mlp.c_proj of 2 layers and ln_f").isEqualTo(13);
    }

    @Test
    void trainingLowersTheLossLeavesTheBaseBitIdenticalAndReloadsExactly() throws IOException {
        GptModel base = Fixtures.trainingBase();
        INDArray baseWeights = base.parameters().dup();
        PeftModel peft = Peft.lora().rank(2).alpha(4).targets("c_attn").bias(LoraConfig.Bias.ALL).build()
                .apply(base, 1);
        List<Double> losses = TestSteps.trainOnCycle(peft, 200, 30, 1e-2, dir.resolve("run"));
        assertThat(losses.get(losses.size() - 1)).isLessThan(losses.get(0) * 0.6);
        assertThat(base.parameters()).as("base weights bit-identical").isEqualTo(baseWeights);
        Lora lora = (Lora) peft.adapter("default");
        for (String shift : List.of("h.0.ln_1", "h.1.ln_2", "ln_f", "h.0.attn.c_proj", "h.1.mlp.c_fc")) {
            INDArray d = lora.tensors().parameter(Lora.PREFIX + "transformer." + shift + ".bias_delta");
            assertThat(d.norm1Number().doubleValue()).as("%s trained", shift).isGreaterThan(1e-3);
        }

        TokenBatch batch = Fixtures.batch();
        INDArray trained = base.logits(batch);
        peft.save(dir.resolve("adapter"));
        GptModel fresh = Fixtures.trainingBase();
        PeftModel again = Peft.load(fresh, dir.resolve("adapter"));
        assertThat(Fixtures.maxAbsDiff(again.model().logits(batch), trained)).isLessThan(1e-5);
        try (SafeTensors f = AdapterFiles.openWeights(dir.resolve("adapter"))) {
            INDArray saved = f.read(Lora.PREFIX + "transformer.ln_f.bias");
            INDArray expected = base.parameter("ln_f.bias")
                    .add(lora.tensors().parameter(Lora.PREFIX + "transformer.ln_f.bias_delta"));
            assertThat(Fixtures.maxAbsDiff(saved, expected)).as("saved whole, as PEFT does").isEqualTo(0.0);
        }
    }

    @Test
    void aFileWhoseBiasesDoNotMatchItsConfigIsRefusedNamingThem() throws IOException {
        Path mixed = dir.resolve("mixed");
        Files.createDirectories(mixed);
        Files.copy(Fixtures.adapter("lora_bias_all").resolve(AdapterFiles.WEIGHTS_FILE),
                mixed.resolve(AdapterFiles.WEIGHTS_FILE));
        String config = Files.readString(Fixtures.adapter("lora_bias_all").resolve(AdapterFiles.CONFIG_FILE))
                .replace("\"bias\": \"all\"", "\"bias\": \"lora_only\"");
        Files.writeString(mixed.resolve(AdapterFiles.CONFIG_FILE), config);
        assertThatThrownBy(() -> Peft.load(Fixtures.base(), mixed)).isInstanceOf(ModelFileException.class)
                .hasMessageContaining("unexpected tensor base_model.model.transformer.ln_f.bias")
                .hasMessageContaining("unexpected tensor base_model.model.transformer.h.1.ln_2.bias");

        Files.copy(Fixtures.adapter("lora_rslora").resolve(AdapterFiles.WEIGHTS_FILE),
                mixed.resolve(AdapterFiles.WEIGHTS_FILE), StandardCopyOption.REPLACE_EXISTING);
        Files.writeString(mixed.resolve(AdapterFiles.CONFIG_FILE),
                Files.readString(Fixtures.adapter("lora_rslora").resolve(AdapterFiles.CONFIG_FILE))
                        .replace("\"bias\": \"lora_only\"", "\"bias\": \"all\""));
        assertThatThrownBy(() -> Peft.load(Fixtures.base(), mixed)).isInstanceOf(ModelFileException.class)
                .hasMessageContaining("missing tensor base_model.model.transformer.ln_f.bias [32]")
                .hasMessageContaining("missing tensor base_model.model.transformer.h.0.mlp.c_fc.bias [128]");
    }

    // ------------------------------------------------------------------ the other direction: Attune's file in PEFT

    /**
     * An adapter Attune wrote with bias all, c_fc targeted in layer 1 only (so layer 0's c_fc bias is saved as an
     * untargeted {@code mlp.c_fc.bias}, layer 1's as {@code mlp.c_fc.base_layer.bias}), every trained tensor but A
     * set to random values. Committed as {@code peft/attune_lora_bias_all/}; PEFT's logits for it, from
     * scripts/peft/check_attune_adapter.py, in {@code attune_lora_bias_all_expected.safetensors}; to regenerate see
     * {@link Fixtures#assertSameAsCommitted}.
     */
    static Lora attuneAdapter(GptModel base) {
        Lora lora = LoraConfig.builder().rank(2).alpha(3).targets("c_fc").layers(1).bias(LoraConfig.Bias.ALL).build()
                .create(base.config(), 13);
        for (TrainableTensor t : lora.tensors().tensors()) {
            if (!t.name().endsWith("lora_A.weight")) {
                INDArray p = lora.tensors().parameter(t.name());
                p.assign(TestSteps.random(t.offset(), 0.2, p.shape()).castTo(DataType.FLOAT));
            }
        }
        return lora;
    }

    @Test
    void attuneWritesAnAdapterPeftLoadsWithTheSameLogits() throws IOException {
        GptModel base = Fixtures.base();
        Lora lora = attuneAdapter(base);
        AdapterFiles.write(dir, lora, base);
        Fixtures.assertSameAsCommitted(dir, "attune_lora_bias_all");
        try (SafeTensors ours = AdapterFiles.openWeights(dir)) {
            assertThat(ours.names()).contains(Lora.PREFIX + "transformer.h.0.mlp.c_fc.bias",
                    Lora.PREFIX + "transformer.h.1.mlp.c_fc.base_layer.bias").hasSize(2 + 2 * 6 + 1);
        }
        INDArray peftLogits;
        try (SafeTensors f = SafeTensors.open(Fixtures.root().resolve("attune_lora_bias_all_expected.safetensors"))) {
            peftLogits = f.read("logits");
        }
        lora.attach(base);
        assertThat(Fixtures.maxAbsDiff(base.logits(Fixtures.batch()), peftLogits)).isLessThan(1e-4);
        assertThat(Fixtures.maxAbsDiff(peftLogits, Fixtures.logits("base"))).isGreaterThan(0.1);
    }
}
