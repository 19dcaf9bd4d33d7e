package dev.attune.examples.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.config.GptConfig;
import dev.attune.core.engine.Engine;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.examples.serve.AttuneServer;
import dev.attune.examples.serve.ServerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The serving benchmark (run by {@code bench/serve.sh}, never by the test suite): an {@link AttuneServer} on
 * 127.0.0.1 and a java.net.http client on the same machine.
 *
 * <ol>
 *   <li><b>sequential vs concurrent</b>: 8 greedy completions sent one after another by one client, then 8 sent at
 *       once by 8 clients (order alternating per repetition): wall time, tokens/s, p50/p95 request latency;</li>
 *   <li><b>load</b>: N clients (default 16) each sending completions back to back for a fixed time (default 60 s);
 *       every non-200 answer or transport error counts as an error.</li>
 * </ol>
 *
 * Arguments: {@code [--model DIR] [--reps 3] [--max-tokens 64] [--load-clients 16] [--load-seconds 60]
 * [--load-max-tokens 32] [--out FILE.jsonl]}. Without {@code --model}, a randomly initialised GPT-2 small (124M):
 * speed does not depend on the weights, and random weights almost never emit EOS, so every request generates its
 * {@code max_tokens}. Only loopback is ever contacted.
 */
public final class ServeBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String[] PROMPTS = {
        "The history of the city begins with a small settlement on the river, where",
        "In the morning the market opens early and the first customers arrive with",
        "Scientists studying the migration of birds have found that many species",
        "The committee published its report on the new railway line, which would",
        "When the storm reached the coast, the fishermen had already brought their",
        "Our support team received a message from a customer whose order had not",
        "The quarterly results showed that revenue from the services division grew",
        "Before the invention of the printing press, books were copied by hand and",
    };

    private ServeBench() {
    }

    private record Call(int status, long nanos, int tokens) {
    }

    public static void main(String[] args) throws Exception {
        Path modelDir = null;
        int reps = 3;
        int maxTokens = 64;
        int loadClients = 16;
        int loadSeconds = 60;
        int loadMaxTokens = 32;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--model" -> modelDir = Path.of(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--max-tokens" -> maxTokens = Integer.parseInt(args[++i]);
                case "--load-clients" -> loadClients = Integer.parseInt(args[++i]);
                case "--load-seconds" -> loadSeconds = Integer.parseInt(args[++i]);
                case "--load-max-tokens" -> loadMaxTokens = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        Engine.Info engine = Engine.init();
        GptModel model = modelDir != null ? HfCheckpoint.load(modelDir) : GptModel.create(GptConfig.gpt2(), 1);
        Tokenizer tokenizer = Tokenizer.gpt2();
        List<String> lines = new ArrayList<>();
        try (AttuneServer server = AttuneServer.start(model, tokenizer, null, ServerConfig.builder()
                .host("127.0.0.1").port(0).maxBatch(8).maxQueue(64).accessLog(line -> { }).build())) {
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                    .executor(Executors.newCachedThreadPool()).build();
            String url = server.baseUrl() + "/v1/completions";
            System.err.printf(Locale.ROOT, "serve bench: %s, BLAS %s, %d threads, on %s%n",
                    modelDir != null ? modelDir : "random GPT-2 small", engine.blas(), engine.threads(), url);
            for (int w = 0; w < 2; w++) {
                call(client, url, PROMPTS[w], 8);
            }
            for (int rep = 1; rep <= reps; rep++) {
                boolean sequentialFirst = rep % 2 == 1;
                for (int k = 0; k < 2; k++) {
                    boolean sequential = (k == 0) == sequentialFirst;
                    long t0 = System.nanoTime();
                    List<Call> calls = sequential ? sequential(client, url, maxTokens)
                            : concurrent(client, url, maxTokens, 8);
                    long wall = System.nanoTime() - t0;
                    lines.add(report(sequential ? "sequential-8" : "concurrent-8", rep, calls, wall, engine));
                }
            }
            lines.add(load(client, url, loadClients, loadSeconds, loadMaxTokens, engine));
        }
        if (out != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.write(out, lines);
        }
        System.exit(0);
    }

    private static Call call(HttpClient client, String url, String prompt, int maxTokens) {
        String body = "{\"prompt\": " + JSON.valueToTree(prompt) + ", \"max_tokens\": " + maxTokens
                + ", \"temperature\": 0}";
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(5))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
        long t0 = System.nanoTime();
        try {
            HttpResponse<String> res = client.send(request, HttpResponse.BodyHandlers.ofString());
            long nanos = System.nanoTime() - t0;
            int tokens = res.statusCode() == 200
                    ? JSON.readTree(res.body()).get("usage").get("completion_tokens").asInt() : 0;
            return new Call(res.statusCode(), nanos, tokens);
        } catch (IOException e) {
            return new Call(-1, System.nanoTime() - t0, 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Call(-1, System.nanoTime() - t0, 0);
        }
    }

    private static List<Call> sequential(HttpClient client, String url, int maxTokens) {
        List<Call> calls = new ArrayList<>();
        for (String p : PROMPTS) {
            calls.add(call(client, url, p, maxTokens));
        }
        return calls;
    }

    private static List<Call> concurrent(HttpClient client, String url, int maxTokens, int clients)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<Call>> futures = new ArrayList<>();
            for (int c = 0; c < clients; c++) {
                String p = PROMPTS[c % PROMPTS.length];
                futures.add(pool.submit(() -> call(client, url, p, maxTokens)));
            }
            List<Call> calls = new ArrayList<>();
            for (Future<Call> f : futures) {
                calls.add(f.get());
            }
            return calls;
        } finally {
            pool.shutdownNow();
        }
    }

    private static String load(HttpClient client, String url, int clients, int seconds, int maxTokens,
                               Engine.Info engine) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        List<Call> calls = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long t0 = System.nanoTime();
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            futures.add(pool.submit(() -> {
                while (System.nanoTime() < end) { // bounded: stops by itself when the time is up
                    calls.add(call(client, url, PROMPTS[next.getAndIncrement() % PROMPTS.length], maxTokens));
                }
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        pool.shutdownNow();
        return report("load-" + clients + "-clients-" + seconds + "s", 1, calls, System.nanoTime() - t0, engine);
    }

    private static String report(String name, int rep, List<Call> calls, long wallNanos, Engine.Info engine) {
        List<Long> latencies = new ArrayList<>();
        int tokens = 0;
        int errors = 0;
        for (Call c : calls) {
            latencies.add(c.nanos());
            tokens += c.tokens();
            errors += c.status() == 200 ? 0 : 1;
        }
        Collections.sort(latencies);
        double wall = wallNanos / 1e9;
        ObjectNode o = JSON.createObjectNode();
        o.put("measurement", name).put("rep", rep).put("requests", calls.size()).put("errors", errors)
                .put("completion_tokens", tokens).put("wall_s", round(wall)).put("tokens_per_s", round(tokens / wall))
                .put("p50_s", round(percentile(latencies, 0.50) / 1e9))
                .put("p95_s", round(percentile(latencies, 0.95) / 1e9)).put("blas", engine.blas())
                .put("threads", engine.threads());
        String line = o.toString();
        System.out.println(line);
        return line;
    }

    /** Nearest-rank percentile. */
    private static double percentile(List<Long> sorted, double q) {
        if (sorted.isEmpty()) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(q * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
