package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.config.GptConfig;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class ScoreCommandTest {

    private static final GptConfig CONFIG = GptConfig.builder().vocabSize(97).contextLength(32).embeddingSize(32)
            .heads(4).layers(2).build();

    @Test
    void jsonHasLossArgmaxAndLastLogits(@TempDir Path dir) throws Exception {
        GptModel model = GptModel.create(CONFIG, 42);
        HfCheckpoint.save(model, dir);

        Cli result = Cli.run("score", "--model", dir.toString(), "--ids", "1,5,9,96", "--output", "json");

        assertThat(result.exitCode()).as(result.err()).isZero();
        JsonNode json = new ObjectMapper().readTree(result.out());
        assertThat(json.fieldNames()).toIterable().containsExactly("loss", "argmax", "last_logits");
        int[] ids = {1, 5, 9, 96};
        INDArray logits = model.logits(TokenBatch.of(new int[][] {ids}, new int[][] {ids})).reshape(4, 97);
        double expectedLoss = 0;
        for (int i = 0; i < 3; i++) {
            double[] row = logits.getRow(i).toDoubleVector();
            double max = java.util.Arrays.stream(row).max().orElseThrow();
            double z = java.util.Arrays.stream(row).map(v -> Math.exp(v - max)).sum();
            expectedLoss += Math.log(z) + max - row[ids[i + 1]];
        }
        assertThat(json.get("loss").asDouble()).isCloseTo(expectedLoss / 3, within(1e-5));
        assertThat(json.get("argmax")).hasSize(4);
        for (int i = 0; i < 4; i++) {
            assertThat(json.get("argmax").get(i).asInt()).isEqualTo(logits.getRow(i).argMax().getInt(0));
        }
        assertThat(json.get("last_logits")).hasSize(97);
        assertThat(json.get("last_logits").get(7).asDouble()).isCloseTo(logits.getDouble(3, 7), within(1e-5));
    }

    @Test
    void argmaxIsNd4jsOnRandomRowsAndTakesTheFirstOfTiedMaxima() {
        java.util.Random random = new java.util.Random(7);
        for (int t = 0; t < 50; t++) {
            float[] row = new float[1 + random.nextInt(300)];
            for (int j = 0; j < row.length; j++) {
                // few distinct values, so that most rows have ties at their maximum
                row[j] = t % 2 == 0 ? random.nextInt(5) - 2 : (float) random.nextGaussian();
            }
            int nd4j = org.nd4j.linalg.factory.Nd4j.createFromArray(row).argMax().getInt(0);
            assertThat(ScoreCommand.argmax(row)).as("row %d", t).isEqualTo(nd4j);
        }
        assertThat(ScoreCommand.argmax(new float[] {1f, 3f, -2f, 3f, 3f})).isEqualTo(1);
        assertThat(ScoreCommand.argmax(new float[] {-5f, -7f, -5f})).isZero();
        assertThat(ScoreCommand.argmax(new float[] {0.5f})).isZero();
    }

    /** The bulk copy gives ND4J's own row-by-row values, for a plain array and for a transposed (not dense) view. */
    @Test
    void rowMajorValuesAndArgmaxByOffsetMatchNd4jsRows() {
        INDArray logits = org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 3, 50)
                .subi(0.5);
        INDArray transposed = org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, 50, 3)
                .transpose();
        for (INDArray a : new INDArray[] {logits, transposed}) {
            float[] values = ScoreCommand.rowMajor(a);
            assertThat(values).hasSize(150);
            for (int i = 0; i < 3; i++) {
                float[] row = a.getRow(i).toFloatVector();
                assertThat(java.util.Arrays.copyOfRange(values, 50 * i, 50 * i + 50)).containsExactly(row);
                assertThat(ScoreCommand.argmax(values, 50 * i, 50)).isEqualTo(a.getRow(i).argMax().getInt(0));
            }
        }
        assertThat(ScoreCommand.argmax(new float[] {9f, 1f, 3f, 3f, 2f}, 1, 4)).isEqualTo(1);
    }

    @Test
    void badInputGivesAMessageNotAStackTrace(@TempDir Path dir) throws Exception {
        Cli missing = Cli.run("score", "--model", dir.resolve("nope").toString(), "--ids", "1,2");
        assertThat(missing.exitCode()).isNotZero();
        assertThat(missing.err()).contains("nope").doesNotContain("\tat ");

        HfCheckpoint.save(GptModel.create(CONFIG, 1), dir);
        Cli outOfVocab = Cli.run("score", "--model", dir.toString(), "--ids", "1,97");
        assertThat(outOfVocab.exitCode()).isNotZero();
        assertThat(outOfVocab.err()).contains("token id 97").contains("[0, 97)");

        Cli notIds = Cli.run("score", "--model", dir.toString(), "--ids", "1,x");
        assertThat(notIds.exitCode()).isNotZero();
        assertThat(notIds.err()).contains("'x'");
    }
}
