package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.config.GptConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The library's logits and loss against {@link NaiveGpt}, on both compute paths (Java kernels and plain ND4J). */
class GptModelReferenceTest {

    static final GptConfig CONFIG = GptConfig.builder()
            .vocabSize(61).contextLength(16).embeddingSize(24).heads(4).layers(2).innerSize(40).dropout(0.0)
            .bosTokenId(0).eosTokenId(0).build();

    @AfterEach
    void restorePath() {
        Ops.forceNd4jPath = false;
    }

    @ParameterizedTest(name = "nd4j path only: {0}")
    @ValueSource(booleans = {false, true})
    void logitsMatchNaiveImplementation(boolean nd4jPath) {
        Ops.forceNd4jPath = nd4jPath;
        GptModel model = GptModel.create(CONFIG, 7);
        NaiveGpt.randomize(model, 11);
        NaiveGpt reference = new NaiveGpt(model);
        int[][] rows = {{3, 17, 42, 5, 60, 0, 9, 9, 31}, {1, 2, 3, 4, 5, 6, 7, 8, 59}};
        INDArray logits = model.logits(TokenBatch.of(rows, rows));
        double maxDiff = 0;
        double maxAbs = 0;
        for (int b = 0; b < rows.length; b++) {
            double[][] expected = reference.logits(rows[b]);
            for (int t = 0; t < rows[b].length; t++) {
                for (int v = 0; v < CONFIG.vocabSize(); v++) {
                    maxDiff = Math.max(maxDiff, Math.abs(expected[t][v] - logits.getDouble(b, t, v)));
                    maxAbs = Math.max(maxAbs, Math.abs(expected[t][v]));
                }
            }
        }
        assertThat(maxAbs).as("logits are not trivially small").isGreaterThan(1.0);
        assertThat(maxDiff).as("max |logit - reference|").isLessThan(1e-4);
    }

    @ParameterizedTest(name = "nd4j path only: {0}")
    @ValueSource(booleans = {false, true})
    void lossMatchesNaiveImplementation(boolean nd4jPath) {
        Ops.forceNd4jPath = nd4jPath;
        GptModel model = GptModel.create(CONFIG, 3);
        NaiveGpt.randomize(model, 5);
        int[][] seqs = {{4, 8, 15, 16, 23, 42, 7, 1, 0, 33}, {9, 9, 9, 1, 2, 3, 50, 51, 52, 53}};
        TokenBatch batch = TokenBatch.shifted(seqs);
        double expected = (new NaiveGpt(model).meanLoss(seqs[0]) + new NaiveGpt(model).meanLoss(seqs[1])) / 2;
        assertThat(model.loss(batch) / batch.validTargets()).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5));
        double trainingLoss = model.forwardBackward(batch, batch.validTargets(), false, 0) / batch.validTargets();
        assertThat(trainingLoss).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-5));
    }
}
