package dev.attune.finetune.peft;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.GenerationResult;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.finetune.peft.adalora.AdaLora;
import dev.attune.finetune.peft.bottleneck.BottleneckConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Every method other than LoRA through the model's adapter seam: PEFT's logits and greedy generations (KV cache),
 * gradients against finite differences, training, a bit-identical base, save and reload.
 */
class MethodsModelTest {

    @TempDir
    Path dir;

    static int[] prompt() {
        return Fixtures.prompt();
    }

    static int[] greedy(GptModel model, int[] prompt) {
        return Generator.of(model, Tokenizer.gpt2()).generate(prompt, GenerationConfig.greedy(6)).ids();
    }

    @Test
    void peftsAdaptersGivePeftsLogitsAndGenerations() throws IOException {
        for (String name : new String[] {"ia3", "prompt", "adalora"}) {
            PeftModel peft = Peft.load(Fixtures.base(), Fixtures.adapter(name));
            assertThat(Fixtures.maxAbsDiff(peft.model().logits(Fixtures.batch()), Fixtures.logits(name)))
                    .as(name).isLessThan(1e-4);
            if (!name.equals("adalora")) {
                assertThat(greedy(peft.model(), prompt())).as(name).containsExactly(Fixtures.greedy(name));
            }
        }
        assertThat(Fixtures.greedy("prompt")).isNotEqualTo(Fixtures.greedy("base"));
    }

    @Test
    void prefixGivesPeftsPositionsLogitsAndGreedyGeneration() throws IOException {
        // PEFT (through Hugging Face's past-length position ids) gives the real tokens behind a prefix of P virtual
        // tokens the positions P, P+1, ...; Attune does the same in scoring, training and KV-cache generation
        PeftModel peft = Peft.load(Fixtures.base(), Fixtures.adapter("prefix"));
        assertThat(Fixtures.maxAbsDiff(peft.model().logits(Fixtures.batch()), Fixtures.logits("prefix")))
                .isLessThan(1e-4);
        assertThat(greedy(peft.model(), prompt())).containsExactly(Fixtures.greedy("prefix"));
        assertThat(Fixtures.greedy("prefix")).isNotEqualTo(Fixtures.greedy("base"));
        // the training forward pass (no dropout in the fixture) reaches the same hidden states as scoring
        TokenBatch batch = Fixtures.batch();
        INDArray scored = peft.model().forward(batch, dev.attune.core.model.Output.HIDDEN).hidden();
        INDArray trained = peft.model().trainingForward(batch, 0);
        assertThat(Fixtures.maxAbsDiff(trained, scored)).isLessThan(1e-5);
    }

    @Test
    void prefixKvCacheDecodingEqualsTheFullForwardPassAndLeavesRoomForThePrefixPositions() throws IOException {
        PeftModel peft = Peft.load(Fixtures.base(), Fixtures.adapter("prefix"));
        GptModel m = peft.model();
        int[] ids = Fixtures.ids()[0];
        INDArray full = m.logits(TokenBatch.of(new int[][] {ids}, new int[][] {ids}));           // [1, T, V]
        dev.attune.core.model.KvCache cache = m.newCache(1, ids.length);
        INDArray first = m.forward(cache, new int[][] {java.util.Arrays.copyOf(ids, 3)}, null, true); // [1, 3, V]
        assertThat(Fixtures.maxAbsDiff(first, full.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 3), org.nd4j.linalg.indexing.NDArrayIndex.all())))
                .isLessThan(1e-5);
        for (int t = 3; t < ids.length; t++) {
            INDArray next = m.forward(cache, new int[][] {{ids[t]}}, null, false);                // [1, V]
            assertThat(Fixtures.maxAbsDiff(next, full.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(t), org.nd4j.linalg.indexing.NDArrayIndex.all())
                    .reshape(1, -1))).as("position %d", t).isLessThan(1e-5);
        }
        // the fixture's context is 32 and the prefix takes 3 positions: 29 tokens fit, 30 do not
        int context = m.config().contextLength();
        assertThat(Generator.of(m, Tokenizer.gpt2()).generate(prompt(),
                GenerationConfig.builder().maxNewTokens(100).ignoreEos(true).build()).ids())
                .hasSize(context - 3 - prompt().length);
        int[][] tooLong = new int[1][context - 2];
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> m.logits(TokenBatch.of(tooLong, tooLong)))
                .hasMessageContaining("plus 3 prefix positions exceeds the model's context length " + context);
        assertThat(peft.contextLength()).isEqualTo(context - 3);
    }

    @Test
    void batchedGenerationWithLeftPaddingEqualsEachRowAlone() throws IOException {
        for (String name : new String[] {"prompt", "prefix"}) {
            PeftModel peft = Peft.load(Fixtures.base(), Fixtures.adapter(name));
            Generator g = Generator.of(peft.model(), Tokenizer.gpt2());
            int[] shortPrompt = {7, 8};
            List<GenerationResult> batch = g.generateBatch(List.of(prompt(), shortPrompt), GenerationConfig.greedy(5));
            assertThat(batch.get(0).ids()).as(name).containsExactly(g.generate(prompt(), GenerationConfig.greedy(5)).ids());
            assertThat(batch.get(1).ids()).as(name)
                    .containsExactly(g.generate(shortPrompt, GenerationConfig.greedy(5)).ids());
        }
    }

    static List<AdapterConfig> configs() {
        return List.of(
                Peft.ia3().build(),
                Peft.promptTuning().numVirtualTokens(3).initText("!#", Tokenizer.gpt2()).build(),
                Peft.prefixTuning().numVirtualTokens(3).build(),
                Peft.prefixTuning().numVirtualTokens(3).projection(true, 16).build(),
                Peft.bottleneck().reductionFactor(4).nonLinearity(BottleneckConfig.NonLinearity.GELU_NEW).build(),
                Peft.bottleneck().variant(BottleneckConfig.Variant.PFEIFFER).reductionFactor(4).build(),
                Peft.adaLora().initR(4).targetR(2).alpha(8).targets("c_attn", "mlp.c_fc").totalStep(60)
                        .schedule(5, 20, 1).build());
    }

    @Test
    void gradientsThroughTheModelMatchCentralDifferences() {
        for (AdapterConfig config : configs()) {
            PeftModel peft = config.apply(Fixtures.base(), 4);
            // move away from the start (B = 0, E = 0, scale 1) so every weight has a gradient
            INDArray p = peft.parameters();
            p.addi(new SplittableRandomArray(9).uniform(p.length(), 0.3).reshape(p.shape()).castTo(p.dataType()));
            TokenBatch batch = Fixtures.batch();
            int n = batch.validTargets();
            peft.forwardBackward(batch, n, false, 0);
            INDArray grad = peft.gradients().dup();
            if (peft.adapter(peft.activeAdapter()) instanceof AdaLora) {
                // the regulariser's share is in the gradient too; take it out to compare with the loss alone
                peft.gradients().assign(0);
                peft.adapter(peft.activeAdapter()).regularise(1.0);
                grad.subi(peft.gradients());
            }
            SplittableRandom pick = new SplittableRandom(5);
            int checked = 0;
            double h = 1e-2;
            for (int k = 0; k < 400 && checked < 8; k++) {
                int i = pick.nextInt((int) p.length());
                double exact = grad.getDouble(i);
                if (Math.abs(exact) < 2e-3) {
                    continue;
                }
                double numeric = TestSteps.centralDifference(peft, batch, i, h);
                assertThat(Math.abs(numeric - exact) / Math.abs(exact)).as("%s entry %d: %s vs %s", config.peftType(), i,
                        numeric, exact).isLessThan(0.05);
                checked++;
            }
            assertThat(checked).as(config.peftType()).isGreaterThanOrEqualTo(4);
        }
    }

    /** Uniform noise without ND4J's global random state. */
    record SplittableRandomArray(long seed) {
        INDArray uniform(long n, double scale) {
            SplittableRandom r = new SplittableRandom(seed);
            double[] v = new double[(int) n];
            for (int i = 0; i < v.length; i++) {
                v[i] = (r.nextDouble() * 2 - 1) * scale;
            }
            return org.nd4j.linalg.factory.Nd4j.createFromArray(v);
        }
    }

    @Test
    void everyMethodTrainsWithTheBaseBitIdenticalAndReloadsExactly() throws IOException {
        for (AdapterConfig config : configs()) {
            GptModel base = Fixtures.trainingBase();
            INDArray weights = base.parameters().dup();
            TokenBatch batch = Fixtures.batch();
            INDArray before = base.logits(batch);
            PeftModel peft = config.apply(base, 2);
            if (!(config instanceof dev.attune.finetune.peft.prompt.PromptTuningConfig)
                    && !(config instanceof dev.attune.finetune.peft.prefix.PrefixTuningConfig)) {
                assertThat(Fixtures.maxAbsDiff(base.logits(batch), before)).as(config.peftType() + " starts unchanged")
                        .isLessThan(1e-6);
            }
            List<Double> losses = TestSteps.trainOnCycle(peft, 300, 60, 3e-2, null);
            assertThat(losses.get(losses.size() - 1)).as(config.peftType()).isLessThan(losses.get(0) * 0.8);
            assertThat(base.parameters()).as(config.peftType() + ": base bit-identical").isEqualTo(weights);
            if (peft.adapter(peft.activeAdapter()) instanceof AdaLora ada) {
                assertThat(ada.totalRank()).as("AdaLoRA ranks shrink to the target").isEqualTo(2 * 2 * 2);
                assertThat(ada.rankLog()).isNotEmpty();
                assertThat(peft.lastRegularisation()).isGreaterThan(0);
            }
            INDArray trained = base.logits(batch);
            Path saved = dir.resolve(config.peftType() + losses.size() + System.nanoTime());
            peft.save(saved);
            PeftModel again = Peft.load(Fixtures.trainingBase(), saved);
            assertThat(Fixtures.maxAbsDiff(again.model().logits(batch), trained)).as(config.peftType()).isLessThan(1e-5);
        }
    }
}
