package dev.attune.finetune.peft.lora;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.Step;
import dev.attune.finetune.peft.AdapterTensors;
import dev.attune.finetune.peft.TestSteps;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The LoRA layer alone, in float64: its forward against the closed form {@code y + s x A^T B^T}, its gradients
 * (A, B, bias, input) against central finite differences of {@code L = sum(w * y')} for a fixed random w.
 */
class LoraLayerTest {

    static final GptConfig MODEL = GptConfig.builder().vocabSize(50).contextLength(16).embeddingSize(8).heads(2)
            .layers(2).innerSize(12).bosTokenId(0).eosTokenId(0).build();

    private static Lora randomLora(LoraConfig config) {
        Lora lora = Lora.create(config, MODEL, 3, DataType.DOUBLE);
        AdapterTensors t = lora.tensors();
        t.parameters().assign(TestSteps.random(5, 0.5, t.size()));
        return lora;
    }

    @Test
    void forwardIsTheBaseOutputPlusTheScaledLowRankProduct() {
        Lora lora = randomLora(LoraConfig.builder().rank(3).alpha(6).targets("c_fc").bias(LoraConfig.Bias.LORA_ONLY).build());
        LoraLayer layer = lora.layer(0);
        INDArray x = TestSteps.random(1, 1, 5, 8);
        INDArray y = TestSteps.random(2, 1, 5, 12);
        INDArray expected = y.add(x.mmul(layer.a.transpose()).mmul(layer.b.transpose()).muli(2.0))
                .addiRowVector(layer.bias.shift);
        layer.forwardOutput(x, y, TestSteps.inference(5));
        assertThat(maxAbs(y.sub(expected))).isLessThan(1e-12);
    }

    @Test
    void gradientsMatchCentralDifferences() {
        check(LoraConfig.builder().rank(3).alpha(6).targets("c_attn").build(), 0.0);
    }

    @Test
    void gradientsMatchCentralDifferencesWithRsLoraBiasAndDropout() {
        check(LoraConfig.builder().rank(2).alpha(5).rsLora(true).dropout(0.3).targets("mlp.c_proj")
                .bias(LoraConfig.Bias.LORA_ONLY).build(), 0.3);
    }

    /**
     * In float32 the products go straight to the BLAS with transposed operands (dB^T = h^T dy, g^T = B^T dy^T): the
     * gradients and the input gradient agree with the float64 layer's, which the central differences above check.
     */
    @Test
    void float32GradientsAgreeWithFloat64() {
        LoraConfig config = LoraConfig.builder().rank(4).alpha(8).targets("c_attn").bias(LoraConfig.Bias.LORA_ONLY)
                .build();
        INDArray[] grads = new INDArray[2];
        INDArray[] dxs = new INDArray[2];
        DataType[] types = {DataType.DOUBLE, DataType.FLOAT};
        for (int k = 0; k < 2; k++) {
            Lora lora = Lora.create(config, MODEL, 3, types[k]);
            AdapterTensors t = lora.tensors();
            t.parameters().assign(TestSteps.random(5, 0.5, t.size()).castTo(types[k]));
            LoraLayer layer = lora.layer(0);
            int rows = 37;
            INDArray x = TestSteps.random(21, 1, rows, 8).castTo(types[k]);
            INDArray w = TestSteps.random(22, 1, rows, 24).castTo(types[k]);
            INDArray dx = TestSteps.random(23, 1, rows, 8).castTo(types[k]);
            for (boolean accumulate : new boolean[] {false, true}) {
                Step step = TestSteps.training(rows, accumulate, 7);
                layer.forwardOutput(x, TestSteps.random(24, 1, rows, 24).castTo(types[k]), step);
                layer.backwardOutput(x, w, step);
                layer.backwardInput(x, w, dx, step);
            }
            grads[k] = t.gradients().castTo(DataType.DOUBLE);
            dxs[k] = dx.castTo(DataType.DOUBLE);
        }
        assertThat(maxAbs(grads[0])).isGreaterThan(0.1);
        assertThat(maxAbs(grads[1].sub(grads[0]))).isLessThan(1e-5 * maxAbs(grads[0]));
        assertThat(maxAbs(dxs[1].sub(dxs[0]))).isLessThan(1e-5 * maxAbs(dxs[0]));
    }

    private static void check(LoraConfig config, double dropout) {
        Lora lora = randomLora(config);
        LoraLayer layer = lora.layer(0);
        int in = (int) layer.a.size(1);
        int out = (int) layer.b.size(0);
        int rows = 6;
        INDArray x = TestSteps.random(11, 1, rows, in);
        INDArray yBase = TestSteps.random(12, 1, rows, out);
        INDArray w = TestSteps.random(13, 1, rows, out);

        // analytic: forward, backwardOutput, then backwardInput onto a dx that holds the base path's gradient
        Step step = TestSteps.training(rows, false, 77);
        INDArray y = yBase.dup();
        layer.forwardOutput(x, y, step);
        INDArray dyBase = layer.backwardOutput(x, w.dup(), step);
        INDArray dxBase = TestSteps.random(14, 1, rows, in);
        INDArray dx = dxBase.dup();
        layer.backwardInput(x, w, dx, step);
        assertThat(maxAbs(dyBase.sub(w))).as("the base output passes through unchanged").isZero();
        INDArray analytic = lora.tensors().gradients().dup();

        double h = 1e-6;
        double worst = 0;
        INDArray p = lora.tensors().parameters();
        for (int i = 0; i < p.length(); i++) {
            double v = p.getDouble(i);
            p.putScalar(i, v + h);
            double up = loss(layer, x, yBase, w, rows);
            p.putScalar(i, v - h);
            double down = loss(layer, x, yBase, w, rows);
            p.putScalar(i, v);
            worst = Math.max(worst, relative((up - down) / (2 * h), analytic.getDouble(i)));
        }
        // input gradient: the adapter's path added to what was there
        for (int i = 0; i < x.length(); i += 3) {
            double v = x.getDouble(i);
            x.putScalar(i, v + h);
            double up = loss(layer, x, yBase, w, rows);
            x.putScalar(i, v - h);
            double down = loss(layer, x, yBase, w, rows);
            x.putScalar(i, v);
            double exact = dx.getDouble(i) - dxBase.getDouble(i);
            worst = Math.max(worst, relative((up - down) / (2 * h), exact));
        }
        assertThat(worst).as("worst relative error").isLessThan(1e-7);
        assertThat(maxAbs(analytic)).isGreaterThan(0.01);
        if (dropout > 0) {
            // the mask really applies: without it the loss differs
            double withDrop = loss(layer, x, yBase, w, rows);
            INDArray y2 = yBase.dup();
            layer.forwardOutput(x, y2, TestSteps.inference(rows));
            assertThat(Math.abs(withDrop - y2.mul(w).sumNumber().doubleValue())).isGreaterThan(1e-3);
        }

        // accumulate adds to what is there
        Step again = TestSteps.training(rows, true, 77);
        layer.forwardOutput(x, yBase.dup(), again);
        layer.backwardOutput(x, w.dup(), again);
        layer.backwardInput(x, w, dxBase.dup(), again);
        assertThat(maxAbs(lora.tensors().gradients().sub(analytic.mul(2)))).isLessThan(1e-12);
    }

    /** L = sum(w * y') with the step's fixed dropout mask. */
    private static double loss(LoraLayer layer, INDArray x, INDArray yBase, INDArray w, int rows) {
        INDArray y = yBase.dup();
        layer.forwardOutput(x, y, TestSteps.training(rows, false, 77));
        return y.mul(w).sumNumber().doubleValue();
    }

    private static double relative(double numeric, double exact) {
        return Math.abs(numeric - exact) / Math.max(1e-4, Math.abs(numeric) + Math.abs(exact));
    }

    static double maxAbs(INDArray a) {
        return a.dup().reshape(-1).amaxNumber().doubleValue();
    }
}
