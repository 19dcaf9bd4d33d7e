package dev.attune.examples.serve;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.function.IntSupplier;

/**
 * The server's meters in one Prometheus registry (names as Prometheus shows them):
 * {@code attune_http_requests_seconds} (count, sum and histogram buckets by endpoint, method and status),
 * {@code attune_auth_failures_total}, {@code attune_tokens_generated_total}, {@code attune_tokens_prompt_total},
 * {@code attune_generation_tokens_per_second} (decode throughput over the last 10 s),
 * {@code attune_batch_size} (rows per decode step), {@code attune_batch_step_seconds},
 * {@code attune_batch_rows_active}, {@code attune_queue_depth}, {@code attune_time_to_first_token_seconds}, and the
 * JVM's memory, GC, threads, CPU and uptime.
 */
final class ServerMetrics implements AutoCloseable {
    private static final long WINDOW_NANOS = Duration.ofSeconds(10).toNanos();

    final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    final Counter authFailuresMissing;
    final Counter authFailuresInvalid;
    final Counter tokensGenerated;
    final Counter tokensPrompt;
    final Counter textsClassified;
    final DistributionSummary batchSize;
    final Timer batchStep;
    final Timer timeToFirstToken;
    private final ArrayDeque<long[]> recent = new ArrayDeque<>(); // {nanoTime, tokens} of recent steps

    ServerMetrics(IntSupplier activeRows, IntSupplier queuedRows) {
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        authFailuresMissing = Counter.builder("attune.auth.failures").tag("reason", "missing")
                .description("requests refused with 401").register(registry);
        authFailuresInvalid = Counter.builder("attune.auth.failures").tag("reason", "invalid")
                .description("requests refused with 401").register(registry);
        tokensGenerated = Counter.builder("attune.tokens.generated").description("tokens generated")
                .register(registry);
        tokensPrompt = Counter.builder("attune.tokens.prompt").description("prompt tokens prefilled")
                .register(registry);
        textsClassified = Counter.builder("attune.classify.texts").description("texts classified by /v1/classify")
                .register(registry);
        batchSize = DistributionSummary.builder("attune.batch.size").description("rows decoded per step")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64).register(registry);
        batchStep = Timer.builder("attune.batch.step").description("one decode step of the shared batch")
                .publishPercentileHistogram().register(registry);
        timeToFirstToken = Timer.builder("attune.time.to.first.token")
                .description("from admission to the first generated token").publishPercentileHistogram()
                .register(registry);
        Gauge.builder("attune.batch.rows.active", activeRows::getAsInt).description("rows being decoded")
                .register(registry);
        Gauge.builder("attune.queue.depth", queuedRows::getAsInt).description("sequences waiting for a row")
                .register(registry);
        Gauge.builder("attune.generation.tokens.per.second", this, ServerMetrics::tokensPerSecond)
                .description("tokens generated per second over the last 10 s").register(registry);
    }

    /** Records one request: its route (or "unmatched"), method, status and duration. */
    void request(String endpoint, String method, int status, long nanos) {
        Timer.builder("attune.http.requests").tags("endpoint", endpoint, "method", method, "status",
                Integer.toString(status)).publishPercentileHistogram().register(registry)
                .record(Duration.ofNanos(nanos));
    }

    /** Records a step that produced {@code tokens} tokens. */
    synchronized void generated(int tokens, long nowNanos) {
        tokensGenerated.increment(tokens);
        recent.addLast(new long[] {nowNanos, tokens});
        trim(nowNanos);
    }

    private synchronized double tokensPerSecond() {
        long now = System.nanoTime();
        trim(now);
        long sum = 0;
        for (long[] r : recent) {
            sum += r[1];
        }
        return sum / (WINDOW_NANOS / 1e9);
    }

    private void trim(long now) {
        while (!recent.isEmpty() && now - recent.peekFirst()[0] > WINDOW_NANOS) {
            recent.removeFirst();
        }
    }

    String scrape() {
        return registry.scrape();
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
