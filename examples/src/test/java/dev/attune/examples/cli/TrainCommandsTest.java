package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.config.GptConfig;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.core.data.TokenFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code attune pretrain} and {@code attune finetune} in-process, on a model small enough for a few seconds. */
class TrainCommandsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;


    /** GPT-2's vocabulary (the tokenizer needs it) on a one-layer, 32-wide body. */
    private static GptConfig small() {
        return GptConfig.builder().layers(1).heads(2).embeddingSize(32).contextLength(32).dropout(0).build();
    }

    private static List<JsonNode> metrics(Path file) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            out.add(JSON.readTree(line));
        }
        return out;
    }

    private static List<Long> steps(List<JsonNode> metrics) {
        return metrics.stream().filter(m -> m.get("event").asText().equals("step"))
                .map(m -> m.get("step").asLong()).toList();
    }

    @Test
    void pretrainTokenizesTrainsSavesAndResumes() throws IOException {
        Path corpus = Files.writeString(dir.resolve("corpus.txt"),
                "It was the best of times, it was the worst of times, it was the age of wisdom.\n".repeat(20));
        Path config = dir.resolve("config.json");
        small().writeJson(config);
        Path out = dir.resolve("run");

        Cli first = Cli.run("pretrain", "--corpus", corpus.toString(), "--config", config.toString(), "--steps", "4",
                "--out", out.toString(), "--batch", "2", "--context", "16", "--lr", "1e-3", "--checkpoint-every", "2",
                "--output", "json", "--no-progress");
        assertThat(first.exitCode()).as(first.err()).isZero();
        JsonNode summary = JSON.readTree(first.out());
        assertThat(summary.get("steps").asLong()).isEqualTo(4);
        assertThat(summary.get("loss").asDouble()).isBetween(0.0, 12.0);
        assertThat(summary.get("val_loss").isNumber()).isTrue();
        assertThat(summary.get("model").asText()).isEqualTo(out.resolve("model").toString());
        assertThat(first.err()).contains("tokenized").contains("corpus.bin");

        int[] expected = Tokenizer.gpt2().encode(Files.readString(corpus));
        TokenFile tokens = TokenFile.open(out.resolve("corpus.bin"));
        assertThat(tokens.size()).isEqualTo(expected.length + 1);
        GptModel model = HfCheckpoint.load(out.resolve("model"));
        assertThat(model.config().layers()).isEqualTo(1);
        assertThat(out.resolve("model/vocab.json")).exists();
        assertThat(out.resolve("checkpoint-000004/optimizer.safetensors")).exists();

        // continue the same run to step 6
        Cli second = Cli.run("pretrain", "--corpus", corpus.toString(), "--config", config.toString(), "--steps", "6",
                "--out", out.toString(), "--batch", "2", "--context", "16", "--lr", "1e-3", "--resume",
                "--no-progress");
        assertThat(second.exitCode()).as(second.err()).isZero();
        assertThat(second.out()).contains("trained 6 steps").contains("model saved to");
        assertThat(second.err()).doesNotContain("tokenized");
        assertThat(steps(metrics(out.resolve("metrics.jsonl")))).containsExactly(1L, 2L, 3L, 4L, 5L, 6L);
    }

    @Test
    void pretrainOwnsItsDirectory() throws IOException {
        Path corpus = Files.writeString(dir.resolve("corpus.txt"), "It was the best of times.\n".repeat(30));
        Path other = Files.writeString(dir.resolve("other.txt"), "It was the worst of times.\n".repeat(30));
        Path out = dir.resolve("run");
        Path config = dir.resolve("config.json");
        small().writeJson(config);
        String[] common = {"--config", config.toString(), "--out", out.toString(), "--batch", "2", "--context", "16",
                "--no-progress"};
        Cli first = pretrain(corpus, "2", common);
        assertThat(first.exitCode()).as(first.err()).isZero();

        Cli again = pretrain(corpus, "2", common);
        assertThat(again.exitCode()).isNotZero();
        assertThat(again.err()).contains("already holds files of another run").contains("--resume")
                .contains("--overwrite");
        assertThat(steps(metrics(out.resolve("metrics.jsonl")))).containsExactly(1L, 2L); // untouched

        Cli otherCorpus = pretrain(other, "4", common, "--resume");
        assertThat(otherCorpus.exitCode()).isNotZero();
        assertThat(otherCorpus.err()).contains("cannot resume").contains("the data files differ")
                .contains("saved [corpus.txt").contains("now [other.txt");

        Cli both = pretrain(corpus, "4", common, "--resume", "--overwrite");
        assertThat(both.exitCode()).isNotZero();
        assertThat(both.err()).contains("--overwrite deletes the run that --resume would continue");

        Cli overwritten = pretrain(other, "3", common, "--overwrite");
        assertThat(overwritten.exitCode()).as(overwritten.err()).isZero();
        assertThat(steps(metrics(out.resolve("metrics.jsonl")))).containsExactly(1L, 2L, 3L);
        assertThat(overwritten.err()).contains("tokenized"); // the other corpus, not the old corpus.bin

        Path file = Files.writeString(dir.resolve("a-file"), "x");
        Cli onFile = Cli.run("pretrain", "--corpus", corpus.toString(), "--config", "tiny", "--steps", "1",
                "--out", file.toString());
        assertThat(onFile.exitCode()).isNotZero();
        assertThat(onFile.err()).contains(file + " is a file, not a directory");
    }

    private static Cli pretrain(Path corpus, String steps, String[] common, String... more) {
        List<String> args = new ArrayList<>(List.of("pretrain", "--corpus", corpus.toString(), "--steps", steps));
        args.addAll(List.of(common));
        args.addAll(List.of(more));
        return Cli.run(args.toArray(new String[0]));
    }

    @Test
    void pretrainNamesBadInput() {
        Cli missing = Cli.run("pretrain", "--corpus", dir.resolve("none.txt").toString(), "--config", "tiny",
                "--steps", "1", "--out", dir.resolve("x").toString());
        assertThat(missing.exitCode()).isNotZero();
        assertThat(missing.err()).contains("none.txt");

        Cli badConfig = Cli.run("pretrain", "--corpus", dir.resolve("none.txt").toString(), "--config",
                dir.resolve("nope.json").toString(), "--steps", "1", "--out", dir.resolve("x").toString());
        assertThat(badConfig.exitCode()).isNotZero();
        assertThat(badConfig.err()).contains("nope.json");
    }

    @Test
    void finetuneTrainsALoadedCheckpointOnPairsAndSavesAnHfCheckpoint() throws IOException {
        Path base = dir.resolve("base");
        HfCheckpoint.save(GptModel.create(small(), 1), base);
        StringBuilder jsonl = new StringBuilder();
        String[][] pairs = {{"Q: 2+2?", " A: 4"}, {"Q: 3+3?", " A: 6"}, {"Q: 1+1?", " A: 2"}, {"Q: 4+4?", " A: 8"},
                {"Q: 5+5?", " A: 10"}, {"Q: 6+6?", " A: 12"}};
        for (String[] p : pairs) {
            jsonl.append(JSON.writeValueAsString(java.util.Map.of("prompt", p[0], "completion", p[1]))).append('\n');
        }
        Path data = Files.writeString(dir.resolve("train.jsonl"), jsonl.toString());
        Path out = dir.resolve("tuned");

        Cli r = Cli.run("finetune", "--model", base.toString(), "--data", data.toString(), "--out", out.toString(),
                "--steps", "12", "--batch", "3", "--lr", "1e-2", "--schedule", "constant", "--validation", data.toString(), "--eval-every", "6",
                "--output", "json", "--no-progress");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode summary = JSON.readTree(r.out());
        assertThat(summary.get("steps").asLong()).isEqualTo(12);

        List<JsonNode> metrics = metrics(out.resolve("metrics.jsonl"));
        double firstLoss = metrics.stream().filter(m -> m.get("event").asText().equals("step")).findFirst()
                .orElseThrow().get("loss").asDouble();
        assertThat(summary.get("loss").asDouble()).as("the completions are learned").isLessThan(firstLoss * 0.8);
        assertThat(metrics.stream().filter(m -> m.get("event").asText().equals("evaluation")).count()).isEqualTo(2);

        GptModel tuned = HfCheckpoint.load(out.resolve("model"));
        GptModel original = HfCheckpoint.load(base);
        assertThat(tuned.config()).isEqualTo(original.config());
        assertThat(tuned.parameters().sub(original.parameters()).amaxNumber().doubleValue()).isGreaterThan(1e-3);
        assertThat(out.resolve("model/merges.txt")).exists();

        Path broken = Files.writeString(dir.resolve("broken.jsonl"), "{\"prompt\": \"a\"}\n");
        Cli bad = Cli.run("finetune", "--model", base.toString(), "--data", broken.toString(), "--out",
                dir.resolve("x").toString(), "--no-progress");
        assertThat(bad.exitCode()).isNotZero();
        assertThat(bad.err()).contains("broken.jsonl, line 1: missing \"completion\"");
    }
}
