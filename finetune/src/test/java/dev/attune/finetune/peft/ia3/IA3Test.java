package dev.attune.finetune.peft.ia3;

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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** IA3's layer against finite differences, and PEFT's IA3 files against PEFT's logits. */
class IA3Test {

    @TempDir
    Path dir;

    static final GptConfig MODEL = GptConfig.builder().vocabSize(50).contextLength(16).embeddingSize(8).heads(2)
            .layers(2).innerSize(12).bosTokenId(0).eosTokenId(0).build();

    static IA3 read(Path adapter, GptModel base) throws IOException {
        IA3 ia3 = ((IA3Config) AdapterFiles.readConfig(adapter)).create(base.config(), 0);
        try (SafeTensors f = AdapterFiles.openWeights(adapter)) {
            ia3.load(f, base);
        }
        return ia3;
    }

    @Test
    void bothFormsMatchCentralDifferences() {
        IA3 ia3 = IA3.create(Peft.ia3().targets("c_attn", "mlp.c_proj").feedforward("mlp.c_proj").layers(0).build(),
                MODEL, DataType.DOUBLE);
        ia3.tensors().parameters().assign(TestSteps.random(3, 0.5, ia3.tensors().size()).addi(1));
        for (int k = 0; k < 2; k++) {
            IA3Layer layer = ia3.layer(k);
            ia3.tensors().gradients().assign(0); // the other layer's entries must read zero, as their differences do
            boolean ff = k == 1;
            int in = ff ? 12 : 8;
            int out = ff ? 8 : 24;
            int rows = 5;
            INDArray x = TestSteps.random(11, 1, rows, in);
            INDArray weight = TestSteps.random(13, 1, in, out);
            INDArray target = TestSteps.random(14, 1, rows, out);
            // L = sum(target * proj(x)), proj = IA3-wrapped x W
            Step step = TestSteps.training(rows, false, 1);
            INDArray xIn = layer.forwardInput(x, step);
            INDArray y = xIn.mmul(weight);
            layer.forwardOutput(x, y, step);
            INDArray dyBase = layer.backwardOutput(x, target.dup(), step);
            INDArray dx = dyBase.mmul(weight.transpose());  // d L / d (base input)
            layer.backwardInput(x, target, dx, step);
            INDArray analytic = ia3.tensors().gradients().dup();
            double h = 1e-6;
            double worst = 0;
            INDArray p = ia3.tensors().parameters();
            for (int i = 0; i < p.length(); i++) {
                double v = p.getDouble(i);
                p.putScalar(i, v + h);
                double up = loss(layer, x, weight, target);
                p.putScalar(i, v - h);
                double down = loss(layer, x, weight, target);
                p.putScalar(i, v);
                double numeric = (up - down) / (2 * h);
                double exact = analytic.getDouble(i);
                worst = Math.max(worst, Math.abs(numeric - exact) / Math.max(1e-4, Math.abs(numeric) + Math.abs(exact)));
            }
            for (int i = 0; i < x.length(); i += 2) {
                double v = x.getDouble(i);
                x.putScalar(i, v + h);
                double up = loss(layer, x, weight, target);
                x.putScalar(i, v - h);
                double down = loss(layer, x, weight, target);
                x.putScalar(i, v);
                double numeric = (up - down) / (2 * h);
                worst = Math.max(worst, Math.abs(numeric - dx.getDouble(i)) / Math.max(1e-4, Math.abs(numeric)));
            }
            assertThat(worst).as(ff ? "input form" : "output form").isLessThan(1e-7);
        }
    }

    private static double loss(IA3Layer layer, INDArray x, INDArray weight, INDArray target) {
        Step s = TestSteps.inference((int) x.size(0));
        INDArray y = layer.forwardInput(x, s).mmul(weight);
        layer.forwardOutput(x, y, s);
        return y.mul(target).sumNumber().doubleValue();
    }

    @Test
    void peftsIa3MergedGivesPeftsLogits() throws IOException {
        GptModel base = Fixtures.base();
        INDArray before = base.logits(Fixtures.batch());
        read(Fixtures.adapter("ia3"), base).merge(base);
        INDArray merged = base.logits(Fixtures.batch());
        assertThat(Fixtures.maxAbsDiff(merged, Fixtures.logits("ia3"))).isLessThan(1e-4);
        assertThat(Fixtures.maxAbsDiff(merged, Fixtures.logits("ia3.merged"))).isLessThan(1e-4);
        assertThat(Fixtures.maxAbsDiff(merged, before)).isGreaterThan(0.1);
    }

    @Test
    void configAndTensorsRoundTripInPeftsLayout() throws IOException {
        IA3Config config = (IA3Config) AdapterFiles.readConfig(Fixtures.adapter("ia3"));
        assertThat(config.targetModules()).containsExactlyInAnyOrder("c_attn", "mlp.c_proj");
        assertThat(config.feedforwardModules()).containsExactly("mlp.c_proj");
        assertThat(IA3Config.fromJson(config.toJson())).isEqualTo(config);
        GptModel base = Fixtures.base();
        IA3 ia3 = read(Fixtures.adapter("ia3"), base);
        AdapterFiles.write(dir, ia3, base);
        try (SafeTensors peft = AdapterFiles.openWeights(Fixtures.adapter("ia3"));
             SafeTensors ours = AdapterFiles.openWeights(dir)) {
            assertThat(ours.names()).containsExactlyInAnyOrderElementsOf(peft.names());
            for (String key : peft.names()) {
                assertThat(ours.info(key).shape()).isEqualTo(peft.info(key).shape());
                assertThat(Fixtures.maxAbsDiff(ours.read(key), peft.read(key))).isZero();
            }
        }
        IA3 fresh = config.create(base.config(), 0);
        assertThat(fresh.tensors().parameters().minNumber().doubleValue()).isEqualTo(1.0);
        assertThat(fresh.tensors().parameters().maxNumber().doubleValue()).isEqualTo(1.0);
        assertThat(fresh.tensors().size()).isEqualTo(2 * (96 + 128));
    }

    @Test
    void misconfigurationsAreRefused() {
        assertThatThrownBy(() -> Peft.ia3().targets("c_attn").feedforward("mlp.c_fc").build())
                .hasMessageContaining("not among the targets");
        assertThatThrownBy(() -> Peft.ia3().targets("k_proj").feedforward().build().create(MODEL, 0))
                .hasMessageContaining("[k_proj]").hasMessageContaining("valid names");
    }
}
