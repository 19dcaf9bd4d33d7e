package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.config.GptConfig;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.BpeTrainer;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.examples.serve.AttuneServer;
import dev.attune.finetune.peft.AdapterConfig;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.PeftModel;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code attune serve --adapter ADIR} and {@code --classifier CDIR}: the command's own loading path, a real server on
 * a free loopback port, and java.net.http as the client; answers compared with {@code attune generate --adapter} and
 * {@code attune classify predict}.
 */
@Timeout(600) // generous: a shared, loaded build machine can be ten times slower than a quiet one
class ServeCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    @TempDir
    Path dir;

    /** Parses {@code attune serve} arguments and starts the server the way the command does, on a free port. */
    private static AttuneServer serve(String... args) throws IOException {
        ServeCommand command = new ServeCommand();
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--port", "0", "--no-access-log"));
        new picocli.CommandLine(command).parseArgs(all.toArray(String[]::new));
        return command.open();
    }

    private static HttpRequest request(AttuneServer server, String path, String body) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
                .timeout(Duration.ofSeconds(300));
        return body == null ? b.GET().build()
                : b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private static JsonNode call(AttuneServer server, String path, String body, int status) throws Exception {
        HttpResponse<String> r = CLIENT.send(request(server, path, body), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(status);
        return JSON.readTree(r.body());
    }

    private static String greedy(String prompt, int tokens) {
        return "{\"prompt\": " + JSON.valueToTree(prompt) + ", \"max_tokens\": " + tokens + ", \"temperature\": 0}";
    }

    /** A tiny model with GPT-2's vocabulary, so text prompts work. */
    private Path base() throws IOException {
        Path base = dir.resolve("base");
        GptConfig config = GptConfig.builder().vocabSize(50257).contextLength(96).embeddingSize(32).heads(2)
                .layers(2).initializerRange(0.3).dropout(0).build();
        HfCheckpoint.save(GptModel.create(config, 3), base);
        return base;
    }

    /** An adapter of {@code config} with random (not initial) weights, so that it changes what the model says. */
    private Path adapter(Path base, String name, AdapterConfig config, long seed) throws IOException {
        PeftModel peft = config.apply(HfCheckpoint.load(base), seed);
        Nd4j.getRandom().setSeed(seed);
        peft.parameters().assign(Nd4j.rand(DataType.FLOAT, peft.parameters().shape()).subi(0.5).muli(1.5));
        Path out = dir.resolve(name);
        peft.save(out);
        return out;
    }

    @Test
    void servedAdapterGivesTheTokensOfAttuneGenerateWithTheAdapter() throws Exception {
        Path base = base();
        Map<String, Path> adapters = Map.of(
                "LORA", adapter(base, "lora", Peft.lora().rank(4).alpha(8).dropout(0).targets("c_attn", "c_proj")
                        .build(), 1),
                "PREFIX_TUNING", adapter(base, "prefix", Peft.prefixTuning().numVirtualTokens(3).build(), 2),
                "PROMPT_TUNING", adapter(base, "prompt", Peft.promptTuning().numVirtualTokens(3).build(), 3));
        String prompt = "The cat sat on";
        String plain = JSON.readTree(Cli.run("generate", "--model", base.toString(), "--prompt", prompt,
                "--max-new-tokens", "12", "--output", "json").out()).get("text").asText();
        for (var e : adapters.entrySet()) {
            Path adapter = e.getValue();
            Cli cli = Cli.run("generate", "--model", base.toString(), "--adapter", adapter.toString(), "--prompt",
                    prompt, "--max-new-tokens", "12", "--output", "json");
            assertThat(cli.exitCode()).as(cli.err()).isZero();
            String expected = JSON.readTree(cli.out()).get("text").asText();
            assertThat(expected).as(e.getKey() + " changes the generation").isNotEqualTo(plain);

            // other prompts, decoded together in the shared batch, each as the adapted model gives it alone
            String[] prompts = {"Alpha", "Bravo charlie delta echo", "Foxtrot golf"};
            int[] lengths = {20, 6, 14};
            PeftModel alone = Peft.load(HfCheckpoint.load(base), adapter);
            Generator generator = Generator.of(alone.model(), Tokenizer.gpt2());
            try (AttuneServer server = serve("--model", base.toString(), "--adapter", adapter.toString(),
                    "--max-batch", "4")) {
                JsonNode r = call(server, "/v1/completions", greedy(prompt, 12), 200);
                assertThat(r.get("choices").get(0).get("text").asText()).as(e.getKey()).isEqualTo(expected);

                List<CompletableFuture<HttpResponse<String>>> together = new ArrayList<>();
                for (int i = 0; i < prompts.length; i++) {
                    together.add(CLIENT.sendAsync(request(server, "/v1/completions", greedy(prompts[i], lengths[i])),
                            HttpResponse.BodyHandlers.ofString()));
                }
                for (int i = 0; i < prompts.length; i++) {
                    HttpResponse<String> res = together.get(i).get();
                    assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
                    assertThat(JSON.readTree(res.body()).get("choices").get(0).get("text").asText())
                            .as(e.getKey() + ", " + prompts[i])
                            .isEqualTo(generator.generate(prompts[i], GenerationConfig.greedy(lengths[i])).text());
                }
                JsonNode model = call(server, "/v1/models", null, 200).get("data").get(0);
                assertThat(model.get("adapter").get("path").asText()).isEqualTo(adapter.toString());
                assertThat(model.get("adapter").get("peft_type").asText()).isEqualTo(e.getKey());
                assertThat(model.get("classifier").isNull()).isTrue();
            }
        }
        try (AttuneServer server = serve("--model", base.toString())) {
            JsonNode r = call(server, "/v1/completions", greedy(prompt, 12), 200);
            assertThat(r.get("choices").get(0).get("text").asText()).isEqualTo(plain);
            assertThat(call(server, "/v1/models", null, 200).get("data").get(0).get("adapter").isNull()).isTrue();
        }
    }

    @Test
    void aMissingAdapterOrClassifierIsAnErrorNamingIt() throws Exception {
        Path base = base();
        assertThatThrownBy(() -> serve("--model", base.toString(), "--adapter", dir.resolve("no-adapter").toString()))
                .isInstanceOf(IOException.class).hasMessageContaining("no-adapter");
        assertThatThrownBy(() -> serve("--model", base.toString(), "--classifier", base.toString()))
                .isInstanceOf(IOException.class).hasMessageContaining("not a saved classifier");
    }

    // ---------------------------------------------------------------------------------------------- classify

    private static final String[][] TOPICS = {{"sport", "goal", "match", "team", "coach"},
            {"food", "soup", "bread", "cheese", "salad"}};
    private static final String[] FILLER = {"the", "a", "was", "today", "very", "new", "our", "of"};

    private static List<String[]> examples(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<String[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String[] topic = TOPICS[r.nextInt(2)];
            StringBuilder text = new StringBuilder();
            int words = 2 + r.nextInt(5);
            int at = r.nextInt(words);
            for (int w = 0; w < words; w++) {
                text.append(w == 0 ? "" : " ").append(w == at ? topic[1 + r.nextInt(4)]
                        : FILLER[r.nextInt(FILLER.length)]);
            }
            out.add(new String[] {text.toString(), topic[0]});
        }
        return out;
    }

    @Test
    void classifyAnswersWhatClassifyPredictPrints() throws Exception {
        List<String> corpus = new ArrayList<>();
        examples(100, 1).forEach(e -> corpus.add(e[0]));
        BpeTokenizer tokenizer = BpeTrainer.builder().vocabSize(300).minFrequency(1).specialTokens("<|endoftext|>")
                .build().train(corpus);
        Path base = dir.resolve("clf-base");
        new Pretrained(GptModel.create(GptConfig.builder().vocabSize(tokenizer.vocabSize()).layers(1).heads(2)
                .embeddingSize(32).contextLength(16).dropout(0).build(), 2), tokenizer).save(base);
        List<String> lines = new ArrayList<>();
        for (String[] e : examples(60, 2)) {
            lines.add(JSON.writeValueAsString(Map.of("text", e[0], "label", e[1])));
        }
        Path train = Files.write(dir.resolve("train.jsonl"), lines);
        Path clf = dir.resolve("clf");
        Cli t = Cli.run("classify", "train", "--model", base.toString(), "--data", train.toString(), "--out",
                clf.toString(), "--lr", "1e-2", "--steps", "15", "--batch", "8", "--no-progress");
        assertThat(t.exitCode()).as(t.err()).isZero();

        List<String> texts = List.of("the soup was new", "our team", "a goal today very new of the", "bread");
        List<String> args = new ArrayList<>(List.of("classify", "predict", "--model", clf.toString()));
        texts.forEach(x -> args.addAll(List.of("--text", x)));
        Cli p = Cli.run(args.toArray(String[]::new));
        assertThat(p.exitCode()).as(p.err()).isZero();
        String[] predicted = p.out().split("\n");

        try (AttuneServer server = serve("--model", base.toString(), "--classifier", clf.toString())) {
            JsonNode r = call(server, "/v1/classify", "{\"input\": " + JSON.valueToTree(texts) + "}", 200);
            assertThat(r.get("data")).hasSize(texts.size());
            for (int i = 0; i < texts.size(); i++) {
                JsonNode expected = JSON.readTree(predicted[i]);
                JsonNode got = r.get("data").get(i);
                assertThat(got.get("index").asInt()).isEqualTo(i);
                assertThat(got.get("label").asText()).as(texts.get(i)).isEqualTo(expected.get("label").asText());
                for (String label : List.of("sport", "food")) {
                    assertThat(got.get("scores").get(label).asDouble()).as(texts.get(i) + ", " + label)
                            .isCloseTo(expected.get("scores").get(label).asDouble(), within(1e-6));
                }
            }
            int tokens = 0;
            for (String x : texts) {
                tokens += tokenizer.encode(x).length;
            }
            assertThat(r.get("usage").get("prompt_tokens").asInt()).isEqualTo(tokens);
            // one text alone: the same numbers as in the batch
            JsonNode one = call(server, "/v1/classify", "{\"input\": \"our team\"}", 200).get("data").get(0);
            assertThat(one.get("scores").get("sport").asDouble()).isCloseTo(
                    r.get("data").get(1).get("scores").get("sport").asDouble(), within(1e-6));

            JsonNode model = call(server, "/v1/models", null, 200).get("data").get(0);
            assertThat(model.get("classifier").get("path").asText()).isEqualTo(clf.toString());
            assertThat(model.get("classifier").get("method").asText()).isEqualTo("full");
            List<String> labels = new ArrayList<>();
            model.get("classifier").get("labels").forEach(l -> labels.add(l.asText()));
            assertThat(labels).containsExactlyInAnyOrder("sport", "food");

            assertError(server, "{}", "input", "missing");
            assertError(server, "{\"input\": 3}", "input", "string");
            assertError(server, "{\"input\": [\"goal\", 4]}", "input[1]", "string");
            assertError(server, "{\"input\": []}", "input", "at least one");
            assertError(server, "{\"input\": [\"goal\", \"\"]}", "input[1]", "empty");
            assertError(server, "{\"input\": \"goal\", \"temperature\": 0}", "temperature", "temperature");
            assertError(server, "{\"input\": " + JSON.valueToTree(String.join(" ", java.util.Collections.nCopies(
                    40, "goal"))) + "}", "input", "tokens");
            List<String> many = java.util.Collections.nCopies(65, "goal");
            assertError(server, "{\"input\": " + JSON.valueToTree(many) + "}", "input", "65");
            assertError(server, "{\"input\": \"goal\", \"model\": \"gpt-4\"}", "model", "gpt-4");
            // and the server carries on
            assertThat(call(server, "/v1/classify", "{\"input\": \"bread\"}", 200).get("data").get(0)
                    .get("label").asText()).isEqualTo(JSON.readTree(predicted[3]).get("label").asText());
            String scrape = CLIENT.send(request(server, "/metrics", null), HttpResponse.BodyHandlers.ofString()).body();
            double classified = scrape.lines().filter(l -> l.startsWith("attune_classify_texts_total "))
                    .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
            assertThat(classified).as("texts classified: the batch, one, bread").isEqualTo(texts.size() + 2);
            assertThat(scrape).contains("attune_http_requests_seconds_count{endpoint=\"/v1/classify\",method=\"POST\","
                            + "status=\"400\"}");
        }
    }

    private static void assertError(AttuneServer server, String body, String param, String message)
            throws Exception {
        HttpResponse<String> r = CLIENT.send(request(server, "/v1/classify", body),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(body + " -> " + r.body()).isIn(400, 404);
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertThat(error.get("param").asText()).as(r.body()).isEqualTo(param);
        assertThat(error.get("message").asText()).as(r.body()).contains(message);
    }
}
