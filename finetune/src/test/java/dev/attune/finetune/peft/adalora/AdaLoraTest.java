package dev.attune.finetune.peft.adalora;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.config.GptConfig;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.Step;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.Fixtures;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.TestSteps;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** AdaLoRA: the SVD-form layer and the regulariser against finite differences, the budget, PEFT's files. */
class AdaLoraTest {

    @TempDir
    Path dir;

    static final GptConfig MODEL = GptConfig.builder().vocabSize(50).contextLength(16).embeddingSize(8).heads(2)
            .layers(2).innerSize(12).bosTokenId(0).eosTokenId(0).build();

    static AdaLoraConfig.Builder config() {
        return Peft.adaLora().initR(4).targetR(2).alpha(6).targets("c_attn").totalStep(100);
    }

    private static AdaLora random(AdaLoraConfig c) {
        AdaLora ada = AdaLora.create(c, MODEL, 1, DataType.DOUBLE);
        ada.tensors().parameters().assign(TestSteps.random(2, 0.6, ada.tensors().size()));
        return ada;
    }

    @Test
    void layerGradientsMatchCentralDifferencesWithPrunedTripletsAndDropout() {
        AdaLora ada = random(config().dropout(0.25).build());
        AdaLoraLayer layer = ada.layer(0);
        layer.keep.putScalar(1, 0, 0); // triplet 1 pruned
        int rows = 5;
        INDArray x = TestSteps.random(3, 1, rows, 8);
        INDArray y0 = TestSteps.random(4, 1, rows, 24);
        INDArray w = TestSteps.random(5, 1, rows, 24);
        Step step = TestSteps.training(rows, false, 9);
        layer.forwardOutput(x, y0.dup(), step);
        layer.backwardOutput(x, w, step);
        INDArray dx0 = TestSteps.random(6, 1, rows, 8);
        INDArray dx = dx0.dup();
        layer.backwardInput(x, w, dx, step);
        INDArray analytic = ada.tensors().gradients().dup();
        double h = 1e-6;
        double worst = 0;
        INDArray p = ada.tensors().parameters();
        long layerEnd = 4 * 8 + 4 + 24 * 4;  // layer 0's tensors come first
        for (int i = 0; i < layerEnd; i++) {
            double v = p.getDouble(i);
            p.putScalar(i, v + h);
            double up = loss(layer, x, y0, w);
            p.putScalar(i, v - h);
            double down = loss(layer, x, y0, w);
            p.putScalar(i, v);
            worst = Math.max(worst, rel((up - down) / (2 * h), analytic.getDouble(i)));
        }
        for (int i = 0; i < x.length(); i += 2) {
            double v = x.getDouble(i);
            x.putScalar(i, v + h);
            double up = loss(layer, x, y0, w);
            x.putScalar(i, v - h);
            double down = loss(layer, x, y0, w);
            x.putScalar(i, v);
            worst = Math.max(worst, rel((up - down) / (2 * h), dx.getDouble(i) - dx0.getDouble(i)));
        }
        assertThat(worst).isLessThan(1e-6);
        assertThat(ada.tensors().gradient(AdaLora.PREFIX + "transformer.h.0.attn.c_attn.lora_E").getDouble(1, 0))
                .as("a pruned triplet gets no gradient").isZero();
    }

    private static double loss(AdaLoraLayer layer, INDArray x, INDArray y0, INDArray w) {
        INDArray y = y0.dup();
        layer.forwardOutput(x, y, TestSteps.training((int) x.size(0), false, 9));
        return y.mul(w).sumNumber().doubleValue();
    }

    private static double rel(double numeric, double exact) {
        return Math.abs(numeric - exact) / Math.max(1e-4, Math.abs(numeric) + Math.abs(exact));
    }

    @Test
    void orthogonalityRegulariserGradientMatchesCentralDifferences() {
        AdaLora ada = random(config().orthRegWeight(0.7).build());
        ada.tensors().gradients().assign(0);
        double value = ada.regularise(0.5);
        INDArray analytic = ada.tensors().gradients().dup();
        INDArray p = ada.tensors().parameters();
        double h = 1e-6;
        double worst = 0;
        for (int i = 0; i < p.length(); i += 3) {
            double v = p.getDouble(i);
            ada.tensors().gradients().assign(0);
            p.putScalar(i, v + h);
            double up = ada.regularise(0.5);
            p.putScalar(i, v - h);
            double down = ada.regularise(0.5);
            p.putScalar(i, v);
            worst = Math.max(worst, rel((up - down) / (2 * h), analytic.getDouble(i)));
        }
        assertThat(worst).isLessThan(1e-6);
        assertThat(value).isGreaterThan(0);
    }

    @Test
    void budgetFollowsPeftsCubicSchedule() {
        AdaLoraConfig c = config().schedule(10, 20, 5).build();
        assertThat(c.budget(5, 2)).isEqualTo(new AdaLoraConfig.Budget(8, false));
        assertThat(c.budget(10, 2)).isEqualTo(new AdaLoraConfig.Budget(8, false));
        double mul = 1 - (50.0 - 10) / (100 - 20 - 10);
        assertThat(c.budget(50, 2)).isEqualTo(new AdaLoraConfig.Budget((int) (4 * mul * mul * mul + 4), true));
        assertThat(c.budget(51, 2).mask()).isFalse();
        assertThat(c.budget(81, 2)).isEqualTo(new AdaLoraConfig.Budget(4, true));
        assertThatThrownBy(() -> Peft.adaLora().build()).hasMessageContaining("total_step must be set");
        assertThatThrownBy(() -> Peft.adaLora().totalStep(10).schedule(5, 5, 1).build())
                .hasMessageContaining("tinit < total_step - tfinal");
        assertThatThrownBy(() -> Peft.adaLora().initR(4).targetR(5).totalStep(10).build())
                .hasMessageContaining("target_r");
    }

    @Test
    void ranksShrinkToTheTargetKeepingTheImportantTriplets() {
        AdaLoraConfig c = config().schedule(2, 3, 1).totalStep(12).build();
        AdaLora ada = random(c);
        // importance |w * g|: make triplet 0 of layer 0 and triplet 3 of layer 1 matter most, through E's gradient
        INDArray g = ada.tensors().gradients();
        String e0 = AdaLora.PREFIX + "transformer.h.0.attn.c_attn.lora_E";
        String e1 = AdaLora.PREFIX + "transformer.h.1.attn.c_attn.lora_E";
        int[] totals = new int[13];
        for (int step = 1; step <= 12; step++) {
            g.assign(TestSteps.random(step, 1e-3, g.length()));
            ada.tensors().gradient(e0).putScalar(0, 0, 50.0);
            ada.tensors().gradient(e0).putScalar(2, 0, 20.0);
            ada.tensors().gradient(e1).putScalar(3, 0, 40.0);
            ada.tensors().gradient(e1).putScalar(1, 0, 30.0);
            ada.onStepStart(step);
            totals[step] = ada.totalRank();
        }
        assertThat(totals[1]).isEqualTo(8);
        assertThat(totals[12]).isEqualTo(4);
        for (int s = 2; s <= 12; s++) {
            assertThat(totals[s]).as("step %d", s).isLessThanOrEqualTo(totals[s - 1]);
        }
        assertThat(ada.ranks()).isEqualTo(Map.of(e0, 2, e1, 2));
        assertThat(ada.layer(0).keep.getDouble(0, 0)).isEqualTo(1);
        assertThat(ada.layer(0).keep.getDouble(2, 0)).isEqualTo(1);
        assertThat(ada.layer(1).keep.getDouble(3, 0)).isEqualTo(1);
        assertThat(ada.layer(1).keep.getDouble(1, 0)).isEqualTo(1);
        assertThat(ada.layer(0).e.getDouble(1, 0)).as("pruned E is zeroed").isZero();
        assertThat(ada.rankLog()).isNotEmpty();
        assertThat(ada.rankLog().get(ada.rankLog().size() - 1)).contains("budget 4 of 8").contains("[2, 2]");
    }

    @Test
    void peftsAdaLoraMergedGivesPeftsLogitsAndRoundTrips() throws IOException {
        GptModel base = Fixtures.base();
        AdaLora ada = (AdaLora) AdapterFiles.readConfig(Fixtures.adapter("adalora")).create(base, 0);
        try (SafeTensors f = AdapterFiles.openWeights(Fixtures.adapter("adalora"))) {
            ada.load(f, base);
        }
        assertThat(ada.config().initR()).isEqualTo(4);
        assertThat(ada.config().scaling()).isEqualTo(8 / (4 + 1e-5));
        INDArray before = base.logits(Fixtures.batch());
        AdapterFiles.write(dir, ada, base);
        ada.merge(base);
        INDArray merged = base.logits(Fixtures.batch());
        assertThat(Fixtures.maxAbsDiff(merged, Fixtures.logits("adalora"))).isLessThan(1e-4);
        assertThat(Fixtures.maxAbsDiff(merged, before)).isGreaterThan(0.01);
        try (SafeTensors peft = AdapterFiles.openWeights(Fixtures.adapter("adalora"));
             SafeTensors ours = AdapterFiles.openWeights(dir)) {
            assertThat(ours.names()).containsExactlyInAnyOrderElementsOf(peft.names());
            for (String key : peft.names()) {
                assertThat(Fixtures.maxAbsDiff(ours.read(key), peft.read(key))).isZero();
            }
        }
        assertThat(AdapterFiles.readConfig(dir)).isEqualTo(ada.config());
    }

    @Test
    void aPeftFileShrunkByItsRankPatternLoadsIntoTheKeptRows() throws IOException {
        GptModel base = Fixtures.base();
        AdaLoraConfig full = (AdaLoraConfig) AdapterFiles.readConfig(Fixtures.adapter("adalora"));
        AdaLora ada = full.create(base.config(), 0);
        try (SafeTensors f = AdapterFiles.openWeights(Fixtures.adapter("adalora"))) {
            ada.load(f, base);
        }
        // what PEFT saves after pruning triplets 1 and 3 of layer 0: rows/columns of the kept ones, and the pattern
        String p0 = AdaLora.PREFIX + "transformer.h.0.attn.c_attn";
        String p1 = AdaLora.PREFIX + "transformer.h.1.attn.c_attn";
        var writer = SafeTensors.writer();
        int[] kept = {0, 2};
        writer.add(p0 + ".lora_A", ada.layer(0).a.getRows(kept));
        writer.add(p0 + ".lora_E", ada.layer(0).e.getRows(kept));
        writer.add(p0 + ".lora_B", ada.layer(0).b.getColumns(kept));
        writer.add(p1 + ".lora_A", ada.layer(1).a);
        writer.add(p1 + ".lora_E", ada.layer(1).e);
        writer.add(p1 + ".lora_B", ada.layer(1).b);
        writer.write(dir.resolve(AdapterFiles.WEIGHTS_FILE));
        AdaLoraConfig pruned = full.withRankPattern(Map.of(p0 + ".lora_E", List.of(true, false, true, false)));
        java.nio.file.Files.write(dir.resolve(AdapterFiles.CONFIG_FILE),
                new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(pruned.toJson()));
        AdaLora again = (AdaLora) AdapterFiles.readConfig(dir).create(base, 0);
        try (SafeTensors f = AdapterFiles.openWeights(dir)) {
            again.load(f, base);
        }
        assertThat(again.ranks()).containsEntry(p0 + ".lora_E", 2).containsEntry(p1 + ".lora_E", 4);
        INDArray expected = ada.layer(0).effective();
        expected.getRow(1).assign(0);
        expected.getRow(3).assign(0);
        assertThat(again.layer(0).effective()).isEqualTo(expected);
        assertThat(again.layer(1).effective()).isEqualTo(ada.layer(1).effective());
        assertThat(again.layer(0).b.getColumn(2)).isEqualTo(ada.layer(0).b.getColumn(2));
    }
}
