package dev.attune.examples.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.tribuo.LmClassifierModel;
import dev.attune.prompting.template.ChatTemplate;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.eclipse.jetty.server.AbstractConnector;
import org.eclipse.jetty.server.handler.GracefulHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A language model behind an OpenAI-compatible HTTP API, on Javalin (Jetty 12):
 *
 * <ul>
 *   <li>{@code POST /v1/completions}, {@code POST /v1/chat/completions} (also as server-sent events with
 *       {@code "stream": true}), {@code GET /v1/models}, {@code POST /v1/score} (log-likelihood of continuations),
 *       {@code POST /v1/classify} (texts through the classifier of {@link ServerConfig#classifier()}: 501 without
 *       one);</li>
 *   <li>{@code GET /health} (the process is up), {@code GET /ready} (model loaded, not shutting down),
 *       {@code GET /metrics} (Prometheus text, see {@link ServerMetrics}).</li>
 * </ul>
 *
 * Requests are decoded together by continuous batching ({@link BatchEngine}). With {@link ServerConfig#apiKeys()},
 * every {@code /v1/*} request needs {@code Authorization: Bearer KEY}; health, readiness and metrics stay open for
 * probes and scrapers. One access-log line per request names method, path, status, time, key label and token
 * counts, never prompt text or keys. A PEFT adapter ({@link ServerConfig#adapter()}) runs inside the served model,
 * so completions, chat and scoring all use it; {@code /v1/models} names the adapter and the classifier loaded.
 *
 * <pre>{@code
 * try (AttuneServer server = AttuneServer.start(model, tokenizer, null, ServerConfig.builder().port(0).build())) {
 *     System.out.println(server.baseUrl());   // http://127.0.0.1:PORT
 *     ...
 * }                                            // stop(): in-flight requests finish, new ones get 503
 * }</pre>
 */
public final class AttuneServer implements AutoCloseable {
    private static final Logger ACCESS = LoggerFactory.getLogger("dev.attune.serve.access");
    private static final Set<String> ROUTES = Set.of("/v1/completions", "/v1/chat/completions", "/v1/models",
            "/v1/score", "/v1/classify", "/health", "/ready", "/metrics");
    static final String KEY_LABEL = "attune.key";
    private static final String ERROR_WRITTEN = "attune.error";
    static final String PROMPT_TOKENS = "attune.promptTokens";
    static final String COMPLETION_TOKENS = "attune.completionTokens";

    private final ServerConfig config;
    private final ServerMetrics metrics;
    private final BatchEngine engine;
    private final Javalin app;
    private final Consumer<String> accessLog;
    private volatile boolean draining;
    private boolean stopped;

    private AttuneServer(GptModel model, Tokenizer tokenizer, ChatTemplate chatTemplate, ServerConfig config,
                         LmClassifierModel classifier, ObjectNode modelDetails) {
        this.config = config;
        ObjectMapper json = new ObjectMapper();
        BatchEngine[] holder = new BatchEngine[1];
        this.metrics = new ServerMetrics(() -> holder[0] == null ? 0 : holder[0].activeRows(),
                () -> holder[0] == null ? 0 : holder[0].queuedRows());
        this.engine = new BatchEngine(model, config.maxBatch(), config.maxQueue(), metrics);
        holder[0] = engine;
        this.accessLog = config.accessLog() != null ? config.accessLog() : ACCESS::info;
        Generator generator = Generator.of(model, tokenizer);
        CompletionEndpoints completions = new CompletionEndpoints(json, generator, tokenizer, engine, config,
                new ChatPrompts(chatTemplate), modelDetails);
        ScoreEndpoint score = new ScoreEndpoint(json, model, tokenizer, engine, config);
        ClassifyEndpoint classify = classifier == null ? null : new ClassifyEndpoint(json, classifier, engine, config,
                metrics);
        this.app = Javalin.create(c -> {
            c.startup.showJavalinBanner = false;
            c.startup.showOldJavalinVersionWarning = false;
            c.http.compressionStrategy = CompressionStrategy.NONE; // streamed events must leave at once
            c.jetty.host = config.host();
            c.jetty.port = config.port();
            c.jetty.modifyServer(server -> {
                // Jetty's graceful stop: responses being written when stop() comes are completed first.
                server.setHandler(new GracefulHandler());
                server.setStopTimeout(Math.max(1000, config.shutdownGrace().toMillis()));
            });
            c.requestLogger.http(this::logRequest);
            c.routes.before(ctx -> ctx.attribute("attune.start", System.nanoTime()));
            c.routes.before(this::refuseWhileDraining);
            c.routes.before("/v1/*", this::authenticate);
            c.routes.get("/health", ctx -> ctx.json(Json.object(json).put("status", "ok")));
            c.routes.get("/ready", ctx -> {
                boolean ready = !draining;
                ctx.status(ready ? 200 : 503).json(Json.object(json).put("status", ready ? "ready" : "draining"));
            });
            c.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8")
                    .result(metrics.scrape()));
            c.routes.get("/v1/models", ctx -> ctx.json(completions.models()));
            c.routes.get("/v1/models/{id}", ctx -> ctx.json(completions.model(ctx.pathParam("id"))));
            c.routes.post("/v1/completions", ctx -> completions.complete(ctx, body(ctx), false));
            c.routes.post("/v1/chat/completions", ctx -> completions.complete(ctx, body(ctx), true));
            c.routes.post("/v1/score", ctx -> score.score(ctx, body(ctx)));
            c.routes.post("/v1/classify", ctx -> {
                if (classify == null) {
                    throw ApiError.notImplemented("no_classification_head", "the server has no classification"
                            + " head: /v1/classify needs a classifier directory (attune serve --classifier DIR,"
                            + " from attune classify train), and '" + config.modelName() + "' is served as a"
                            + " language model only");
                }
                classify.classify(ctx, body(ctx));
            });
            c.routes.exception(ApiError.class, (e, ctx) -> error(ctx, e));
            c.routes.exception(Exception.class, (e, ctx) -> {
                LoggerFactory.getLogger(AttuneServer.class).error("request failed", e);
                error(ctx, ApiError.internal("internal error: " + e.getClass().getSimpleName()));
            });
            c.routes.error(404, "*", ctx -> {
                if (ctx.attribute(ERROR_WRITTEN) == null) { // not one of ours: an unknown route
                    error(ctx, ApiError.notFound(null, "not_found", "no route " + ctx.method() + " " + ctx.path()));
                }
            });
            c.routes.error(405, "*", ctx -> error(ctx, new ApiError(405, "invalid_request_error", null,
                    "method_not_allowed", "method " + ctx.method() + " is not allowed on " + ctx.path())));
        });
    }

    /**
     * Starts a server for {@code model}; the chat endpoint renders messages with {@code chatTemplate}
     * ({@link ChatTemplate#simple()} when null). The adapter of {@link ServerConfig#adapter()}, if any, is loaded onto
     * {@code model} itself (which must have none attached yet, and is frozen), and the classifier of
     * {@link ServerConfig#classifier()} is loaded with its own weights, as {@code LmClassifierModel.load} reads them.
     *
     * @throws IOException when the adapter or the classifier directory cannot be read (the message names the file)
     */
    public static AttuneServer start(GptModel model, Tokenizer tokenizer, ChatTemplate chatTemplate,
                                     ServerConfig config) throws IOException {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(config, "config");
        ObjectMapper json = new ObjectMapper();
        ObjectNode details = json.createObjectNode();
        if (config.adapter() != null) {
            Peft.load(model, config.adapter()); // attaches the adapter to model: every forward pass runs it
            details.putObject("adapter").put("path", config.adapter().toString())
                    .put("peft_type", Peft.readConfig(config.adapter()).peftType());
        }
        LmClassifierModel classifier = null;
        if (config.classifier() != null) {
            classifier = LmClassifierModel.load(config.classifier());
            details.set("classifier", ClassifyEndpoint.describe(json, classifier, config.classifier()));
        }
        AttuneServer server = new AttuneServer(model, tokenizer, chatTemplate, config, classifier, details);
        server.engine.start();
        server.app.start();
        for (var connector : server.app.jettyServer().server().getConnectors()) {
            if (connector instanceof AbstractConnector c) {
                c.setIdleTimeout(Duration.ofMinutes(10).toMillis()); // long generations without a byte written
            }
        }
        return server;
    }

    /** The port the server listens on (the free one chosen when the config asked for port 0). */
    public int port() {
        return app.port();
    }

    /** {@code http://host:port}. */
    public String baseUrl() {
        String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
        return "http://" + host + ":" + port();
    }

    /**
     * Graceful shutdown: readiness turns to 503 and new requests get 503, requests in flight finish (up to
     * {@link ServerConfig#shutdownGrace()}), then the server stops. Idempotent.
     */
    public synchronized void stop() {
        if (stopped) {
            return;
        }
        draining = true;
        try {
            engine.drain(config.shutdownGrace());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        app.stop();
        engine.close();
        metrics.close();
        stopped = true;
    }

    @Override
    public void close() {
        stop();
    }

    /** The decoding engine, for tests that hold it still. */
    BatchEngine engine() {
        return engine;
    }

    // ------------------------------------------------------------------------------------------------ handlers

    private void refuseWhileDraining(Context ctx) {
        String path = ctx.path();
        if (draining && !path.equals("/health") && !path.equals("/ready") && !path.equals("/metrics")) {
            throw ApiError.unavailable("shutting_down", "the server is shutting down");
        }
    }

    private void authenticate(Context ctx) {
        ApiKeys keys = config.apiKeys();
        if (keys == null) {
            return;
        }
        String header = ctx.header("Authorization");
        if (header == null || header.isBlank()) {
            metrics.authFailuresMissing.increment();
            ctx.header("WWW-Authenticate", "Bearer");
            throw ApiError.unauthorized("missing API key: send 'Authorization: Bearer KEY'");
        }
        String key = header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).strip() : null;
        Optional<String> label = key == null ? Optional.empty() : keys.verify(key);
        if (label.isEmpty()) {
            metrics.authFailuresInvalid.increment();
            ctx.header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            throw ApiError.unauthorized(key == null ? "the Authorization header must be 'Bearer KEY'"
                    : "invalid API key");
        }
        ctx.attribute(KEY_LABEL, label.get());
    }

    /** The request body, at most {@link ServerConfig#maxBodyBytes()} bytes (else 413). */
    private byte[] body(Context ctx) throws IOException {
        long max = config.maxBodyBytes();
        long declared = ctx.req().getContentLengthLong();
        if (declared > max) {
            throw ApiError.tooLarge("request body of " + declared + " bytes exceeds the limit of " + max + " bytes");
        }
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
            if (bytes.length > max) {
                throw ApiError.tooLarge("request body exceeds the limit of " + max + " bytes");
            }
            return bytes;
        }
    }

    private static void error(Context ctx, ApiError e) {
        if (ctx.res().isCommitted()) {
            return; // a stream already started; CompletionEndpoints reports errors in-band
        }
        ctx.attribute(ERROR_WRITTEN, Boolean.TRUE);
        ctx.status(e.status).contentType("application/json").result(e.body().toString());
    }

    private void logRequest(Context ctx, Float millis) {
        int status = ctx.statusCode();
        String path = ctx.path();
        String route = ROUTES.contains(path) ? path : path.startsWith("/v1/models/") ? "/v1/models/{id}" : "unmatched";
        Long start = ctx.attribute("attune.start");
        long nanos = start == null ? (long) (millis * 1e6) : System.nanoTime() - start;
        metrics.request(route, ctx.method().name(), status, nanos);
        String key = ctx.attribute(KEY_LABEL);
        Integer prompt = ctx.attribute(PROMPT_TOKENS);
        Integer completion = ctx.attribute(COMPLETION_TOKENS);
        // Method, path, status, duration, who and how much: never the prompt text, never the key.
        accessLog.accept(String.format(Locale.ROOT, "%s %s %s %d %.1fms key=%s prompt_tokens=%s completion_tokens=%s",
                ctx.ip(), ctx.method().name(), sanitize(path), status, nanos / 1e6, key == null ? "-" : key,
                prompt == null ? "-" : prompt, completion == null ? "-" : completion));
    }

    /** Paths come from the client: keep the log one line and short. */
    private static String sanitize(String path) {
        String p = path.length() > 200 ? path.substring(0, 200) + "..." : path;
        return p.replaceAll("[\\p{Cntrl}\\s]", "_");
    }

    /** Small JSON helpers shared by the endpoints. */
    static final class Json {
        private Json() {
        }

        static ObjectNode object(ObjectMapper json) {
            return json.createObjectNode();
        }

        static byte[] bytes(ObjectNode node) {
            return node.toString().getBytes(StandardCharsets.UTF_8);
        }
    }
}
