package dev.attune.examples.serve;

import static dev.attune.examples.serve.ServerFixture.CLIENT;
import static dev.attune.examples.serve.ServerFixture.JSON;
import static dev.attune.examples.serve.ServerFixture.get;
import static dev.attune.examples.serve.ServerFixture.metric;
import static dev.attune.examples.serve.ServerFixture.post;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.examples.cli.Cli;
import dev.attune.prompting.template.ChatMessage;
import dev.attune.prompting.template.ChatTemplate;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** A real server on a free loopback port, a tiny model made here, and java.net.http as the client. */
@Timeout(600) // generous: a shared, loaded build machine can be ten times slower than a quiet one
class AttuneServerTest {
    @TempDir
    static Path dir;
    static Path modelDir;
    static GptModel model;
    static Tokenizer tokenizer;
    static AttuneServer server;
    static final ConcurrentLinkedQueue<String> ACCESS = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void start() throws Exception {
        modelDir = ServerFixture.tinyModel(dir, 256);
        model = HfCheckpoint.load(modelDir);
        tokenizer = Tokenizer.gpt2();
        server = AttuneServer.start(model, tokenizer, null, ServerConfig.builder().port(0).modelName("tiny")
                .maxBatch(4).maxQueue(4).maxTokens(200).maxPromptTokens(100).maxBodyBytes(4096)
                .accessLog(ACCESS::add).build());
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    private static String completion(String prompt, int maxTokens, String extra) {
        return "{\"model\": \"tiny\", \"prompt\": " + JSON.valueToTree(prompt) + ", \"max_tokens\": " + maxTokens
                + ", \"temperature\": 0" + extra + "}";
    }

    @Test
    void greedyCompletionEqualsAttuneGenerate() throws Exception {
        Cli cli = Cli.run("generate", "--model", modelDir.toString(), "--prompt", "The cat sat on", "--max-new-tokens",
                "12", "--output", "json");
        assertThat(cli.exitCode()).as(cli.err()).isZero();
        JsonNode expected = JSON.readTree(cli.out());
        ServerFixture.Reply r = post(server, "/v1/completions", completion("The cat sat on", 12, ""));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode choice = r.json().get("choices").get(0);
        assertThat(choice.get("text").asText()).isEqualTo(expected.get("text").asText());
        assertThat(choice.get("finish_reason").asText()).isEqualTo("length");
        assertThat(r.json().get("object").asText()).isEqualTo("text_completion");
        JsonNode usage = r.json().get("usage");
        assertThat(usage.get("completion_tokens").asInt()).isEqualTo(expected.get("ids").size()).isEqualTo(12);
        assertThat(usage.get("prompt_tokens").asInt()).isEqualTo(tokenizer.encode("The cat sat on").length);
    }

    @Test
    void seededSamplingEqualsAttuneGenerateWithTheSameSeed() throws Exception {
        Cli cli = Cli.run("generate", "--model", modelDir.toString(), "--prompt", "Once upon", "--max-new-tokens",
                "10", "--temperature", "0.8", "--seed", "7", "--output", "json");
        assertThat(cli.exitCode()).as(cli.err()).isZero();
        String body = "{\"prompt\": \"Once upon\", \"max_tokens\": 10, \"temperature\": 0.8, \"seed\": 7, \"n\": 2}";
        ServerFixture.Reply r = post(server, "/v1/completions", body);
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode choices = r.json().get("choices");
        assertThat(choices).hasSize(2);
        assertThat(choices.get(0).get("text").asText()).isEqualTo(JSON.readTree(cli.out()).get("text").asText());
        assertThat(choices.get(1).get("text").asText()).as("choice 1 draws from seed + 1")
                .isNotEqualTo(choices.get(0).get("text").asText());
        assertThat(post(server, "/v1/completions", body).json().get("choices")).isEqualTo(choices);
    }

    @Test
    void concurrentRequestsAreBatchedAndEachGetsItsTokensAlone() throws Exception {
        String[] prompts = {"Alpha", "Bravo charlie delta", "Echo", "Foxtrot golf", "Hotel india juliet kilo"};
        int[] lengths = {40, 25, 60, 10, 30};
        Generator alone = Generator.of(model, tokenizer);
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < prompts.length; i++) {
            expected.add(alone.generate(prompts[i], GenerationConfig.greedy(lengths[i])).text());
        }
        double stepsBefore = metric(get(server, "/metrics").body(), "attune_batch_size_count");
        double singleBefore = metric(get(server, "/metrics").body(), "attune_batch_size_bucket{le=\"1.0\"}");
        List<CompletableFuture<HttpResponse<String>>> replies = new ArrayList<>();
        for (int i = 0; i < prompts.length; i++) { // five clients, four rows: the fifth joins when a row frees
            replies.add(CLIENT.sendAsync(post(server, "/v1/completions", completion(prompts[i], lengths[i], ""), null),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (int i = 0; i < prompts.length; i++) {
            HttpResponse<String> res = replies.get(i).get();
            assertThat(res.statusCode()).as(res.body()).isEqualTo(200);
            assertThat(JSON.readTree(res.body()).get("choices").get(0).get("text").asText()).as(prompts[i])
                    .isEqualTo(expected.get(i));
        }
        String scrape = get(server, "/metrics").body();
        double steps = metric(scrape, "attune_batch_size_count") - stepsBefore;
        double single = metric(scrape, "attune_batch_size_bucket{le=\"1.0\"}") - singleBefore;
        assertThat(steps).isPositive();
        assertThat(single).as("steps that decoded one row only").isLessThan(steps);
    }

    /** Reads a server-sent-events body: the JSON of each data line, until [DONE] (which must come). */
    private static List<JsonNode> events(InputStream body) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                if (line.equals("data: [DONE]")) {
                    return out;
                }
                if (line.startsWith("data: ")) {
                    out.add(JSON.readTree(line.substring(6)));
                }
            }
        }
        throw new AssertionError("stream ended without [DONE]");
    }

    @Test
    void streamedCompletionAddsUpToTheWholeOne() throws Exception {
        String whole = post(server, "/v1/completions", completion("Streaming is", 20, "")).json().get("choices")
                .get(0).get("text").asText();
        HttpResponse<InputStream> res = CLIENT.send(post(server, "/v1/completions", completion("Streaming is", 20,
                ", \"stream\": true, \"stream_options\": {\"include_usage\": true}"), null),
                HttpResponse.BodyHandlers.ofInputStream());
        assertThat(res.statusCode()).isEqualTo(200);
        assertThat(res.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        List<JsonNode> events = events(res.body());
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (JsonNode e : events) {
            for (JsonNode c : e.get("choices")) {
                text.append(c.get("text").asText());
                if (!c.get("finish_reason").isNull()) {
                    finish = c.get("finish_reason").asText();
                }
            }
        }
        assertThat(events.size()).as("more than one piece").isGreaterThan(2);
        assertThat(text.toString()).isEqualTo(whole);
        assertThat(finish).isEqualTo("length");
        assertThat(events.get(events.size() - 1).get("usage").get("completion_tokens").asInt()).isEqualTo(20);
    }

    @Test
    void chatUsesTheChatTemplateAndStreams() throws Exception {
        ChatTemplate template = ChatTemplate.simple();
        String prompt = template.render(List.of(ChatMessage.system("Be brief."), ChatMessage.user("Hi there")), true);
        String expected = Generator.of(model, tokenizer).generate(prompt, GenerationConfig.builder().maxNewTokens(15)
                .stopStrings(template.stopStrings()).build()).text();
        String body = "{\"model\": \"tiny\", \"messages\": [{\"role\": \"system\", \"content\": \"Be brief.\"},"
                + " {\"role\": \"user\", \"content\": \"Hi there\"}], \"max_tokens\": 15, \"temperature\": 0";
        ServerFixture.Reply r = post(server, "/v1/chat/completions", body + "}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        assertThat(r.json().get("object").asText()).isEqualTo("chat.completion");
        JsonNode message = r.json().get("choices").get(0).get("message");
        assertThat(message.get("role").asText()).isEqualTo("assistant");
        assertThat(message.get("content").asText()).isEqualTo(expected);

        HttpResponse<InputStream> res = CLIENT.send(post(server, "/v1/chat/completions", body + ", \"stream\": true}",
                null), HttpResponse.BodyHandlers.ofInputStream());
        List<JsonNode> events = events(res.body());
        assertThat(events.get(0).get("choices").get(0).get("delta").get("role").asText()).isEqualTo("assistant");
        StringBuilder text = new StringBuilder();
        for (JsonNode e : events) {
            assertThat(e.get("object").asText()).isEqualTo("chat.completion.chunk");
            text.append(e.get("choices").get(0).get("delta").path("content").asText(""));
        }
        assertThat(text.toString()).isEqualTo(expected);
    }

    @Test
    void logprobsAreTheModelsLogSoftmax() throws Exception {
        ServerFixture.Reply r = post(server, "/v1/completions", completion("Numbers", 5, ", \"logprobs\": 2"));
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        JsonNode lp = r.json().get("choices").get(0).get("logprobs");
        assertThat(lp.get("token_logprobs")).hasSize(5);
        assertThat(lp.get("top_logprobs").get(0).size()).isBetween(1, 2);
        // greedy: the chosen token is the most likely, so its log-probability is the best alternative's
        double chosen = lp.get("token_logprobs").get(0).asDouble();
        double best = lp.get("top_logprobs").get(0).elements().next().asDouble();
        assertThat(chosen).isNegative().isCloseTo(best, org.assertj.core.data.Offset.offset(1e-6));
        // and it is the log-softmax of the model's logits after the prompt, computed here independently
        int[] ids = tokenizer.encode("Numbers");
        INDArray logits = model.logits(TokenBatch.of(new int[][] {ids}, new int[][] {new int[ids.length]}));
        float[] last = logits.get(NDArrayIndex.point(0), NDArrayIndex.point(ids.length - 1)).toFloatVector();
        assertThat(chosen).isCloseTo(logSoftmaxMax(last), org.assertj.core.data.Offset.offset(1e-4));

        JsonNode chat = post(server, "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\":"
                + " \"x\"}], \"max_tokens\": 3, \"temperature\": 0, \"logprobs\": true, \"top_logprobs\": 1}").json();
        JsonNode content = chat.get("choices").get(0).get("logprobs").get("content");
        assertThat(content).hasSize(chat.get("usage").get("completion_tokens").asInt());
        assertThat(content.get(0).get("top_logprobs")).hasSize(1);
    }

    private static double logSoftmaxMax(float[] row) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : row) {
            max = Math.max(max, v);
        }
        double z = 0;
        for (float v : row) {
            z += Math.exp(v - max);
        }
        return -Math.log(z);
    }

    @Test
    void scoreGivesTheLogLikelihoodOfEachContinuation() throws Exception {
        ServerFixture.Reply r = post(server, "/v1/score", "{\"prompt\": \"The weather is\", \"continuations\":"
                + " [\" sunny today\", \" cold\"]}");
        assertThat(r.status()).as(r.body()).isEqualTo(200);
        int[] prompt = tokenizer.encode("The weather is");
        String[] conts = {" sunny today", " cold"};
        for (int i = 0; i < 2; i++) {
            int[] cont = tokenizer.encode(conts[i]);
            int[] seq = java.util.Arrays.copyOf(prompt, prompt.length + cont.length);
            System.arraycopy(cont, 0, seq, prompt.length, cont.length);
            INDArray logits = model.logits(TokenBatch.of(new int[][] {seq}, new int[][] {new int[seq.length]}));
            double expected = 0;
            for (int j = 0; j < cont.length; j++) {
                float[] row = logits.get(NDArrayIndex.point(0), NDArrayIndex.point(prompt.length - 1 + j))
                        .toFloatVector();
                expected += row[cont[j]] + logSoftmaxMax(row) - max(row);
            }
            JsonNode d = r.json().get("data").get(i);
            assertThat(d.get("tokens").asInt()).isEqualTo(cont.length);
            assertThat(d.get("logprob").asDouble()).isNegative().isCloseTo(expected,
                    org.assertj.core.data.Offset.offset(1e-3));
        }
        assertThat(post(server, "/v1/score", "{\"prompt\": \"x\", \"continuations\": []}").status()).isEqualTo(400);
    }

    private static double max(float[] row) {
        double m = Double.NEGATIVE_INFINITY;
        for (float v : row) {
            m = Math.max(m, v);
        }
        return m;
    }

    @Test
    void classifyWithoutAHeadSaysSo() throws Exception {
        ServerFixture.Reply r = post(server, "/v1/classify", "{\"input\": \"great product\"}");
        assertThat(r.status()).isEqualTo(501);
        assertThat(r.json().get("error").get("code").asText()).isEqualTo("no_classification_head");
        assertThat(r.json().get("error").get("message").asText()).contains("classification head");
    }

    @Test
    void modelsHealthReadyAndMetrics() throws Exception {
        ServerFixture.Reply models = get(server, "/v1/models");
        assertThat(models.json().get("data").get(0).get("id").asText()).isEqualTo("tiny");
        assertThat(get(server, "/v1/models/tiny").status()).isEqualTo(200);
        assertThat(get(server, "/v1/models/gpt-4").status()).isEqualTo(404);
        assertThat(get(server, "/health").json().get("status").asText()).isEqualTo("ok");
        assertThat(get(server, "/ready").status()).isEqualTo(200);
        assertThat(get(server, "/no/such/route").status()).isEqualTo(404);
        post(server, "/v1/completions", completion("Metrics", 3, ""));
        String scrape = get(server, "/metrics").body();
        assertThat(metric(scrape, "attune_http_requests_seconds_count{endpoint=\"/v1/completions\",method=\"POST\","
                + "status=\"200\"}")).isGreaterThanOrEqualTo(1);
        assertThat(scrape).contains("attune_http_requests_seconds_bucket{endpoint=\"/v1/completions\"");
        assertThat(metric(scrape, "attune_tokens_generated_total")).isGreaterThanOrEqualTo(3);
        assertThat(scrape).contains("jvm_memory_used_bytes", "attune_queue_depth", "attune_batch_rows_active",
                "attune_generation_tokens_per_second", "attune_time_to_first_token_seconds_bucket");
    }

    @Test
    void badRequestsGetAClearErrorAndTheServerCarriesOn() throws Exception {
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", "), 400, null, "not valid JSON");
        assertError(post(server, "/v1/completions", "[1, 2]"), 400, null, "JSON object");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": \"5\"}"), 400, "max_tokens",
                "integer");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"colour\": 1}"), 400, "colour", "unknown");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"max_tokens\": 201}"), 400, "max_tokens",
                "200");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"temperature\": 3}"), 400, "temperature",
                "between");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"n\": 5}"), 400, "n", "between");
        assertError(post(server, "/v1/completions", "{\"prompt\": [1, 99999]}"), 400, "prompt", "token id");
        assertError(post(server, "/v1/completions", "{\"prompt\": " + JSON.valueToTree("word ".repeat(120)) + "}"),
                400, "prompt", "at most 100");
        assertError(post(server, "/v1/completions", "{\"model\": \"gpt-4\", \"prompt\": \"x\"}"), 404, "model",
                "gpt-4");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"x\", \"presence_penalty\": 1}"), 400,
                "presence_penalty", "not supported");
        assertError(post(server, "/v1/chat/completions", "{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}"),
                400, "messages[0].role", "robot");
        assertError(post(server, "/v1/chat/completions", "{\"messages\": \"hi\"}"), 400, "messages", "array");
        assertError(post(server, "/v1/completions", "{\"prompt\": \"" + "y".repeat(5000) + "\"}"), 413, null,
                "4096");
        assertThat(get(server, "/health").status()).isEqualTo(200);
        assertThat(post(server, "/v1/completions", completion("Still here", 2, "")).status()).isEqualTo(200);
    }

    private static void assertError(ServerFixture.Reply r, int status, String param, String message) {
        assertThat(r.status()).as(r.body()).isEqualTo(status);
        JsonNode error = r.json().get("error");
        assertThat(error.get("message").asText()).contains(message);
        if (param != null) {
            assertThat(error.get("param").asText()).isEqualTo(param);
        }
    }

    @Test
    void accessLogHasOneLinePerRequestWithoutPromptText() throws Exception {
        ACCESS.clear();
        post(server, "/v1/completions", completion("Zebras secretly", 2, ""));
        get(server, "/health");
        List<String> lines = new ArrayList<>(ACCESS);
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0)).contains("POST /v1/completions 200", "prompt_tokens=", "completion_tokens=2")
                .doesNotContain("Zebra");
        assertThat(lines.get(1)).contains("GET /health 200");
    }

    @Test
    void aClientThatDisconnectsMidStreamFreesItsRow() throws Exception {
        double before = metric(get(server, "/metrics").body(), "attune_tokens_generated_total");
        HttpResponse<InputStream> res = CLIENT.send(post(server, "/v1/completions", completion("Long story", 200,
                ", \"stream\": true"), null), HttpResponse.BodyHandlers.ofInputStream());
        BufferedReader in = new BufferedReader(new InputStreamReader(res.body(), StandardCharsets.UTF_8));
        int data = 0;
        while (data < 2) {
            data += in.readLine().startsWith("data: ") ? 1 : 0;
        }
        in.close(); // the client goes away after two pieces
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (server.engine().activeRows() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(server.engine().activeRows()).isZero();
        double generated = metric(get(server, "/metrics").body(), "attune_tokens_generated_total") - before;
        assertThat(generated).as("tokens generated before the row was freed").isLessThan(200);
    }
}
