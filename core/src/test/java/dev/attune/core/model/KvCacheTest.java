package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Cached, padded and reordered inference gives the logits of a full forward pass over the same tokens. */
class KvCacheTest {

    private final GptModel model = model();

    private static GptModel model() {
        GptModel m = GptModel.create(GptModelReferenceTest.CONFIG, 21);
        NaiveGpt.randomize(m, 22);
        return m;
    }

    private INDArray fullLogits(int[] seq) {
        return model.logits(TokenBatch.of(new int[][] {seq}, new int[][] {seq}))
                .get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.all());
    }

    @Test
    void promptThenOneTokenAtATimeEqualsFullRecompute() {
        int[] seq = {5, 9, 13, 2, 40, 33, 7, 7, 1};
        INDArray full = fullLogits(seq);
        KvCache cache = model.newCache(1, 12);
        INDArray prefill = model.forward(cache, new int[][] {{5, 9, 13, 2}}, null, true);
        double diff = prefill.get(NDArrayIndex.point(0)).sub(full.get(NDArrayIndex.interval(0, 4))).amaxNumber()
                .doubleValue();
        for (int t = 4; t < seq.length; t++) {
            INDArray step = model.forward(cache, new int[][] {{seq[t]}}, null, false);
            diff = Math.max(diff, step.get(NDArrayIndex.point(0)).sub(full.getRow(t)).amaxNumber().doubleValue());
        }
        assertThat(cache.length()).isEqualTo(seq.length);
        assertThat(diff).isLessThan(1e-4);
    }

    @Test
    void leftPaddedRowEqualsTheRowAlone() {
        int[][] tokens = {{0, 0, 0, 11, 12, 13}, {20, 21, 22, 23, 24, 25}};
        boolean[][] mask = {{false, false, false, true, true, true}, {true, true, true, true, true, true}};
        KvCache cache = model.newCache(2, 8);
        INDArray last = model.forward(cache, tokens, mask, false);
        INDArray next = model.forward(cache, new int[][] {{14}, {26}}, null, false);

        INDArray alone = fullLogits(new int[] {11, 12, 13, 14});
        assertThat(last.getRow(0).sub(alone.getRow(2)).amaxNumber().doubleValue()).isLessThan(1e-4);
        assertThat(next.getRow(0).sub(alone.getRow(3)).amaxNumber().doubleValue()).isLessThan(1e-4);
        INDArray other = fullLogits(new int[] {20, 21, 22, 23, 24, 25, 26});
        assertThat(next.getRow(1).sub(other.getRow(6)).amaxNumber().doubleValue()).isLessThan(1e-4);
    }

    @Test
    void reorderCopiesARowsState() {
        KvCache cache = model.newCache(2, 6);
        model.forward(cache, new int[][] {{1, 2, 3}, {4, 5, 6}}, null, false);
        cache.reorder(new int[] {1, 1});
        INDArray next = model.forward(cache, new int[][] {{7}, {8}}, null, false);
        assertThat(next.getRow(0).sub(fullLogits(new int[] {4, 5, 6, 7}).getRow(3)).amaxNumber().doubleValue())
                .isLessThan(1e-4);
        assertThat(next.getRow(1).sub(fullLogits(new int[] {4, 5, 6, 8}).getRow(3)).amaxNumber().doubleValue())
                .isLessThan(1e-4);
    }

    @Test
    void clearErrorsForBadInput() {
        KvCache cache = model.newCache(1, 3);
        assertThatThrownBy(() -> model.forward(cache, new int[][] {{1, 2, 3, 4}}, null, false))
                .hasMessageContaining("capacity 3");
        assertThatThrownBy(() -> model.forward(cache, new int[][] {{61}}, null, false))
                .hasMessageContaining("token id 61").hasMessageContaining("[0, 61)");
        assertThatThrownBy(() -> model.forward(model.newCache(1, 40), new int[][] {new int[17]}, null, false))
                .hasMessageContaining("context length 16");
        assertThatThrownBy(() -> model.parameter("h.9.ln_1.weight")).hasMessageContaining("no parameter named");
    }

    @Test
    void reusedEvaluationBuffersDoNotLeakBetweenCalls() {
        TokenBatch a = TokenBatch.shifted(new int[][] {{1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}});
        TokenBatch b = TokenBatch.shifted(new int[][] {{11, 12, 13, 14, 15}, {16, 17, 18, 19, 20}});
        INDArray logitsA = model.logits(a);
        INDArray keep = logitsA.dup();
        double lossA = model.loss(a);
        double lossB = model.loss(b);
        model.logits(b);
        assertThat(logitsA.equalsWithEps(keep, 0)).as("returned logits are not overwritten later").isTrue();
        assertThat(lossB).isNotCloseTo(lossA, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(model.loss(a)).isEqualTo(lossA);
    }
}
