package dev.attune.finetune.peft.lora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.finetune.peft.Fixtures;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.PeftModel;
import dev.attune.finetune.peft.TestSteps;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** LoRA through the model's adapter seam: PEFT parity, merge, several adapters, training, saving, generation. */
class LoraModelTest {

    @TempDir
    Path dir;

    @Test
    void aPeftAdapterGivesPeftsLogitsAndGreedyGeneration() throws IOException {
        PeftModel peft = Peft.load(Fixtures.base(), Fixtures.adapter("lora"));
        INDArray logits = peft.model().logits(Fixtures.batch());
        assertThat(Fixtures.maxAbsDiff(logits, Fixtures.logits("lora"))).isLessThan(1e-4);
        int[] generated = Generator.of(peft.model(), Tokenizer.gpt2())
                .generate(Fixtures.prompt(), GenerationConfig.greedy(6)).ids();
        assertThat(generated).containsExactly(Fixtures.greedy("lora"));
        assertThat(Fixtures.greedy("lora")).isNotEqualTo(Fixtures.greedy("base"));
    }

    @Test
    void aFreshAdapterLeavesTheModelUnchanged() {
        GptModel base = Fixtures.base();
        INDArray before = base.logits(Fixtures.batch());
        PeftModel peft = Peft.lora().rank(4).alpha(16).targets("c_attn", "c_proj", "c_fc").build().apply(base, 3);
        assertThat(peft.model().logits(Fixtures.batch())).isEqualTo(before);
    }

    @Test
    void mergedOutputsEqualUnmergedAndUnmergeRestoresTheWeightsExactly() throws IOException {
        for (String name : new String[] {"lora", "lora_rslora"}) {
            GptModel base = Fixtures.base();
            INDArray weights = base.parameters().dup();
            PeftModel peft = Peft.load(base, Fixtures.adapter(name));
            INDArray unmerged = base.logits(Fixtures.batch());
            peft.merge();
            assertThat(peft.merged()).isTrue();
            INDArray merged = base.logits(Fixtures.batch());
            assertThat(Fixtures.maxAbsDiff(merged, unmerged)).as(name).isLessThan(1e-5);
            assertThat(base.parameters()).isNotEqualTo(weights);
            assertThatThrownBy(() -> peft.forwardBackward(Fixtures.batch(), 1, false, 0))
                    .hasMessageContaining("merged");
            peft.unmerge();
            assertThat(base.parameters()).isEqualTo(weights);
            assertThat(base.logits(Fixtures.batch())).isEqualTo(unmerged);
        }
    }

    @Test
    void saveMergedWritesAPlainCheckpointWithPeftsMergedLogits() throws IOException {
        GptModel base = Fixtures.base();
        PeftModel peft = Peft.load(base, Fixtures.adapter("lora"));
        INDArray weights = base.parameters().dup();
        peft.saveMerged(dir.resolve("merged"));
        assertThat(base.parameters()).isEqualTo(weights);
        GptModel merged = dev.attune.core.checkpoint.HfCheckpoint.load(dir.resolve("merged"));
        assertThat(Fixtures.maxAbsDiff(merged.logits(Fixtures.batch()), Fixtures.logits("lora.merged")))
                .isLessThan(1e-4);
    }

    @Test
    void severalNamedAdaptersSwitchAndDisable() throws IOException {
        GptModel base = Fixtures.base();
        PeftModel peft = Peft.load(base, Fixtures.adapter("lora"));
        peft.loadAdapter("rs", Fixtures.adapter("lora_rslora"));
        assertThat(peft.adapterNames()).containsExactly("default", "rs");
        assertThat(peft.activeAdapter()).isEqualTo("default");
        TokenBatch batch = Fixtures.batch();
        assertThat(Fixtures.maxAbsDiff(base.logits(batch), Fixtures.logits("lora"))).isLessThan(1e-4);
        peft.setActiveAdapter("rs");
        assertThat(Fixtures.maxAbsDiff(base.logits(batch), Fixtures.logits("lora_rslora"))).isLessThan(1e-4);
        peft.disableAdapters();
        assertThat(Fixtures.maxAbsDiff(base.logits(batch), Fixtures.logits("base"))).isLessThan(1e-4);
        assertThatThrownBy(() -> peft.forwardBackward(batch, 1, false, 0)).hasMessageContaining("disabled");
        peft.enableAdapters();
        assertThat(Fixtures.maxAbsDiff(base.logits(batch), Fixtures.logits("lora_rslora"))).isLessThan(1e-4);
        assertThat(peft.trainableParameters().trainable()).isEqualTo(peft.adapter("rs").tensors().size());
        assertThatThrownBy(() -> peft.setActiveAdapter("nope")).hasMessageContaining("[default, rs]");
        assertThatThrownBy(() -> peft.loadAdapter("rs", Fixtures.adapter("lora"))).hasMessageContaining("exists");
    }

    @Test
    void gradientsThroughTheModelMatchCentralDifferences() throws IOException {
        // float32 model: a loose bound, on entries whose gradient is well above the float32 noise
        GptModel base = Fixtures.base();
        PeftModel peft = Peft.load(base, Fixtures.adapter("lora_rslora"));
        TokenBatch batch = Fixtures.batch();
        int n = batch.validTargets();
        peft.forwardBackward(batch, n, false, 0);
        INDArray grad = peft.gradients().dup();
        INDArray p = peft.parameters();
        SplittableRandom pick = new SplittableRandom(5);
        int checked = 0;
        double h = 1e-2;
        for (int k = 0; k < 200 && checked < 12; k++) {
            int i = pick.nextInt((int) p.length());
            double exact = grad.getDouble(i);
            if (Math.abs(exact) < 1e-3) {
                continue;
            }
            double numeric = TestSteps.centralDifference(peft, batch, i, h);
            assertThat(Math.abs(numeric - exact) / Math.abs(exact)).as("entry %d: %s vs %s", i, numeric, exact)
                    .isLessThan(0.05);
            checked++;
        }
        assertThat(checked).isGreaterThanOrEqualTo(8);
    }

    @Test
    void trainingLowersTheLossLeavesTheBaseBitIdenticalAndReloadsExactly() throws IOException {
        GptModel base = Fixtures.trainingBase();
        INDArray baseWeights = base.parameters().dup();
        PeftModel peft = Peft.lora().rank(4).alpha(8).dropout(0.05).targets("c_attn", "mlp.c_fc")
                .bias(LoraConfig.Bias.LORA_ONLY).build().apply(base, 1);
        List<Double> losses = TestSteps.trainOnCycle(peft, 200, 40, 1e-2, dir.resolve("run"));
        assertThat(losses.get(losses.size() - 1)).isLessThan(losses.get(0) * 0.6);
        assertThat(base.parameters()).as("base weights bit-identical").isEqualTo(baseWeights);
        assertThat(peft.tensors()).isEqualTo(peft.adapter("default").tensors().tensors());

        TokenBatch batch = Fixtures.batch();
        INDArray trained = base.logits(batch);
        peft.save(dir.resolve("adapter"));
        PeftModel again = Peft.load(Fixtures.trainingBase(), dir.resolve("adapter"));
        assertThat(Fixtures.maxAbsDiff(again.model().logits(batch), trained)).isLessThan(1e-5);
        assertThat(losses).hasSize(40);
    }
}
