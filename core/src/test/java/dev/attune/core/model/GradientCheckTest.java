package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.config.GptConfig;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Backward pass against central finite differences of the loss, in float64, for every tensor of the model; then the
 * float32 Java kernels against the float64 gradients.
 */
class GradientCheckTest {

    private static final GptConfig CONFIG = GptConfig.builder()
            .vocabSize(37).contextLength(12).embeddingSize(16).heads(2).layers(2).innerSize(24).dropout(0.0)
            .bosTokenId(0).eosTokenId(0).build();
    // Padding target in row 1 checks that ignored positions contribute nothing.
    private static final TokenBatch BATCH = TokenBatch.of(
            new int[][] {{3, 17, 22, 5, 36, 0, 9}, {1, 2, 3, 4, 5, 6, 7}},
            new int[][] {{17, 22, 5, 36, 0, 9, 11}, {2, 3, 4, 5, 6, -1, -1}});

    @AfterEach
    void restorePath() {
        Ops.forceNd4jPath = false;
    }

    @Test
    void everyTensorMatchesCentralDifferencesInFloat64() {
        GptModel model = GptModel.create(CONFIG, 1, DataType.DOUBLE);
        NaiveGpt.randomize(model, 2);
        double worst = checkAgainstFiniteDifferences(model, 0L);
        assertThat(worst).as("worst relative error over all tensors").isLessThan(1e-6);
    }

    @Test
    void dropoutGradientsMatchCentralDifferencesUnderAFixedSeed() {
        GptModel model = GptModel.create(CONFIG.withDropout(0.2), 1, DataType.DOUBLE);
        NaiveGpt.randomize(model, 3);
        double worst = checkAgainstFiniteDifferences(model, 1234L);
        assertThat(worst).isLessThan(1e-6);
        // and dropout does change the loss (so the masks are really applied)
        double withDropout = model.forwardBackward(BATCH, 1, false, 1234L);
        assertThat(Math.abs(withDropout - model.loss(BATCH))).isGreaterThan(1e-3);
    }

    /** Returns the worst relative error; checks 6 random entries of each tensor. */
    private static double checkAgainstFiniteDifferences(GptModel model, long seed) {
        int counted = BATCH.validTargets();
        model.forwardBackward(BATCH, counted, false, seed);
        INDArray analytic = model.gradients().dup();
        SplittableRandom pick = new SplittableRandom(9);
        double worst = 0;
        double h = 1e-5;
        for (String name : model.parameterNames()) {
            INDArray p = model.parameter(name).reshape(-1);
            INDArray g = gradientView(model, analytic, name);
            double tensorNorm = 0;
            for (int k = 0; k < 6; k++) {
                int i = pick.nextInt((int) p.length());
                double original = p.getDouble(i);
                p.putScalar(i, original + h);
                double up = model.forwardBackward(BATCH, counted, false, seed) / counted;
                p.putScalar(i, original - h);
                double down = model.forwardBackward(BATCH, counted, false, seed) / counted;
                p.putScalar(i, original);
                double numeric = (up - down) / (2 * h);
                double exact = g.getDouble(i);
                double rel = Math.abs(numeric - exact) / Math.max(1e-3, Math.abs(numeric) + Math.abs(exact));
                worst = Math.max(worst, rel);
                tensorNorm += Math.abs(exact);
            }
            if (!name.startsWith("wpe") && !name.startsWith("wte")) {
                assertThat(tensorNorm).as("gradient of %s is not all zero", name).isGreaterThan(0);
            }
        }
        return worst;
    }

    private static INDArray gradientView(GptModel model, INDArray flat, String name) {
        long offset = 0;
        for (String n : model.parameterNames()) {
            long size = model.parameter(n).length();
            if (n.equals(name)) {
                return flat.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(offset, offset + size));
            }
            offset += size;
        }
        throw new AssertionError(name);
    }

    @Test
    void float32KernelsAgreeWithFloat64Gradients() {
        GptModel reference = GptModel.create(CONFIG, 4, DataType.DOUBLE);
        NaiveGpt.randomize(reference, 5);
        GptModel fast = GptModel.create(CONFIG, 4);
        fast.parameters().assign(reference.parameters().castTo(DataType.FLOAT));
        double lossRef = reference.forwardBackward(BATCH, 3.0, false, 0);
        double lossFast = fast.forwardBackward(BATCH, 3.0, false, 0);
        assertThat(lossFast).isCloseTo(lossRef, org.assertj.core.data.Offset.offset(1e-4 * Math.abs(lossRef)));
        INDArray gr = reference.gradients();
        INDArray gf = fast.gradients().castTo(DataType.DOUBLE);
        double relNorm = gf.sub(gr).norm2Number().doubleValue() / gr.norm2Number().doubleValue();
        assertThat(relNorm).as("||g32 - g64|| / ||g64||").isLessThan(1e-5);
    }

    @Test
    void accumulatingTwoHalvesEqualsTheWholeBatch() {
        GptModel model = GptModel.create(CONFIG, 6);
        NaiveGpt.randomize(model, 7);
        int counted = BATCH.validTargets();
        double whole = model.forwardBackward(BATCH, counted, false, 0);
        INDArray wholeGrad = model.gradients().dup();
        TokenBatch first = TokenBatch.of(new int[][] {slice(BATCH.inputs(), 0)}, new int[][] {slice(BATCH.targets(), 0)});
        TokenBatch second = TokenBatch.of(new int[][] {slice(BATCH.inputs(), 1)}, new int[][] {slice(BATCH.targets(), 1)});
        double a = model.forwardBackward(first, counted, false, 0);
        double b = model.forwardBackward(second, counted, true, 0);
        assertThat(a + b).isCloseTo(whole, org.assertj.core.data.Offset.offset(1e-4));
        double relNorm = model.gradients().sub(wholeGrad).norm2Number().doubleValue()
                / wholeGrad.norm2Number().doubleValue();
        assertThat(relNorm).isLessThan(1e-5);
    }

    private static int[] slice(int[] flat, int row) {
        return java.util.Arrays.copyOfRange(flat, row * 7, row * 7 + 7);
    }
}
