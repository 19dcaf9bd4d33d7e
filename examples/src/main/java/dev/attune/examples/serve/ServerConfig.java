package dev.attune.examples.serve;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * How an {@link AttuneServer} listens and what it allows. Immutable; made with {@link #builder()}, which checks the
 * values, including the rule that a server without API keys binds only a loopback address.
 *
 * @param host            address to bind (default 127.0.0.1)
 * @param port            TCP port (default 8080; 0 picks a free one, see {@link AttuneServer#port()})
 * @param apiKeys         accepted keys ({@code Authorization: Bearer KEY} on {@code /v1/*}), or null for none
 * @param modelName       the model id that {@code /v1/models} lists and requests may name (default "attune")
 * @param maxBatch        sequences decoded together (rows of the shared batch; default 8)
 * @param maxQueue        sequences waiting for a row before new requests get 429 (default 64)
 * @param maxBodyBytes    largest request body; larger ones get 413 (default 1 MiB)
 * @param maxPromptTokens longest prompt in tokens; 0 means the model's context length less one (default 0)
 * @param maxTokens       largest {@code max_tokens} a request may ask for (default 1024; the context caps it too)
 * @param shutdownGrace   how long {@link AttuneServer#stop()} lets in-flight requests finish (default 30 s)
 * @param accessLog       where the one line per request goes; null means the SLF4J logger
 *                        {@code dev.attune.serve.access} at INFO. Lines never hold prompt text or keys
 * @param adapter         a PEFT adapter directory ({@code adapter_config.json} + {@code adapter_model.safetensors},
 *                        Attune's or PEFT's) that {@link AttuneServer#start} attaches to the served model, or null
 * @param classifier      a classifier directory written by {@code attune classify train} (or
 *                        {@code LmClassifierModel.save}) that answers {@code POST /v1/classify}, or null (then that
 *                        endpoint answers 501)
 */
public record ServerConfig(String host, int port, ApiKeys apiKeys, String modelName, int maxBatch, int maxQueue,
                           long maxBodyBytes, int maxPromptTokens, int maxTokens, Duration shutdownGrace,
                           Consumer<String> accessLog, Path adapter, Path classifier) {

    public ServerConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(modelName, "modelName");
        Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        positive("maxBatch", maxBatch);
        positive("maxTokens", maxTokens);
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        }
        if (maxQueue < 0 || maxPromptTokens < 0 || maxBodyBytes < 1 || shutdownGrace.isNegative()) {
            throw new IllegalArgumentException("maxQueue and maxPromptTokens must be >= 0, maxBodyBytes >= 1 and"
                    + " shutdownGrace not negative; got " + maxQueue + ", " + maxPromptTokens + ", " + maxBodyBytes
                    + ", " + shutdownGrace);
        }
        if (modelName.isBlank()) {
            throw new IllegalArgumentException("modelName is blank");
        }
        if (apiKeys == null && !isLoopback(host)) {
            throw new IllegalArgumentException("refusing to bind " + host + " without API keys: a server without"
                    + " keys binds only loopback addresses (127.0.0.1, ::1, localhost); give --api-keys FILE");
        }
    }

    private static void positive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + value);
        }
    }

    /** True when every address {@code host} resolves to is a loopback address. */
    static boolean isLoopback(String host) {
        try {
            InetAddress[] all = InetAddress.getAllByName(host);
            for (InetAddress a : all) {
                if (!a.isLoopbackAddress()) {
                    return false;
                }
            }
            return all.length > 0;
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("unknown host " + host, e);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 8080;
        private ApiKeys apiKeys;
        private String modelName = "attune";
        private int maxBatch = 8;
        private int maxQueue = 64;
        private long maxBodyBytes = 1 << 20;
        private int maxPromptTokens;
        private int maxTokens = 1024;
        private Duration shutdownGrace = Duration.ofSeconds(30);
        private Consumer<String> accessLog;
        private Path adapter;
        private Path classifier;

        private Builder() {
        }

        public Builder host(String h) { this.host = h; return this; }
        public Builder port(int p) { this.port = p; return this; }
        public Builder apiKeys(ApiKeys keys) { this.apiKeys = keys; return this; }
        public Builder modelName(String name) { this.modelName = name; return this; }
        public Builder maxBatch(int n) { this.maxBatch = n; return this; }
        public Builder maxQueue(int n) { this.maxQueue = n; return this; }
        public Builder maxBodyBytes(long n) { this.maxBodyBytes = n; return this; }
        public Builder maxPromptTokens(int n) { this.maxPromptTokens = n; return this; }
        public Builder maxTokens(int n) { this.maxTokens = n; return this; }
        public Builder shutdownGrace(Duration d) { this.shutdownGrace = d; return this; }
        public Builder accessLog(Consumer<String> sink) { this.accessLog = sink; return this; }
        public Builder adapter(Path directory) { this.adapter = directory; return this; }
        public Builder classifier(Path directory) { this.classifier = directory; return this; }

        public ServerConfig build() {
            return new ServerConfig(host, port, apiKeys, modelName, maxBatch, maxQueue, maxBodyBytes, maxPromptTokens,
                    maxTokens, shutdownGrace, accessLog, adapter, classifier);
        }
    }
}
