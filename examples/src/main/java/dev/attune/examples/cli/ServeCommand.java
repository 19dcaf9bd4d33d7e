package dev.attune.examples.cli;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.examples.serve.ApiKeys;
import dev.attune.examples.serve.AttuneServer;
import dev.attune.examples.serve.ServerConfig;
import dev.attune.prompting.template.ChatTemplate;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code attune serve}: a model directory behind an OpenAI-compatible HTTP API ({@link AttuneServer}) until the
 * process is stopped (Ctrl-C or SIGTERM shut it down gracefully). {@code --hash-key KEY} prints the line to add to
 * an API keys file and exits.
 */
@Command(name = "serve",
        mixinStandardHelpOptions = true,
        description = {"Serve a model over HTTP: OpenAI-compatible /v1/completions, /v1/chat/completions (with"
                + " streaming), /v1/models, plus /v1/score, /v1/classify (with --classifier), /health, /ready and"
                + " /metrics.",
                "Without --api-keys the server binds loopback addresses only."})
public final class ServeCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", description = "model directory (config.json + model.safetensors)")
    private Path model;

    @Option(names = "--adapter", paramLabel = "ADIR", description = "PEFT adapter directory (adapter_config.json +"
            + " adapter_model.safetensors, Attune's or PEFT's) to serve the model with")
    private Path adapter;

    @Option(names = "--classifier", paramLabel = "CDIR", description = "classifier directory (attune classify train"
            + " --out) that answers /v1/classify; without it /v1/classify answers 501")
    private Path classifier;

    @Option(names = "--host", paramLabel = "HOST", defaultValue = "127.0.0.1",
            description = "address to bind; non-loopback needs --api-keys")
    private String host;

    @Option(names = "--port", paramLabel = "PORT", defaultValue = "8080", description = "TCP port; 0 picks a free one")
    private int port;

    @Option(names = "--api-keys", paramLabel = "FILE", description = "file of accepted keys, one 'sha256:HEX"
            + " [label]' a line (see --hash-key)")
    private Path apiKeys;

    @Option(names = "--hash-key", paramLabel = "KEY", description = "print the keys-file line for KEY ('-' reads"
            + " it from standard input) and exit")
    private String hashKey;

    @Option(names = "--name", paramLabel = "NAME", description = "model id in the API (default: the directory"
            + " name)")
    private String name;

    @Option(names = "--chat-template", paramLabel = "FILE", description = "chat template file for"
            + " /v1/chat/completions (default: ChatTemplate.simple())")
    private Path chatTemplate;

    @Option(names = "--max-batch", paramLabel = "N", defaultValue = "8", description = "sequences decoded together")
    private int maxBatch;

    @Option(names = "--max-queue", paramLabel = "N", defaultValue = "64", description = "sequences waiting for a"
            + " batch row before requests get 429")
    private int maxQueue;

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "1024", description = "largest max_tokens a"
            + " request may ask for")
    private int maxTokens;

    @Option(names = "--max-prompt-tokens", paramLabel = "N", defaultValue = "0", showDefaultValue = Visibility.NEVER,
            description = "longest prompt in"
            + " tokens (default: the model's context less one)")
    private int maxPromptTokens;

    @Option(names = "--max-body-bytes", paramLabel = "N", defaultValue = "1048576", description = "largest request"
            + " body")
    private long maxBodyBytes;

    @Option(names = "--shutdown-grace", paramLabel = "SECONDS", defaultValue = "30", description = "how long"
            + " in-flight requests may finish at shutdown")
    private long shutdownGrace;

    @Mixin
    private WeightsOption weights;

    @Option(names = "--no-access-log", description = "do not log one line per request")
    private boolean noAccessLog;

    @Override
    public Integer call() throws Exception {
        if (hashKey != null) {
            String key = hashKey.equals("-") ? readKey() : hashKey;
            spec.commandLine().getOut().println(ApiKeys.hashLine(key));
            spec.commandLine().getOut().flush();
            return 0;
        }
        if (!noAccessLog && System.getProperty("org.slf4j.simpleLogger.log.dev.attune.serve.access") == null) {
            // the attune command logs at WARN; the access log is INFO and on by default
            System.setProperty("org.slf4j.simpleLogger.log.dev.attune.serve.access", "info");
        }
        AttuneServer server = open();
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.stop();
            stopped.countDown();
        }, "attune-serve-shutdown"));
        System.err.println("attune serve: " + describe() + " on " + server.baseUrl()
                + (apiKeys == null ? " (no API keys: loopback only)" : " (API keys from " + apiKeys + ")"));
        stopped.await();
        return 0;
    }

    /** Checks the options, loads model, adapter and classifier, and starts the server (what {@link #call} serves). */
    AttuneServer open() throws IOException {
        if (model == null) {
            throw new ParameterException(spec.commandLine(), "Missing required option: '--model=DIR'");
        }
        ServerConfig.Builder b = ServerConfig.builder().host(host).port(port).maxBatch(maxBatch).maxQueue(maxQueue)
                .maxTokens(maxTokens).maxPromptTokens(maxPromptTokens).maxBodyBytes(maxBodyBytes)
                .shutdownGrace(Duration.ofSeconds(shutdownGrace)).adapter(adapter).classifier(classifier)
                .modelName(name != null ? name : model.toAbsolutePath().normalize().getFileName().toString());
        if (apiKeys != null) {
            b.apiKeys(ApiKeys.load(apiKeys));
        }
        if (noAccessLog) {
            b.accessLog(line -> { });
        }
        ServerConfig config;
        try {
            config = b.build();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        Pretrained loaded = ModelDirectory.loadForDecoding(model, weights.resolve(model));
        ChatTemplate template = chatTemplate != null ? ChatTemplate.load(chatTemplate) : null;
        return AttuneServer.start(loaded.model(), loaded.tokenizer(), template, config);
    }

    private String describe() {
        String name = this.name != null ? this.name : model.toAbsolutePath().normalize().getFileName().toString();
        return name + (adapter != null ? " with adapter " + adapter : "")
                + (classifier != null ? ", classifier " + classifier : "");
    }

    private static String readKey() throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line = in.readLine();
        return line == null ? "" : line.strip();
    }
}
