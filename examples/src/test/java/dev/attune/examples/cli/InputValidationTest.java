package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Input the commands used to misread, or refuse only after slow work: clear errors, at once. */
class InputValidationTest {

    @TempDir
    Path dir;

    @Test
    void tokenizeJsonlKeepsOutputLinesMatchingInputLines() throws IOException {
        Path texts = Files.writeString(dir.resolve("texts.jsonl"), "\"Hello\"\n\n\"world\"\n");
        Cli blank = Cli.run("tokenize", "--jsonl", texts.toString());
        assertThat(blank.exitCode()).isNotZero();
        assertThat(blank.err()).contains("texts.jsonl, line 2: blank line");

        Files.writeString(texts, "\"Hello\" \"world\"\n");
        Cli two = Cli.run("tokenize", "--jsonl", texts.toString());
        assertThat(two.exitCode()).isNotZero();
        assertThat(two.err()).contains("texts.jsonl, line 1, column").contains("text after the JSON value");

        Files.writeString(texts, "\"Hello\"\n\"\"\n\" world\"\n");
        Cli ok = Cli.run("tokenize", "--jsonl", texts.toString());
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(ok.out().lines()).containsExactly("[15496]", "[]", "[995]");
    }

    @Test
    void trainingOptionsAreRefusedBeforeTheCorpusIsTokenized() throws IOException {
        Path corpus = Files.writeString(dir.resolve("corpus.txt"), "some text ".repeat(100));
        Path out = dir.resolve("run");
        String[][] bad = {
                {"--lr", "NaN"}, {"--context", "0"}, {"--batch", "2000000000"}, {"--resume", "--overwrite"},
                {"--validation-fraction", "1.5"}};
        String[] expected = {"learning rate must be positive and finite, got NaN",
                "contextLength must be in [1, 256], got 0", "must be below 2^31",
                "--overwrite deletes the run that --resume would continue", "--validation-fraction must be in (0, 1)"};
        for (int i = 0; i < bad.length; i++) {
            String[] args = new String[8 + bad[i].length];
            System.arraycopy(new String[] {"pretrain", "--corpus", corpus.toString(), "--config", "tiny", "--steps",
                    "1", "--out=" + out}, 0, args, 0, 8);
            System.arraycopy(bad[i], 0, args, 8, bad[i].length);
            Cli r = Cli.run(args);
            assertThat(r.exitCode()).as(String.join(" ", bad[i])).isNotZero();
            assertThat(r.err()).as(String.join(" ", bad[i])).contains(expected[i]).doesNotContain("tokenized");
            assertThat(out).as("nothing written for " + String.join(" ", bad[i])).doesNotExist();
        }
    }

    @Test
    void aModelWithNanWeightsIsRefusedAtLoadNotScoredAsNeedingMoreIds() throws IOException {
        GptModel model = GptModel.create(GptConfig.builder().layers(1).heads(2).embeddingSize(16).contextLength(16)
                .dropout(0).build(), 3);
        model.parameter("wte.weight").putScalar(7, Float.NaN);
        Path dirModel = dir.resolve("nan-model");
        HfCheckpoint.save(model, dirModel);
        Cli r = Cli.run("score", "--model", dirModel.toString(), "--ids", "1,2,3");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("not finite").contains("'wte.weight' (1 NaN)").doesNotContain("n/a");
    }
}
