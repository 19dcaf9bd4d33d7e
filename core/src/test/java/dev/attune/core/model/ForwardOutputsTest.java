package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.config.GptConfig;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The one forward call: each output against an independent computation from the full logits. */
class ForwardOutputsTest {

    private static final GptConfig CONFIG = GptConfig.builder()
            .vocabSize(37).contextLength(12).embeddingSize(16).heads(2).layers(2).innerSize(24).dropout(0.0)
            .bosTokenId(0).eosTokenId(0).build();
    private static final TokenBatch BATCH = TokenBatch.of(
            new int[][] {{3, 17, 22, 5, 36, 0, 9}, {1, 2, 3, 4, 5, 6, 7}},
            new int[][] {{-1, -1, 5, 36, 0, 9, 11}, {2, 3, 4, 5, 6, -1, -1}});

    @Test
    void targetLogProbsAreLogSoftmaxOfTheFullLogitsAtTheCountedPositions() {
        GptModel model = GptModel.create(CONFIG, 1, DataType.DOUBLE);
        NaiveGpt.randomize(model, 2);
        INDArray logits = model.logits(BATCH);                                  // [B, T, V]
        ForwardResult r = model.forward(BATCH, Output.TARGET_LOGPROBS);
        for (int b = 0; b < BATCH.batchSize(); b++) {
            double expected = 0;
            int count = 0;
            boolean greedy = true;
            for (int t = 0; t < BATCH.length(); t++) {
                int target = BATCH.targets()[b * BATCH.length() + t];
                if (target < 0) {
                    continue;
                }
                double max = Double.NEGATIVE_INFINITY;
                int argmax = -1;
                for (int v = 0; v < CONFIG.vocabSize(); v++) {
                    double x = logits.getDouble(b, t, v);
                    if (x > max) {
                        max = x;
                        argmax = v;
                    }
                }
                double sum = 0;
                for (int v = 0; v < CONFIG.vocabSize(); v++) {
                    sum += Math.exp(logits.getDouble(b, t, v) - max);
                }
                expected += logits.getDouble(b, t, target) - max - Math.log(sum);
                count++;
                greedy &= argmax == target;
            }
            assertThat(r.targetLogProbs()[b]).isCloseTo(expected, org.assertj.core.data.Offset.offset(1e-10));
            assertThat(r.targetCounts()[b]).isEqualTo(count);
            assertThat(r.greedy()[b]).isEqualTo(greedy);
        }
        assertThat(model.loss(BATCH)).isCloseTo(-(r.targetLogProbs()[0] + r.targetLogProbs()[1]),
                org.assertj.core.data.Offset.offset(1e-10));
    }

    @Test
    void greedyIsTrueExactlyWhenEveryTargetIsTheArgmax() {
        GptModel model = GptModel.create(CONFIG, 1, DataType.DOUBLE);
        NaiveGpt.randomize(model, 3);
        int[] ids = {4, 8, 15, 16, 23};
        INDArray logits = model.logits(TokenBatch.of(new int[][] {ids}, new int[][] {ids}));
        int[] argmax = new int[ids.length];
        for (int t = 0; t < ids.length; t++) {
            argmax[t] = logits.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(t)).argMax().getInt(0);
        }
        ForwardResult best = model.forward(TokenBatch.of(new int[][] {ids}, new int[][] {argmax}), Output.TARGET_LOGPROBS);
        assertThat(best.greedy()[0]).isTrue();
        int[] notBest = argmax.clone();
        notBest[3] = (argmax[3] + 1) % CONFIG.vocabSize();
        ForwardResult worse = model.forward(TokenBatch.of(new int[][] {ids}, new int[][] {notBest}),
                Output.TARGET_LOGPROBS);
        assertThat(worse.greedy()[0]).isFalse();
        assertThat(worse.targetLogProbs()[0]).isLessThan(best.targetLogProbs()[0]);
    }

    @Test
    void hiddenStatesTimesTheTiedEmbeddingAreTheLogits() {
        GptModel model = GptModel.create(CONFIG, 1, DataType.DOUBLE);
        NaiveGpt.randomize(model, 4);
        ForwardResult r = model.forward(BATCH, Output.HIDDEN, Output.LOGITS);
        assertThat(r.hidden().shape()).containsExactly(2, 7, 16);
        INDArray viaHidden = r.hidden().reshape(14, 16).mmul(model.parameter("wte.weight").transpose());
        assertThat(viaHidden.reshape(2, 7, 37).sub(r.logits()).amaxNumber().doubleValue()).isLessThan(1e-12);
        assertThatThrownBy(r::targetLogProbs).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("TARGET_LOGPROBS");
    }

    @Test
    void aRowScoresTheSameAloneAndInARightPaddedBatchOfOtherLengths() {
        GptModel model = GptModel.create(CONFIG, 7);
        int[] row = {5, 9, 2, 30};
        int[] targets = {-1, 2, 30, 11};
        double alone = model.forward(TokenBatch.of(new int[][] {row}, new int[][] {targets}), Output.TARGET_LOGPROBS)
                .targetLogProbs()[0];
        TokenBatch mixed = TokenBatch.of(
                new int[][] {{1, 2, 3, 4, 5, 6, 7, 8}, {5, 9, 2, 30, 0, 0, 0, 0}, {7, 7, 0, 0, 0, 0, 0, 0}},
                new int[][] {{2, 3, 4, 5, 6, 7, 8, 9}, {-1, 2, 30, 11, -1, -1, -1, -1}, {7, 3, -1, -1, -1, -1, -1, -1}});
        double inBatch = model.forward(mixed, Output.TARGET_LOGPROBS).targetLogProbs()[1];
        assertThat(inBatch).isCloseTo(alone, org.assertj.core.data.Offset.offset(1e-5));
    }

    @Test
    void askingForNothingIsRefused() {
        GptModel model = GptModel.create(CONFIG, 1);
        assertThatThrownBy(() -> model.forward(BATCH)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least one output");
    }
}
