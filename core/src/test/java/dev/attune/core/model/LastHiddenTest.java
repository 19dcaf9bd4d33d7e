package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.config.GptConfig;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * {@link GptModel#lastHidden}: rows of different lengths, packed without padding on the host kernels and right-padded
 * on the plain ND4J path, against {@link NaiveGpt} row by row and against the padded forward pass.
 */
class LastHiddenTest {

    private static final GptConfig CONFIG = GptModelReferenceTest.CONFIG;
    /** Two batches on one model: lengths in no order, a repeated longest, a row of one token; then shorter rows. */
    private static final int[][] LENGTHS = {{5, 9, 2, 9, 1, 7}, {3, 6, 4}};

    @AfterEach
    void restorePath() {
        Ops.forceNd4jPath = false;
    }

    @ParameterizedTest(name = "nd4j path only: {0}")
    @ValueSource(booleans = {false, true})
    void lastHiddenStatesMatchTheNaiveModel(boolean nd4jPath) {
        Ops.forceNd4jPath = nd4jPath;
        GptModel model = GptModel.create(CONFIG, 7);
        NaiveGpt.randomize(model, 11);
        NaiveGpt reference = new NaiveGpt(model);
        for (int s = 0; s < LENGTHS.length; s++) {
            int[][] rows = rows(LENGTHS[s], s);
            INDArray h = model.lastHidden(rows);
            assertThat(h.shape()).containsExactly(rows.length, CONFIG.embeddingSize());
            double maxDiff = 0;
            for (int r = 0; r < rows.length; r++) {
                double[] expected = reference.hidden(rows[r])[rows[r].length - 1];
                for (int j = 0; j < expected.length; j++) {
                    maxDiff = Math.max(maxDiff, Math.abs(expected[j] - h.getDouble(r, j)));
                }
            }
            assertThat(maxDiff).as("batch %d: max |h - reference|", s).isLessThan(1e-4);
        }
    }

    /** The packed pass against the padded one on the same kernels: equal up to float rounding. */
    @Test
    void packedRowsGiveWhatThePaddedPassGives() {
        GptModel model = GptModel.create(CONFIG, 3);
        NaiveGpt.randomize(model, 5);
        for (int s = 0; s < LENGTHS.length; s++) {
            int[][] rows = rows(LENGTHS[s], s);
            INDArray packed = model.lastHidden(rows);
            int t = Arrays.stream(rows).mapToInt(r -> r.length).max().orElseThrow();
            int[][] padded = new int[rows.length][t];
            int[][] ignored = new int[rows.length][t];
            for (int r = 0; r < rows.length; r++) {
                System.arraycopy(rows[r], 0, padded[r], 0, rows[r].length);
                Arrays.fill(ignored[r], TokenBatch.IGNORE);
            }
            INDArray hidden = model.forward(TokenBatch.of(padded, ignored), Output.HIDDEN).hidden();
            for (int r = 0; r < rows.length; r++) {
                INDArray expected = hidden.get(NDArrayIndex.point(r), NDArrayIndex.point(rows[r].length - 1),
                        NDArrayIndex.all());
                assertThat(packed.getRow(r).sub(expected).amaxNumber().doubleValue()).as("batch %d row %d", s, r)
                        .isLessThan(1e-5);
            }
        }
    }

    private static int[][] rows(int[] lengths, int seed) {
        int[][] rows = new int[lengths.length][];
        for (int r = 0; r < rows.length; r++) {
            rows[r] = new int[lengths[r]];
            for (int t = 0; t < lengths[r]; t++) {
                rows[r][t] = (int) ((13L * (seed + 1) + 29L * r + 5L * t * t + t) % CONFIG.vocabSize());
            }
        }
        return rows;
    }
}
