package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.config.GptConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Whole-sequence forward passes of changing shapes on one model, which share one block of memory per buffer (and one
 * key/value store for all layers when there is no prefix): each pass must give what it gives on its own, whatever
 * the passes before it left in that memory.
 */
class EvaluationBuffersTest {

    private static final GptConfig CONFIG = GptModelReferenceTest.CONFIG;
    /** Batch size and length of each pass: growing, shrinking, another batch size, and back. */
    private static final int[][] SHAPES = {{2, 9}, {2, 4}, {3, 12}, {1, 6}, {2, 9}, {3, 3}};

    @AfterEach
    void restorePath() {
        Ops.forceNd4jPath = false;
    }

    @ParameterizedTest(name = "nd4j path only: {0}")
    @ValueSource(booleans = {false, true})
    void passesOfChangingShapesMatchTheNaiveModel(boolean nd4jPath) {
        Ops.forceNd4jPath = nd4jPath;
        GptModel model = GptModel.create(CONFIG, 7);
        NaiveGpt.randomize(model, 11);
        NaiveGpt reference = new NaiveGpt(model);
        double maxDiff = 0;
        for (int s = 0; s < SHAPES.length; s++) {
            int[][] rows = rows(SHAPES[s][0], SHAPES[s][1], s);
            INDArray logits = model.logits(TokenBatch.of(rows, rows));
            for (int b = 0; b < rows.length; b++) {
                double[][] expected = reference.logits(rows[b]);
                for (int t = 0; t < rows[b].length; t++) {
                    for (int v = 0; v < CONFIG.vocabSize(); v++) {
                        maxDiff = Math.max(maxDiff, Math.abs(expected[t][v] - logits.getDouble(b, t, v)));
                    }
                }
            }
        }
        assertThat(maxDiff).as("max |logit - reference| over all passes").isLessThan(1e-4);
    }

    /**
     * With and without a prefix (which keeps a key/value store per layer), against the path through a fresh cache
     * per pass (what generation runs, with its own buffers): each pass's logits as the cache path gives them.
     */
    @ParameterizedTest(name = "with a prefix: {0}")
    @ValueSource(booleans = {false, true})
    void eachPassMatchesThePassThroughAFreshCache(boolean withPrefix) {
        GptModel model = model(withPrefix);
        for (int s = 0; s < SHAPES.length; s++) {
            int[][] rows = rows(SHAPES[s][0], SHAPES[s][1], s);
            INDArray shared = model.logits(TokenBatch.of(rows, rows));
            INDArray cached = model.forward(model.newCache(rows.length, rows[0].length), rows, null, true);
            assertThat(shared.sub(cached).amaxNumber().doubleValue()).as("pass %d, shape %dx%d", s, rows.length,
                    rows[0].length).isLessThan(1e-4);
            assertThat(cached.amaxNumber().doubleValue()).as("logits are not trivially small").isGreaterThan(0.1);
        }
    }

    private static GptModel model(boolean withPrefix) {
        GptModel model = GptModel.create(CONFIG, 7);
        NaiveGpt.randomize(model, 11);
        if (withPrefix) {
            model.adapters().prefix(new TestAdapters.Prefix(CONFIG.layers(), 2, CONFIG.embeddingSize(), 20));
        }
        return model;
    }

    private static int[][] rows(int batch, int length, int seed) {
        int[][] rows = new int[batch][length];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < length; t++) {
                rows[b][t] = (int) ((31L * (seed + 1) + 17L * b + 7L * t * t) % CONFIG.vocabSize());
            }
        }
        return rows;
    }
}
