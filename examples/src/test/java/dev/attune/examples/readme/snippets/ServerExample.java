package dev.attune.examples.readme.snippets;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.examples.serve.ApiKeys;
import dev.attune.examples.serve.AttuneServer;
import dev.attune.examples.serve.ServerConfig;
import dev.attune.prompting.template.ChatTemplate;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

public class ServerExample {
    public static void main(String[] args) throws Exception {
        Pretrained p = Pretrained.load(Path.of("runs/quickstart/model"));
        ApiKeys keys = ApiKeys.ofHashLines(List.of(ApiKeys.hashLine("my-secret-key")));  // or ApiKeys.load(file)
        ServerConfig config = ServerConfig.builder().port(0).maxBatch(8).apiKeys(keys)  // port 0: any free port
                .adapter(Path.of("runs/lora/adapter"))          // optional: a PEFT adapter directory
                .classifier(Path.of("runs/clf"))                // optional: answers /v1/classify
                .build();
        try (AttuneServer server = AttuneServer.start(p.model(), p.tokenizer(), ChatTemplate.simple(), config)) {
            HttpRequest request = HttpRequest.newBuilder(URI.create(server.baseUrl() + "/v1/completions"))
                    .header("Authorization", "Bearer my-secret-key").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"prompt\": \"Licensed under the\", \"max_tokens\": 20, \"temperature\": 0}"))
                    .build();
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException(response.statusCode() + ": " + response.body());
            }
            System.out.println(response.body());  // {"id":..., "choices":[{"text":..., ...}], "usage":{...}}
        }                                                       // close(): in-flight requests finish first
    }
}
