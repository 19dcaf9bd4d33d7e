package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.BpeTrainer;
import dev.attune.finetune.tribuo.EntityReport;
import dev.attune.finetune.tribuo.LmTaggerModel;
import dev.attune.finetune.tribuo.TaggedDatasets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code attune tag train|eval|predict}, run in-process on a tiny model and a made-up tagging task. */
class TagCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] PEOPLE = {"Ada", "Kim", "Grace", "Zoe"};
    private static final String[] PLACES = {"Paris", "Oslo", "Rome"};
    private static final String[] FILLER = {"the", "met", "in", "went", "to", "saw", "today"};

    /** Sentences of filler words with people (B-PER) and places (B-LOC); about 70% of the words are O. */
    private static List<List<List<String>>> sentences(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<List<List<String>>> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            List<String> words = new ArrayList<>();
            List<String> tags = new ArrayList<>();
            for (int w = 0, len = 3 + r.nextInt(4); w < len; w++) {
                double u = r.nextDouble();
                String[] from = u < 0.18 ? PEOPLE : u < 0.3 ? PLACES : FILLER;
                words.add(from[r.nextInt(from.length)]);
                tags.add(from == PEOPLE ? "B-PER" : from == PLACES ? "B-LOC" : "O");
            }
            out.add(List.of(words, tags));
        }
        return out;
    }

    private static Path jsonl(Path file, List<List<List<String>>> sentences) throws IOException {
        List<String> lines = new ArrayList<>();
        for (List<List<String>> s : sentences) {
            lines.add(JSON.writeValueAsString(Map.of("tokens", s.get(0), "tags", s.get(1))));
        }
        return Files.write(file, lines);
    }

    @Test
    void trainEvalAndPredict(@TempDir Path dir) throws IOException {
        List<String> corpus = new ArrayList<>();
        sentences(100, 1).forEach(s -> corpus.add(String.join(" ", s.get(0))));
        BpeTokenizer tokenizer = BpeTrainer.builder().vocabSize(304).minFrequency(1).specialTokens("<|endoftext|>")
                .build().train(corpus);
        Path base = dir.resolve("base");
        new Pretrained(GptModel.create(GptConfig.builder().vocabSize(tokenizer.vocabSize()).layers(1).heads(2)
                .embeddingSize(32).contextLength(24).dropout(0).build(), 2), tokenizer).save(base);
        Path train = jsonl(dir.resolve("train.jsonl"), sentences(160, 2));
        Path test = jsonl(dir.resolve("test.jsonl"), sentences(50, 3));
        Path out = dir.resolve("tagger");

        Cli t = Cli.run("tag", "train", "--model", base.toString(), "--data", train.toString(), "--out",
                out.toString(), "--lr", "1e-2", "--steps", "60", "--batch", "16", "--no-progress", "--output", "json");
        assertThat(t.exitCode()).as(t.err()).isZero();
        JsonNode trained = JSON.readTree(t.out());
        assertThat(trained.get("sentences").asInt()).isEqualTo(160);
        assertThat(trained.get("method").asText()).isEqualTo("full");
        assertThat(out.resolve("tagger.json")).exists();

        Cli e = Cli.run("tag", "eval", "--model", out.toString(), "--data", test.toString(), "--output", "json");
        assertThat(e.exitCode()).as(e.err()).isZero();
        JsonNode r = JSON.readTree(e.out());
        assertThat(r.get("n").asInt()).isEqualTo(50);
        assertThat(r.get("f1").asDouble()).as("entity F1; tagging all O scores 0").isGreaterThan(0.9);
        assertThat(r.get("precision").asDouble()).isGreaterThan(0.9);
        assertThat(r.get("recall").asDouble()).isGreaterThan(0.9);
        assertThat(r.get("labels").get("B-PER").get("f1").asDouble()).isGreaterThan(0.9);
        assertThat(r.get("entities").has("PER")).isTrue();
        // the same numbers the library gives
        var dataset = TaggedDatasets.read(test);
        EntityReport direct = LmTaggerModel.load(out).entityReport(dataset);
        assertThat(r.get("f1").asDouble()).isCloseTo(direct.f1(), within(1e-12));
        assertThat(r.get("entities").get("PER").get("support").asInt()).isEqualTo(direct.perType().get("PER").actual());
        long words = 0;
        for (var s : dataset) {
            words += s.size();
        }
        assertThat(r.get("tokens").asLong()).isEqualTo(words);

        Cli p = Cli.run("tag", "predict", "--model", out.toString(), "--text", "Ada went to Oslo", "--text",
                "Grace saw Rome today");
        assertThat(p.exitCode()).as(p.err()).isZero();
        String[] lines = p.out().split("\n");
        assertThat(lines).hasSize(2);
        JsonNode first = JSON.readTree(lines[0]);
        assertThat(first.get("tokens").toString()).isEqualTo("[\"Ada\",\"went\",\"to\",\"Oslo\"]");
        assertThat(first.get("tags").toString()).isEqualTo("[\"B-PER\",\"O\",\"O\",\"B-LOC\"]");
        assertThat(first.get("scores")).hasSize(4);
        assertThat(JSON.readTree(lines[1]).get("tags").toString()).isEqualTo("[\"B-PER\",\"O\",\"B-LOC\",\"O\"]");

        // a PEFT method through finetune's method options: the adapter is saved in PEFT's layout beside the head
        Path lora = dir.resolve("lora-tagger");
        Cli l = Cli.run("tag", "train", "--model", base.toString(), "--data", train.toString(), "--out",
                lora.toString(), "--method", "lora", "--rank", "4", "--lr", "1e-2", "--steps", "8", "--batch", "8",
                "--no-progress", "--output", "json");
        assertThat(l.exitCode()).as(l.err()).isZero();
        assertThat(JSON.readTree(l.out()).get("method").asText()).isEqualTo("lora");
        assertThat(lora.resolve("adapter/adapter_config.json")).exists();
        assertThat(JSON.readTree(Files.readString(lora.resolve("tagger.json"))).get("method").asText())
                .isEqualTo("peft");
        Cli le = Cli.run("tag", "eval", "--model", lora.toString(), "--data", test.toString(), "--output", "json");
        assertThat(le.exitCode()).as(le.err()).isZero();
        assertThat(JSON.readTree(le.out()).get("n").asInt()).isEqualTo(50);
    }

    @Test
    void badInputNamesFileLineAndField(@TempDir Path dir) throws IOException {
        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"tokens\": [\"Ada\"], \"tags\": [\"B-PER\"]}\n{\"tags\": [\"O\"]}\n");
        Cli missing = Cli.run("tag", "train", "--model", dir.resolve("none").toString(), "--data", bad.toString(),
                "--out", dir.resolve("o").toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains("bad.jsonl, line 2").contains("missing field \"tokens\"");

        Files.writeString(bad, "{\"tokens\": [\"Ada\", \"met\"], \"tags\": [\"B-PER\"]}\n");
        Cli mismatch = Cli.run("tag", "eval", "--model", dir.resolve("none").toString(), "--data", bad.toString());
        assertThat(mismatch.exitCode()).isEqualTo(1);
        assertThat(mismatch.err()).contains("bad.jsonl, line 1").contains("2 \"tokens\" but 1 \"tags\"");
    }
}
