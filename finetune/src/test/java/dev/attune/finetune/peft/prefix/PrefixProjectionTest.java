package dev.attune.finetune.peft.prefix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.config.GptConfig;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.TestSteps;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Prefix tuning's reparameterisation MLP: gradients against finite differences, folding on save. */
class PrefixProjectionTest {

    @TempDir
    Path dir;

    static final GptConfig MODEL = GptConfig.builder().vocabSize(50).contextLength(16).embeddingSize(8).heads(2)
            .layers(2).innerSize(12).bosTokenId(0).eosTokenId(0).build();

    /** L = sum over layers of sum(keys * wk + values * wv), as the model would reach the prefix. */
    private static double loss(PrefixTuning p, INDArray[] wk, INDArray[] wv) {
        double l = 0;
        for (int layer = 0; layer < 2; layer++) {
            l += p.keys(layer).mul(wk[layer]).sumNumber().doubleValue() + p.values(layer).mul(wv[layer]).sumNumber()
                    .doubleValue();
        }
        return l;
    }

    @Test
    void mlpGradientsMatchCentralDifferences() {
        PrefixTuning p = PrefixTuning.create(Peft.prefixTuning().numVirtualTokens(3).projection(true, 5).build(), MODEL,
                1, DataType.DOUBLE);
        INDArray[] wk = {TestSteps.random(1, 1, 3, 8), TestSteps.random(2, 1, 3, 8)};
        INDArray[] wv = {TestSteps.random(3, 1, 3, 8), TestSteps.random(4, 1, 3, 8)};
        loss(p, wk, wv);
        for (int layer = 1; layer >= 0; layer--) {
            p.backward(layer, wk[layer], wv[layer], TestSteps.training(1, false, 0));
        }
        p.afterBackward(false);
        INDArray analytic = p.tensors().gradients().dup();
        INDArray params = p.tensors().parameters();
        double h = 1e-6;
        double worst = 0;
        for (int i = 0; i < params.length(); i++) {
            double v = params.getDouble(i);
            params.putScalar(i, v + h);
            double up = loss(p, wk, wv);
            params.putScalar(i, v - h);
            double down = loss(p, wk, wv);
            params.putScalar(i, v);
            double numeric = (up - down) / (2 * h);
            double exact = analytic.getDouble(i);
            worst = Math.max(worst, Math.abs(numeric - exact) / Math.max(1e-4, Math.abs(numeric) + Math.abs(exact)));
        }
        assertThat(worst).isLessThan(1e-6);
        assertThat(p.tensors().size()).isEqualTo(3 * 8 + 5 * 8 + 5 + 32 * 5 + 32);
    }

    @Test
    void savesTheFoldedPrefixWhichLoadsAsAPlainOne() throws IOException {
        GptModel base = GptModel.create(MODEL, 1);
        PrefixTuning p = Peft.prefixTuning().numVirtualTokens(3).projection(true, 0).build().create(MODEL, 2);
        AdapterFiles.write(dir, p, base);
        PrefixTuningConfig read = (PrefixTuningConfig) AdapterFiles.readConfig(dir);
        assertThat(read.projection()).isFalse();
        PrefixTuning plain = read.create(MODEL, 0);
        try (SafeTensors f = AdapterFiles.openWeights(dir)) {
            plain.load(f, base);
            assertThatThrownBy(() -> p.load(f, base)).hasMessageContaining("folded prefix");
        }
        for (int layer = 0; layer < 2; layer++) {
            assertThat(plain.keys(layer)).isEqualTo(p.keys(layer));
            assertThat(plain.values(layer)).isEqualTo(p.values(layer));
        }
    }
}
