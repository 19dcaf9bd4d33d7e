package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.config.GptConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Attention's heads over host memory ({@code Attention.attendHost}, {@code backwardHost}) against the plain ND4J path
 * ({@link Ops#forceNd4jPath}), in float32: the same model, weights and batch through both, for training (loss and
 * every gradient), a prefix in front of the pass (keys and values from the store, gradients sent to the prefix),
 * and cached decoding of several positions at a time with a left-padded row (the padding mask).
 */
class AttentionHostTest {

    private static final GptConfig CONFIG = GptConfig.builder()
            .vocabSize(41).contextLength(16).embeddingSize(24).heads(3).layers(2).innerSize(40).dropout(0.0)
            .bosTokenId(0).eosTokenId(0).build();
    private static final TokenBatch BATCH = TokenBatch.of(
            new int[][] {{3, 17, 22, 5, 36, 0, 9, 40, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9}},
            new int[][] {{17, 22, 5, 36, 0, 9, 40, 2, 11}, {2, 3, 4, 5, 6, 7, -1, -1, -1}});

    @AfterEach
    void restorePath() {
        Ops.forceNd4jPath = false;
    }

    private static GptModel model(long seed) {
        GptModel m = GptModel.create(CONFIG, 1);
        NaiveGpt.randomize(m, seed);
        return m;
    }

    @Test
    void trainingLossAndGradientsMatchThePlainPath() {
        GptModel m = model(3);
        double[] loss = new double[2];
        INDArray[] grads = new INDArray[2];
        for (int plain = 0; plain < 2; plain++) {
            Ops.forceNd4jPath = plain == 1;
            loss[plain] = m.forwardBackward(BATCH, BATCH.validTargets(), false, 0);
            grads[plain] = m.gradients().dup();
        }
        assertThat(loss[0]).isCloseTo(loss[1], org.assertj.core.data.Offset.offset(1e-5 * Math.abs(loss[1])));
        assertThat(relativeDifference(grads[0], grads[1])).as("||g_host - g_plain|| / ||g_plain||").isLessThan(1e-5);
        assertThat(grads[1].norm2Number().doubleValue()).isGreaterThan(1e-3);
    }

    @Test
    void aPrefixGetsTheSameGradientsThroughBothPaths() {
        double[] loss = new double[2];
        INDArray[] grads = new INDArray[2];
        INDArray[] prefixGrads = new INDArray[2];
        for (int plain = 0; plain < 2; plain++) {
            Ops.forceNd4jPath = plain == 1;
            GptModel m = model(4);
            TestAdapters.Prefix prefix = new TestAdapters.Prefix(2, 3, 24, 20);
            m.adapters().prefix(prefix);
            loss[plain] = m.forwardBackward(BATCH, BATCH.validTargets(), false, 0);
            grads[plain] = m.gradients().dup();
            prefixGrads[plain] = org.nd4j.linalg.factory.Nd4j.concat(0, prefix.keys.get(0).grad,
                    prefix.values.get(0).grad, prefix.keys.get(1).grad, prefix.values.get(1).grad);
        }
        assertThat(loss[0]).isCloseTo(loss[1], org.assertj.core.data.Offset.offset(1e-5 * Math.abs(loss[1])));
        assertThat(relativeDifference(grads[0], grads[1])).isLessThan(1e-5);
        assertThat(prefixGrads[1].norm2Number().doubleValue()).as("the prefix receives gradients").isGreaterThan(1e-4);
        assertThat(relativeDifference(prefixGrads[0], prefixGrads[1])).isLessThan(1e-5);
    }

    @Test
    void cachedDecodingOfSeveralPositionsWithPaddingMatchesThePlainPath() {
        GptModel m = model(5);
        INDArray[][] logits = new INDArray[2][];
        for (int plain = 0; plain < 2; plain++) {
            Ops.forceNd4jPath = plain == 1;
            KvCache cache = m.newCache(2, 12);
            logits[plain] = new INDArray[] {
                m.forward(cache, new int[][] {{4, 9, 1, 30}, {0, 0, 7, 12}},
                        new boolean[][] {{true, true, true, true}, {false, false, true, true}}, true).dup(),
                m.forward(cache, new int[][] {{5, 6, 8}, {13, 2, 19}}, null, true).dup(),
                m.forward(cache, new int[][] {{22, 23}, {24, 25}}, null, true).dup(),
            };
        }
        for (int step = 0; step < 3; step++) {
            assertThat(logits[0][step].shape()).isEqualTo(logits[1][step].shape());
            assertThat(relativeDifference(logits[0][step], logits[1][step])).as("chunk %d", step).isLessThan(1e-5);
        }
    }

    private static double relativeDifference(INDArray a, INDArray b) {
        INDArray x = a.castTo(DataType.DOUBLE);
        INDArray y = b.castTo(DataType.DOUBLE);
        return x.sub(y).norm2Number().doubleValue() / y.norm2Number().doubleValue();
    }
}
