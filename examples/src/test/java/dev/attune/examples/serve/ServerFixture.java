package dev.attune.examples.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** A tiny GPT-2-vocabulary model saved to a directory, and a real HTTP client for servers on loopback. */
final class ServerFixture {
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private ServerFixture() {
    }

    /** Saves a random tiny model with GPT-2's vocabulary (so text prompts work) and returns its directory. */
    static Path tinyModel(Path dir, int context) throws IOException {
        GptConfig config = GptConfig.builder().vocabSize(50257).contextLength(context).embeddingSize(32).heads(2)
                .layers(2).initializerRange(0.3).build();
        Path out = dir.resolve("tiny-" + context);
        Files.createDirectories(out);
        HfCheckpoint.save(GptModel.create(config, 3), out);
        return out;
    }

    record Reply(int status, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new AssertionError("not JSON: " + body, e);
            }
        }
    }

    static Reply get(AttuneServer server, String path) throws IOException, InterruptedException {
        HttpRequest r = HttpRequest.newBuilder(URI.create(server.baseUrl() + path)).timeout(Duration.ofSeconds(300))
                .GET().build();
        HttpResponse<String> res = CLIENT.send(r, HttpResponse.BodyHandlers.ofString());
        return new Reply(res.statusCode(), res.body());
    }

    static HttpRequest post(AttuneServer server, String path, String body, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.baseUrl() + path))
                .timeout(Duration.ofSeconds(300)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return b.build();
    }

    static Reply post(AttuneServer server, String path, String body) throws IOException, InterruptedException {
        HttpResponse<String> res = CLIENT.send(post(server, path, body, null), HttpResponse.BodyHandlers.ofString());
        return new Reply(res.statusCode(), res.body());
    }

    /** The value of one Prometheus sample line starting with {@code prefix} (name and labels), or NaN. */
    static double metric(String scrape, String prefix) {
        for (String line : scrape.split("\n")) {
            if (line.startsWith(prefix)) {
                return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return Double.NaN;
    }
}
