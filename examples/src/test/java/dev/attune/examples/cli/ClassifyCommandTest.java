package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.BpeTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code attune classify train|eval|predict}, run in-process on a tiny model and a made-up topic task. */
class ClassifyCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Map<String, String[]> TOPICS = Map.of(
            "sport", new String[] {"goal", "match", "team", "coach"},
            "food", new String[] {"soup", "bread", "cheese", "salad"});
    private static final String[] FILLER = {"the", "a", "was", "today", "very", "new", "our", "of"};

    private static List<String[]> examples(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<String[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String label = r.nextDouble() < 0.6 ? "sport" : "food";
            String[] topic = TOPICS.get(label);
            StringBuilder text = new StringBuilder();
            int words = 3 + r.nextInt(4);
            int at = r.nextInt(words);
            for (int w = 0; w < words; w++) {
                text.append(w == 0 ? "" : " ").append(w == at ? topic[r.nextInt(topic.length)] : FILLER[r.nextInt(FILLER.length)]);
            }
            out.add(new String[] {text.toString(), label});
        }
        return out;
    }

    private static Path jsonl(Path file, List<String[]> examples) throws IOException {
        List<String> lines = new ArrayList<>();
        for (String[] e : examples) {
            lines.add(JSON.writeValueAsString(Map.of("text", e[0], "label", e[1])));
        }
        return Files.write(file, lines);
    }

    @Test
    void trainEvalAndPredict(@TempDir Path dir) throws IOException {
        List<String> corpus = new ArrayList<>();
        examples(100, 1).forEach(e -> corpus.add(e[0]));
        BpeTokenizer tokenizer = BpeTrainer.builder().vocabSize(300).minFrequency(1).specialTokens("<|endoftext|>")
                .build().train(corpus);
        Path base = dir.resolve("base");
        new Pretrained(GptModel.create(GptConfig.builder().vocabSize(tokenizer.vocabSize()).layers(1).heads(2)
                .embeddingSize(32).contextLength(16).dropout(0).build(), 2), tokenizer).save(base);
        Path train = jsonl(dir.resolve("train.jsonl"), examples(200, 2));
        List<String[]> testExamples = examples(60, 3);
        Path test = jsonl(dir.resolve("test.jsonl"), testExamples);
        Path out = dir.resolve("clf");

        Cli t = Cli.run("classify", "train", "--model", base.toString(), "--data", train.toString(), "--out",
                out.toString(), "--lr", "1e-2", "--steps", "80", "--batch", "16", "--no-progress", "--output", "json");
        assertThat(t.exitCode()).as(t.err()).isZero();
        JsonNode trained = JSON.readTree(t.out());
        assertThat(trained.get("examples").asInt()).isEqualTo(200);
        assertThat(Files.exists(out.resolve("classifier.json"))).isTrue();

        Cli e = Cli.run("classify", "eval", "--model", out.toString(), "--data", test.toString(), "--output", "json",
                "--save", out.toString());
        assertThat(e.exitCode()).as(e.err()).isZero();
        JsonNode r = JSON.readTree(e.out());
        // --save: the same numbers as an evaluation file that attune report shows
        var saved = dev.attune.examples.report.EvaluationResults.read(
                out.resolve("evaluations").resolve(test.getFileName() + "-classify-eval.json"));
        assertThat(saved.metrics()).containsEntry("accuracy", r.get("accuracy").asDouble())
                .containsEntry("macro_f1", r.get("macro_f1").asDouble()).containsEntry("n", 60.0);
        assertThat(saved.confusion().get(0).get(1)).isEqualTo(r.get("confusion").get(0).get(1).asLong());
        assertThat(saved.confusion().get(1).get(0)).isEqualTo(r.get("confusion").get(1).get(0).asLong());
        assertThat(r.get("n").asInt()).isEqualTo(60);
        List<String> labels = new ArrayList<>();
        r.get("labels").forEach(l -> labels.add(l.asText()));
        assertThat(labels).containsExactlyInAnyOrder("sport", "food");
        long sport = testExamples.stream().filter(x -> x[1].equals("sport")).count();
        assertThat(r.get("accuracy").asDouble()).as("majority %.2f", sport / 60.0).isGreaterThan(0.9);
        assertThat(r.get("macro_f1").asDouble()).isGreaterThan(0.85);
        // rows are true labels: each row sums to that label's count in the test file
        int s = labels.indexOf("sport");
        long rowSum = 0;
        long total = 0;
        for (int i = 0; i < 2; i++) {
            rowSum += r.get("confusion").get(s).get(i).asLong();
            for (int j = 0; j < 2; j++) {
                total += r.get("confusion").get(i).get(j).asLong();
            }
        }
        assertThat(rowSum).isEqualTo(sport);
        assertThat(total).isEqualTo(60);
        long correct = r.get("confusion").get(0).get(0).asLong() + r.get("confusion").get(1).get(1).asLong();
        assertThat(correct / 60.0).isEqualTo(r.get("accuracy").asDouble());

        Cli p = Cli.run("classify", "predict", "--model", out.toString(), "--text", "the soup was new", "--text",
                "our team");
        assertThat(p.exitCode()).as(p.err()).isZero();
        String[] lines = p.out().split("\n");
        assertThat(lines).hasSize(2);
        JsonNode first = JSON.readTree(lines[0]);
        assertThat(first.get("text").asText()).isEqualTo("the soup was new");
        assertThat(first.get("label").asText()).isEqualTo("food");
        assertThat(first.get("scores").get("food").asDouble() + first.get("scores").get("sport").asDouble())
                .isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-5));
        assertThat(JSON.readTree(lines[1]).get("label").asText()).isEqualTo("sport");

        Files.writeString(dir.resolve("bad.jsonl"), "{\"text\":\"goal\",\"label\":\"sport\"}\n{\"label\":\"food\"}\n");
        Cli bad = Cli.run("classify", "eval", "--model", out.toString(), "--data", dir.resolve("bad.jsonl").toString());
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("bad.jsonl, line 2").contains("missing field \"text\"");
    }

    @Test
    void trainWithLoraSavesTheHeadWithTheAdapterInPeftsLayout(@TempDir Path dir) throws IOException {
        List<String> corpus = new ArrayList<>();
        examples(100, 1).forEach(e -> corpus.add(e[0]));
        BpeTokenizer tokenizer = BpeTrainer.builder().vocabSize(300).minFrequency(1).specialTokens("<|endoftext|>")
                .build().train(corpus);
        Path base = dir.resolve("base");
        new Pretrained(GptModel.create(GptConfig.builder().vocabSize(tokenizer.vocabSize()).layers(1).heads(2)
                .embeddingSize(32).contextLength(16).dropout(0).build(), 2), tokenizer).save(base);
        Path train = jsonl(dir.resolve("train.jsonl"), examples(120, 2));
        Path out = dir.resolve("clf");
        Cli t = Cli.run("classify", "train", "--model", base.toString(), "--data", train.toString(), "--out",
                out.toString(), "--method", "lora", "--rank", "2", "--alpha", "8", "--targets", "c_attn,c_fc",
                "--lr", "2e-2", "--steps", "40", "--batch", "16", "--no-progress", "--output", "json");
        assertThat(t.exitCode()).as(t.err()).isZero();
        assertThat(JSON.readTree(t.out()).get("method").asText()).isEqualTo("lora");
        JsonNode config = JSON.readTree(out.resolve("adapter").resolve("adapter_config.json").toFile());
        assertThat(config.get("peft_type").asText()).isEqualTo("LORA");
        assertThat(config.get("task_type").asText()).isEqualTo("SEQ_CLS");
        assertThat(config.get("modules_to_save").toString()).isEqualTo("[\"score\"]");
        try (var weights = dev.attune.core.io.SafeTensors.open(out.resolve("adapter").resolve("adapter_model.safetensors"))) {
            assertThat(weights.names()).contains("base_model.model.score.weight",
                    "base_model.model.transformer.h.0.mlp.c_fc.lora_B.weight");
        }
        Cli p = Cli.run("classify", "predict", "--model", out.toString(), "--text", "our team");
        assertThat(p.exitCode()).as(p.err()).isZero();
        assertThat(JSON.readTree(p.out().split("\n")[0]).get("scores").size()).isEqualTo(2);
    }
}
