package dev.attune.finetune.peft.bottleneck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.Step;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.TestSteps;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class BottleneckLayerTest {

    @TempDir
    Path dir;

    static final GptConfig MODEL = GptConfig.builder().vocabSize(50).contextLength(16).embeddingSize(8).heads(2)
            .layers(2).innerSize(12).bosTokenId(0).eosTokenId(0).build();

    @Test
    void everyNonLinearityMatchesCentralDifferences() {
        for (BottleneckConfig.NonLinearity act : BottleneckConfig.NonLinearity.values()) {
            Bottleneck b = Bottleneck.create(Peft.bottleneck().variant(BottleneckConfig.Variant.PFEIFFER)
                    .reductionFactor(2).nonLinearity(act).layers(1).build(), MODEL, 1, DataType.DOUBLE);
            b.tensors().parameters().assign(TestSteps.random(4, 0.7, b.tensors().size()));
            BottleneckLayer layer = b.layer(0);
            int rows = 5;
            INDArray y0 = TestSteps.random(8, 1.5, rows, 8);
            INDArray w = TestSteps.random(9, 1, rows, 8);
            Step step = TestSteps.training(rows, false, 0);
            INDArray y = y0.dup();
            layer.forward(y, step);
            INDArray dy = layer.backward(w.dup(), step);
            INDArray analytic = b.tensors().gradients().dup();
            double h = 1e-6;
            double worst = 0;
            INDArray p = b.tensors().parameters();
            for (int i = 0; i < p.length(); i++) {
                double v = p.getDouble(i);
                p.putScalar(i, v + h);
                double up = loss(layer, y0, w);
                p.putScalar(i, v - h);
                double down = loss(layer, y0, w);
                p.putScalar(i, v);
                worst = Math.max(worst, rel((up - down) / (2 * h), analytic.getDouble(i)));
            }
            for (int i = 0; i < y0.length(); i++) {
                double v = y0.getDouble(i);
                y0.putScalar(i, v + h);
                double up = loss(layer, y0, w);
                y0.putScalar(i, v - h);
                double down = loss(layer, y0, w);
                y0.putScalar(i, v);
                worst = Math.max(worst, rel((up - down) / (2 * h), dy.getDouble(i)));
            }
            assertThat(worst).as(act.name()).isLessThan(1e-6);
        }
    }

    private static double loss(BottleneckLayer layer, INDArray y0, INDArray w) {
        INDArray y = y0.dup();
        layer.forward(y, TestSteps.inference((int) y.size(0)));
        return y.mul(w).sumNumber().doubleValue();
    }

    private static double rel(double numeric, double exact) {
        return Math.abs(numeric - exact) / Math.max(1e-4, Math.abs(numeric) + Math.abs(exact));
    }

    @Test
    void startsAsTheIdentityAndCountsItsSites() {
        Bottleneck houlsby = Peft.bottleneck().reductionFactor(4).build().create(MODEL, 3);
        // 2 layers x 2 branches x (8*2 + 2 + 2*8 + 8)
        assertThat(houlsby.tensors().size()).isEqualTo(4 * (16 + 2 + 16 + 8));
        BottleneckLayer layer = houlsby.layer(0);
        INDArray y = TestSteps.random(1, 1, 3, 8).castTo(DataType.FLOAT);
        INDArray before = y.dup();
        layer.forward(y, TestSteps.inference(3));
        assertThat(y).isEqualTo(before);
        assertThat(layer.down.amaxNumber().doubleValue()).isGreaterThan(0).isLessThan(0.1);
        assertThat(Peft.bottleneck().variant(BottleneckConfig.Variant.PFEIFFER).reductionFactor(4).build()
                .create(MODEL, 3).tensors().size()).isEqualTo(2 * (16 + 2 + 16 + 8));
    }

    @Test
    void configRoundTripsUnderItsOwnPeftType() throws Exception {
        BottleneckConfig c = Peft.bottleneck().variant(BottleneckConfig.Variant.PFEIFFER).reductionFactor(8)
                .nonLinearity(BottleneckConfig.NonLinearity.SWISH).layers(0).build();
        assertThat(c.toJson().get("peft_type").asText()).isEqualTo("ATTUNE_BOTTLENECK");
        Files.write(dir.resolve(AdapterFiles.CONFIG_FILE),
                new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(c.toJson()));
        assertThat(AdapterFiles.readConfig(dir)).isEqualTo(c);
        // PEFT also writes a single layer as a bare int
        assertThat(AdapterFiles.configFromJson(c.toJson().put("layers_to_transform", 0).toString())).isEqualTo(c);
        assertThatThrownBy(() -> AdapterFiles.configFromJson(c.toJson().put("layers_to_transform", "0").toString()))
                .hasMessageContaining("layers_to_transform must be an int or a list of ints");
        assertThatThrownBy(() -> Peft.bottleneck().layers(1, 1).build()).hasMessageContaining("distinct");
        assertThatThrownBy(() -> Peft.bottleneck().reductionFactor(0).build()).hasMessageContaining("reduction factor");
        assertThatThrownBy(() -> Peft.bottleneck().reductionFactor(16).build().create(MODEL, 0))
                .hasMessageContaining("leaves no width");
    }
}
