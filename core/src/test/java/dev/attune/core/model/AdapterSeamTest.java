package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;
import static org.nd4j.linalg.indexing.NDArrayIndex.point;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.TestAdapters.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The adapter seam, through adapters written against its public interfaces only: every hook's gradients against
 * central finite differences in float64, adapters against the equivalent change of the base weights, and prefixes
 * and soft prompts in cached generation against the full forward pass.
 */
class AdapterSeamTest {

    private static final GptConfig CONFIG = GptConfig.builder()
            .vocabSize(37).contextLength(12).embeddingSize(16).heads(2).layers(2).innerSize(24).dropout(0.0)
            .bosTokenId(0).eosTokenId(0).build();
    private static final TokenBatch BATCH = TokenBatch.of(
            new int[][] {{3, 17, 22, 5, 36, 0}, {1, 2, 3, 4, 5, 6}},
            new int[][] {{17, 22, 5, 36, 0, 9}, {2, 3, 4, 5, -1, -1}});

    private static GptModel model(long seed) {
        GptModel m = GptModel.create(CONFIG, 1, DataType.DOUBLE);
        NaiveGpt.randomize(m, seed);
        return m;
    }

    /** One adapter of every kind; returns their tensors. */
    private static List<Tensor> attachAll(GptModel m) {
        List<Tensor> tensors = new ArrayList<>();
        TestAdapters.LowRank qkv = new TestAdapters.LowRank(16, 48, 3, 10);
        TestAdapters.LowRank proj = new TestAdapters.LowRank(16, 16, 2, 12);
        TestAdapters.ScaleOutput hidden = new TestAdapters.ScaleOutput(24, 14);
        TestAdapters.ScaleInput down = new TestAdapters.ScaleInput(24, 15);
        TestAdapters.Bottleneck afterAttn = new TestAdapters.Bottleneck(16, 4, 16);
        TestAdapters.Bottleneck afterMlp = new TestAdapters.Bottleneck(16, 4, 18);
        TestAdapters.Bottleneck afterLn1 = new TestAdapters.Bottleneck(16, 3, 22);
        TestAdapters.Shift afterLn2 = new TestAdapters.Shift(16, 24);
        TestAdapters.Bottleneck afterLnF = new TestAdapters.Bottleneck(16, 3, 26);
        TestAdapters.Prefix prefix = new TestAdapters.Prefix(2, 2, 16, 20);
        TestAdapters.Soft soft = new TestAdapters.Soft(TestAdapters.random(30, 0.5, 2, 16));
        m.adapters().wrap(0, Projection.C_ATTN, qkv);
        m.adapters().wrap(1, Projection.ATTN_C_PROJ, proj);
        m.adapters().wrap(1, Projection.C_FC, hidden);
        m.adapters().wrap(1, Projection.MLP_C_PROJ, down);
        m.adapters().insert(0, Branch.ATTENTION, afterAttn);
        m.adapters().insert(1, Branch.MLP, afterMlp);
        m.adapters().afterNorm(1, Branch.ATTENTION, afterLn1);
        m.adapters().afterNorm(0, Branch.MLP, afterLn2);
        m.adapters().afterFinalNorm(afterLnF);
        m.adapters().prefix(prefix);
        m.adapters().softPrompt(soft);
        tensors.addAll(List.of(qkv.a, qkv.b, proj.a, proj.b, hidden.l, down.l, afterAttn.down, afterAttn.up,
                afterMlp.down, afterMlp.up, afterLn1.down, afterLn1.up, afterLn2.d, afterLnF.down, afterLnF.up,
                soft.embeddings));
        tensors.addAll(prefix.keys);
        tensors.addAll(prefix.values);
        return tensors;
    }

    @Test
    void everyHookSendsGradientsThatMatchCentralDifferences() {
        GptModel m = model(2);
        List<Tensor> tensors = attachAll(m);
        m.freeze();
        int counted = BATCH.validTargets();
        m.forwardBackward(BATCH, counted, false, 0);
        SplittableRandom pick = new SplittableRandom(5);
        double worst = 0;
        for (Tensor t : tensors) {
            INDArray analytic = t.grad.dup().reshape(-1);
            INDArray p = t.value.reshape(-1);
            assertThat(analytic.norm1Number().doubleValue()).as("gradient of %s", t.name).isGreaterThan(0);
            for (int k = 0; k < 4; k++) {
                int i = pick.nextInt((int) p.length());
                double numeric = centralDifference(m, p, i, counted);
                double exact = analytic.getDouble(i);
                worst = Math.max(worst, Math.abs(numeric - exact) / Math.max(1e-3, Math.abs(numeric) + Math.abs(exact)));
            }
        }
        assertThat(worst).as("worst relative error over every adapter tensor").isLessThan(1e-6);
        assertThatThrownBy(m::gradients).isInstanceOf(IllegalStateException.class).hasMessageContaining("frozen");
    }

    @Test
    void baseGradientsStayExactWithAdaptersAttachedAndAdapterGradientsDoNotDependOnFreezing() {
        GptModel m = model(3);
        List<Tensor> tensors = attachAll(m);
        int counted = BATCH.validTargets();
        m.forwardBackward(BATCH, counted, false, 0);
        List<INDArray> unfrozen = tensors.stream().map(t -> t.grad.dup()).toList();
        SplittableRandom pick = new SplittableRandom(6);
        double worst = 0;
        for (String name : List.of("wte.weight", "wpe.weight", "h.0.attn.c_attn.weight", "h.1.mlp.c_proj.weight",
                "h.0.ln_1.bias", "ln_f.weight")) {
            INDArray g = m.gradient(name).dup().reshape(-1);
            INDArray p = m.parameter(name).reshape(-1);
            for (int k = 0; k < 3; k++) {
                int i = pick.nextInt((int) p.length());
                double numeric = centralDifference(m, p, i, counted);
                worst = Math.max(worst, Math.abs(numeric - g.getDouble(i))
                        / Math.max(1e-3, Math.abs(numeric) + Math.abs(g.getDouble(i))));
            }
        }
        assertThat(worst).isLessThan(1e-6);
        m.freeze();
        m.forwardBackward(BATCH, counted, false, 0);
        for (int i = 0; i < tensors.size(); i++) {
            assertThat(tensors.get(i).grad.sub(unfrozen.get(i)).amaxNumber().doubleValue())
                    .as(tensors.get(i).name).isLessThan(1e-12);
        }
    }

    @Test
    void accumulatingTwoHalvesGivesTheWholeBatchsAdapterGradients() {
        GptModel m = model(4);
        List<Tensor> tensors = attachAll(m);
        m.freeze();
        int counted = BATCH.validTargets();
        m.forwardBackward(BATCH, counted, false, 0);
        List<INDArray> whole = tensors.stream().map(t -> t.grad.dup()).toList();
        TokenBatch first = TokenBatch.of(new int[][] {{3, 17, 22, 5, 36, 0}}, new int[][] {{17, 22, 5, 36, 0, 9}});
        TokenBatch second = TokenBatch.of(new int[][] {{1, 2, 3, 4, 5, 6}}, new int[][] {{2, 3, 4, 5, -1, -1}});
        m.forwardBackward(first, counted, false, 0);
        m.forwardBackward(second, counted, true, 0);
        for (int i = 0; i < tensors.size(); i++) {
            assertThat(tensors.get(i).grad.sub(whole.get(i)).amaxNumber().doubleValue())
                    .as(tensors.get(i).name).isLessThan(1e-10);
        }
    }

    @Test
    void aLowRankAdapterGivesTheLogitsOfTheMergedWeight() {
        GptModel adapted = model(7);
        GptModel merged = model(7);
        TestAdapters.LowRank lr = new TestAdapters.LowRank(16, 48, 3, 40);
        adapted.adapters().wrap(1, Projection.C_ATTN, lr);
        merged.parameter("h.1.attn.c_attn.weight").addi(lr.a.value.mmul(lr.b.value));
        assertThat(maxDiff(adapted.logits(BATCH), merged.logits(BATCH))).isLessThan(1e-10);
        adapted.adapters().unwrap(1, Projection.C_ATTN);
        assertThat(adapted.adapters().isEmpty()).isTrue();
        assertThat(maxDiff(adapted.logits(BATCH), model(7).logits(BATCH))).isEqualTo(0.0);
    }

    @Test
    void inputAndOutputScalingGiveTheLogitsOfRescaledWeights() {
        GptModel adapted = model(8);
        GptModel rescaled = model(8);
        TestAdapters.ScaleInput in = new TestAdapters.ScaleInput(24, 41);
        TestAdapters.ScaleOutput out = new TestAdapters.ScaleOutput(48, 42);
        adapted.adapters().wrap(0, Projection.MLP_C_PROJ, in);
        adapted.adapters().wrap(1, Projection.C_ATTN, out);
        rescaled.parameter("h.0.mlp.c_proj.weight").muliColumnVector(in.l.value.reshape(24, 1));  // rows: inputs
        rescaled.parameter("h.1.attn.c_attn.weight").muliRowVector(out.l.value);                  // columns: outputs
        rescaled.parameter("h.1.attn.c_attn.bias").muli(out.l.value);
        assertThat(maxDiff(adapted.logits(BATCH), rescaled.logits(BATCH))).isLessThan(1e-10);
    }

    @Test
    void shiftingLayerNormOutputsGivesTheLogitsOfShiftedLayerNormBiases() {
        GptModel adapted = model(14);
        GptModel shifted = model(14);
        TestAdapters.Shift ln1 = new TestAdapters.Shift(16, 60);
        TestAdapters.Shift ln2 = new TestAdapters.Shift(16, 61);
        TestAdapters.Shift lnF = new TestAdapters.Shift(16, 62);
        adapted.adapters().afterNorm(0, Branch.ATTENTION, ln1);
        adapted.adapters().afterNorm(1, Branch.MLP, ln2);
        adapted.adapters().afterFinalNorm(lnF);
        assertThat(adapted.adapters().afterNorm(0, Branch.ATTENTION)).containsSame(ln1);
        assertThat(adapted.adapters().afterNorm(0, Branch.MLP)).isEmpty();
        assertThat(adapted.adapters().afterFinalNorm()).containsSame(lnF);
        shifted.parameter("h.0.ln_1.bias").addi(ln1.d.value);
        shifted.parameter("h.1.ln_2.bias").addi(ln2.d.value);
        shifted.parameter("ln_f.bias").addi(lnF.d.value);
        assertThat(maxDiff(adapted.logits(BATCH), shifted.logits(BATCH))).isLessThan(1e-10);

        // the cached decoding path runs them too
        int[] ids = {4, 9, 1, 30};
        KvCache cache = adapted.newCache(1, ids.length);
        adapted.forward(cache, new int[][] {{4, 9, 1}}, null, false);
        INDArray last = adapted.forward(cache, new int[][] {{30}}, null, false);
        INDArray full = shifted.logits(TokenBatch.of(new int[][] {ids}, new int[][] {ids}));
        assertThat(maxDiff(last.getRow(0), full.get(point(0), point(3), all()))).isLessThan(1e-10);

        adapted.adapters().afterNorm(0, Branch.ATTENTION, null);
        adapted.adapters().afterNorm(1, Branch.MLP, null);
        adapted.adapters().afterFinalNorm(null);
        assertThat(adapted.adapters().isEmpty()).isTrue();
        assertThat(maxDiff(adapted.logits(BATCH), model(14).logits(BATCH))).isEqualTo(0.0);
    }

    @Test
    void anAdapterOnTheFinalLayerNormAloneGetsItsGradientFromAFrozenModel() {
        GptModel m = model(15);
        TestAdapters.Shift lnF = new TestAdapters.Shift(16, 63);
        m.adapters().afterFinalNorm(lnF);
        assertThat(m.adapters().isEmpty()).isFalse();
        m.freeze();
        int counted = BATCH.validTargets();
        m.forwardBackward(BATCH, counted, false, 0);
        INDArray analytic = lnF.d.grad.dup();
        for (int i = 0; i < 16; i += 5) {
            double numeric = centralDifference(m, lnF.d.value, i, counted);
            assertThat(analytic.getDouble(i)).as("entry %d", i).isCloseTo(numeric,
                    org.assertj.core.data.Offset.offset(1e-7 + 1e-6 * Math.abs(numeric)));
        }
        assertThat(analytic.norm1Number().doubleValue()).isGreaterThan(1e-3);
    }

    @Test
    void aSoftPromptOfTokenEmbeddingsActsLikeThoseTokensInFront() {
        GptModel m = model(9);
        int[] front = {11, 29};
        INDArray rows = Nd4j.pullRows(m.parameter("wte.weight"), 1, front);
        int[][] ids = {{3, 17, 22, 5}, {1, 2, 3, 4}};
        int[][] longer = {{11, 29, 3, 17, 22, 5}, {11, 29, 1, 2, 3, 4}};
        INDArray expected = m.logits(TokenBatch.of(longer, longer)).get(all(), interval(2, 6), all());
        m.adapters().softPrompt(new TestAdapters.Soft(rows));
        INDArray actual = m.logits(TokenBatch.of(ids, ids));
        assertThat(actual.shape()).containsExactly(2, 4, 37);
        assertThat(maxDiff(actual, expected)).isLessThan(1e-10);
    }

    @Test
    void cachedDecodingWithAPrefixAndASoftPromptEqualsTheFullForwardPass() {
        GptModel m = model(11);
        m.adapters().prefix(new TestAdapters.Prefix(2, 3, 16, 50));
        m.adapters().softPrompt(new TestAdapters.Soft(TestAdapters.random(51, 0.5, 2, 16)));
        int[] ids = {4, 9, 1, 30, 7};
        INDArray full = m.logits(TokenBatch.of(new int[][] {ids}, new int[][] {ids}));    // [1, 5, V]
        // one row decoded token by token after a two-token prompt, beside a left-padded copy of it
        KvCache cache = m.newCache(2, ids.length + 1);
        INDArray step = m.forward(cache, new int[][] {{4, 9}, {0, 4}}, new boolean[][] {{true, true}, {false, true}},
                false);
        assertThat(maxDiff(step.getRow(0), full.get(point(0), point(1), all()))).isLessThan(1e-10);
        INDArray padded = m.forward(cache, new int[][] {{1}, {9}}, null, false);
        assertThat(maxDiff(padded.getRow(0), full.get(point(0), point(2), all()))).isLessThan(1e-10);
        assertThat(maxDiff(padded.getRow(1), full.get(point(0), point(1), all()))).isLessThan(1e-10);
        for (int t = 3; t < ids.length; t++) {
            INDArray next = m.forward(cache, new int[][] {{ids[t]}, {ids[t - 1]}}, null, false);
            assertThat(maxDiff(next.getRow(0), full.get(point(0), point(t), all()))).as("position %d", t)
                    .isLessThan(1e-10);
        }
        assertThat(cache.remaining()).as("the virtual positions have room of their own").isEqualTo(1);
    }

    @Test
    void theLowestAdaptedLayerOfAFrozenBaseSkipsTheInputGradientNothingReadsAndKeepsItsAdaptersGradients() {
        GptModel m = model(21);
        TestAdapters.LowRank qkv = new TestAdapters.LowRank(16, 48, 3, 70);
        TestAdapters.LowRank hidden = new TestAdapters.LowRank(16, 24, 2, 72);
        m.adapters().wrap(0, Projection.C_ATTN, qkv);
        m.adapters().wrap(1, Projection.C_FC, hidden);
        List<Tensor> tensors = List.of(qkv.a, qkv.b, hidden.a, hidden.b);
        int counted = BATCH.validTargets();
        m.forwardBackward(BATCH, counted, false, 0);                 // the base trains: every input gradient runs
        List<INDArray> unfrozen = tensors.stream().map(t -> t.grad.dup()).toList();
        assertThat(qkv.dxOnEntry).as("c_attn's base input gradient while the base trains").isGreaterThan(0);
        m.freeze();
        m.forwardBackward(BATCH, counted, false, 0);
        assertThat(qkv.dxOnEntry).as("layer 0's c_attn input gradient is skipped: nothing below reads it")
                .isEqualTo(0.0);
        assertThat(hidden.dxOnEntry).as("layer 1's is still computed").isGreaterThan(0);
        for (int i = 0; i < tensors.size(); i++) {
            assertThat(maxDiff(tensors.get(i).grad, unfrozen.get(i))).as(tensors.get(i).name).isLessThan(1e-12);
        }
        SplittableRandom pick = new SplittableRandom(23);
        for (Tensor t : List.of(qkv.a, qkv.b)) {
            INDArray analytic = t.grad.dup().reshape(-1);
            INDArray p = t.value.reshape(-1);
            for (int k = 0; k < 4; k++) {
                int i = pick.nextInt((int) p.length());
                double numeric = centralDifference(m, p, i, counted);
                assertThat(analytic.getDouble(i)).as("%s[%d]", t.name, i).isCloseTo(numeric,
                        org.assertj.core.data.Offset.offset(1e-7 + 1e-6 * Math.abs(numeric)));
            }
        }
    }

    @Test
    void anAdapterThatReadsTheInputGradientOrSitsAfterLn1OnTheLowestLayerStillGetsExactGradients() {
        GptModel m = model(22);
        TestAdapters.ScaleInput in = new TestAdapters.ScaleInput(16, 80);          // reads c_attn's input gradient
        TestAdapters.Bottleneck afterLn1 = new TestAdapters.Bottleneck(16, 3, 82);  // needs c_attn's input gradient
        m.adapters().wrap(0, Projection.C_ATTN, in);
        m.adapters().afterNorm(0, Branch.ATTENTION, afterLn1);
        m.freeze();
        int counted = BATCH.validTargets();
        m.forwardBackward(BATCH, counted, false, 0);
        SplittableRandom pick = new SplittableRandom(24);
        for (Tensor t : List.of(in.l, afterLn1.down, afterLn1.up)) {
            INDArray analytic = t.grad.dup().reshape(-1);
            INDArray p = t.value.reshape(-1);
            assertThat(analytic.norm1Number().doubleValue()).as("gradient of %s", t.name).isGreaterThan(0);
            for (int k = 0; k < 4; k++) {
                int i = pick.nextInt((int) p.length());
                double numeric = centralDifference(m, p, i, counted);
                assertThat(analytic.getDouble(i)).as("%s[%d]", t.name, i).isCloseTo(numeric,
                        org.assertj.core.data.Offset.offset(1e-7 + 1e-6 * Math.abs(numeric)));
            }
        }
    }

    @Test
    void aFrozenModelWithoutAdaptersRunsNoBackward() {
        GptModel m = model(12);
        m.freeze();
        double loss = m.forwardBackward(BATCH, 1, false, 0);
        assertThat(loss).isCloseTo(m.loss(BATCH), org.assertj.core.data.Offset.offset(1e-10));
        m.unfreeze();
        m.forwardBackward(BATCH, 1, false, 0);
        assertThat(m.gradients().norm1Number().doubleValue()).isGreaterThan(0);
    }

    @Test
    void misplacedAdaptersAreRefusedWithTheReason() {
        GptModel m = model(13);
        assertThatThrownBy(() -> m.adapters().wrap(2, Projection.C_FC, new TestAdapters.ScaleInput(16, 1)))
                .hasMessageContaining("layer 2 outside [0, 2)");
        assertThatThrownBy(() -> Projection.fromName("c_proj")).hasMessageContaining("attn.c_proj")
                .hasMessageContaining("mlp.c_proj");
        assertThatThrownBy(() -> Projection.fromName("q_proj")).hasMessageContaining("valid names");
        assertThat(Projection.fromName("attn.c_proj")).isEqualTo(Projection.ATTN_C_PROJ);
        assertThatThrownBy(() -> m.adapters().softPrompt(new TestAdapters.Soft(TestAdapters.random(1, 1, 12, 16))))
                .hasMessageContaining("context is 12");
    }

    private static double centralDifference(GptModel m, INDArray flat, int i, int counted) {
        double h = 1e-5;
        double original = flat.getDouble(i);
        flat.putScalar(i, original + h);
        double up = m.loss(BATCH) / counted;
        flat.putScalar(i, original - h);
        double down = m.loss(BATCH) / counted;
        flat.putScalar(i, original);
        return (up - down) / (2 * h);
    }

    private static double maxDiff(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue();
    }
}
