package dev.attune.examples.serve;

import static dev.attune.examples.serve.ServerFixture.CLIENT;
import static dev.attune.examples.serve.ServerFixture.get;
import static dev.attune.examples.serve.ServerFixture.metric;
import static dev.attune.examples.serve.ServerFixture.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.examples.cli.Cli;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** API keys, the loopback rule, the queue limits and graceful shutdown, each on its own server. */
@Timeout(600) // generous: a shared, loaded build machine can be ten times slower than a quiet one
class ServerAccessTest {
    @TempDir
    static Path dir;
    static Path modelDir;
    static GptModel model;

    @BeforeAll
    static void load() throws Exception {
        modelDir = ServerFixture.tinyModel(dir, 64);
        model = HfCheckpoint.load(modelDir);
    }

    private static final String BODY = "{\"prompt\": \"Hello\", \"max_tokens\": 3, \"temperature\": 0}";

    @Test
    void keysAreCheckedAndFailuresCountedButNeverLogged() throws Exception {
        String key = "sk-test-0123456789";
        Path keys = dir.resolve("keys.txt");
        Cli hashed = Cli.run("serve", "--hash-key", key);
        assertThat(hashed.exitCode()).as(hashed.err()).isZero();
        Files.writeString(keys, "# ops team\n" + hashed.out().strip() + " ops\n");
        ConcurrentLinkedQueue<String> log = new ConcurrentLinkedQueue<>();
        try (AttuneServer server = AttuneServer.start(model, Tokenizer.gpt2(), null, ServerConfig.builder().port(0)
                .apiKeys(ApiKeys.load(keys)).accessLog(log::add).build())) {
            HttpResponse<String> none = CLIENT.send(post(server, "/v1/completions", BODY, null),
                    HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> wrong = CLIENT.send(post(server, "/v1/completions", BODY, key + "x"),
                    HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> right = CLIENT.send(post(server, "/v1/completions", BODY, key),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(none.statusCode()).isEqualTo(401);
            assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
            assertThat(none.body()).contains("missing API key");
            assertThat(wrong.statusCode()).isEqualTo(401);
            assertThat(wrong.body()).contains("invalid API key");
            assertThat(right.statusCode()).as(right.body()).isEqualTo(200);
            assertThat(get(server, "/v1/models").status()).isEqualTo(401);
            assertThat(get(server, "/health").status()).as("probes need no key").isEqualTo(200);
            String scrape = get(server, "/metrics").body();
            assertThat(metric(scrape, "attune_auth_failures_total{reason=\"missing\"}")).isEqualTo(2);
            assertThat(metric(scrape, "attune_auth_failures_total{reason=\"invalid\"}")).isEqualTo(1);
            assertThat(String.join("\n", log)).contains("key=ops", "401").doesNotContain(key);
        }
    }

    @Test
    void hashKeyPrintsTheSha256OfTheKey() {
        Cli cli = Cli.run("serve", "--hash-key", "abc");
        // SHA-256("abc") from FIPS 180-2, appendix B.1
        assertThat(cli.out().strip())
                .isEqualTo("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assertThat(ApiKeys.ofHashLines(List.of(cli.out().strip() + " me")).verify("abc")).hasValue("me");
        assertThat(ApiKeys.ofHashLines(List.of(cli.out().strip())).verify("abd")).isEmpty();
        assertThatThrownBy(() -> ApiKeys.ofHashLines(List.of("sha256:abc"))).hasMessageContaining("line 1");
    }

    @Test
    void withoutKeysOnlyLoopbackIsBound() throws Exception {
        assertThatThrownBy(() -> ServerConfig.builder().host("0.0.0.0").build()).hasMessageContaining("loopback");
        assertThat(ServerConfig.builder().host("localhost").build().host()).isEqualTo("localhost");
        Cli cli = Cli.run("serve", "--model", modelDir.toString(), "--host", "0.0.0.0", "--port", "0");
        assertThat(cli.exitCode()).isNotZero();
        assertThat(cli.err()).contains("without API keys", "loopback");
    }

    @Test
    void aFullQueueGets429() throws Exception {
        try (AttuneServer server = AttuneServer.start(model, Tokenizer.gpt2(), null, ServerConfig.builder().port(0)
                .maxBatch(1).maxQueue(1).build())) {
            server.engine().pause(true); // hold decoding so the first two requests stay in flight
            List<CompletableFuture<HttpResponse<String>>> held = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                held.add(CLIENT.sendAsync(post(server, "/v1/completions", BODY, null),
                        HttpResponse.BodyHandlers.ofString()));
            }
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (server.engine().queuedRows() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            ServerFixture.Reply third = post(server, "/v1/completions", BODY);
            assertThat(third.status()).as(third.body()).isEqualTo(429);
            assertThat(third.json().get("error").get("message").asText()).contains("capacity");
            assertThat(metric(get(server, "/metrics").body(), "attune_queue_depth")).isEqualTo(2);
            server.engine().pause(false);
            for (var f : held) {
                assertThat(f.get().statusCode()).isEqualTo(200);
            }
        }
    }

    @Test
    void shutdownFinishesInFlightRequestsAndRefusesNewOnes() throws Exception {
        AttuneServer server = AttuneServer.start(model, Tokenizer.gpt2(), null, ServerConfig.builder().port(0)
                .shutdownGrace(Duration.ofSeconds(30)).build());
        String health = server.baseUrl() + "/health";
        server.engine().pause(true);
        CompletableFuture<HttpResponse<String>> inFlight = CLIENT.sendAsync(post(server, "/v1/completions", BODY,
                null), HttpResponse.BodyHandlers.ofString());
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (server.engine().queuedRows() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        CompletableFuture<Void> stopping = new CompletableFuture<>();
        new Thread(() -> {
            server.stop();
            stopping.complete(null);
        }).start();
        deadline = System.nanoTime() + 60_000_000_000L;
        while (get(server, "/ready").status() != 503 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(get(server, "/ready").status()).isEqualTo(503);
        ServerFixture.Reply refused = post(server, "/v1/completions", BODY);
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.json().get("error").get("code").asText()).isEqualTo("shutting_down");
        assertThat(stopping).isNotDone();
        server.engine().pause(false);
        HttpResponse<String> finished = inFlight.get();
        assertThat(finished.statusCode()).as(finished.body()).isEqualTo(200);
        assertThat(finished.body()).contains("\"completion_tokens\":3");
        stopping.get();
        assertThatThrownBy(() -> CLIENT.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(health)).build(),
                HttpResponse.BodyHandlers.ofString())).as("stopped: nothing listens").isInstanceOf(
                java.io.IOException.class);
    }
}

