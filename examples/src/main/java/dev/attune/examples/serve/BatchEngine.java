package dev.attune.examples.serve;

import dev.attune.core.generate.GenerationResult;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.KvCache;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching: one thread owns the model and decodes every running sequence together, one token per row per
 * step. A finished (or cancelled) sequence leaves its row at once; a waiting one joins before the next step. A
 * joining prompt is prefilled alone, exactly as {@code attune generate} prefills it, and its keys and values are
 * copied into a free row of the shared cache ({@link KvCache#copyRow}); the cache is packed
 * ({@link KvCache#compact}) when padding left by departed rows would fill it or double the attention work. Token
 * choice, stop strings and streaming text are core's ({@link Generator.Sequence}).
 *
 * <p>Other model work (scoring) runs on the same thread between steps, since the model is not thread-safe.
 */
final class BatchEngine implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BatchEngine.class);

    /** Where a job's text and results go; called on the engine thread, so it must not block. */
    interface Listener {
        void onText(int choice, String piece);

        void onFinished(int choice, GenerationResult result);
    }

    /** One request: its sequences (choices), decoded in rows of the shared batch. */
    static final class Job {
        final List<Generator.Sequence> sequences;
        final CompletableFuture<List<GenerationResult>> done = new CompletableFuture<>();
        final GenerationResult[] results;
        final long admittedNanos = System.nanoTime();
        private final Listener listener;
        private volatile boolean cancelled;
        private int remaining;
        private boolean firstTokenSeen;
        private BatchEngine engine;

        /**
         * @param sequences from {@link Generator#sequence}; their text callbacks should forward to the listener
         */
        Job(List<Generator.Sequence> sequences, Listener listener) {
            this.sequences = List.copyOf(sequences);
            this.listener = listener;
            this.results = new GenerationResult[sequences.size()];
            this.remaining = sequences.size();
        }

        /** The client went away: the job's rows are freed before the next step. */
        void cancel() {
            cancelled = true;
            if (engine != null) {
                engine.wake();
            }
        }

        boolean cancelled() {
            return cancelled;
        }

        /** Cancelled, or already failed: its rows are wasted work. */
        private boolean abandoned() {
            return cancelled || done.isCompletedExceptionally();
        }
    }

    private record Waiting(Job job, int choice) {
    }

    /** Model work other than decoding, run between steps. */
    private record Task(Runnable run, CompletableFuture<?> result) {
    }

    /** A row of the shared batch in use. */
    private static final class Slot {
        final Job job;
        final int choice;
        int lastToken;

        Slot(Job job, int choice, int lastToken) {
            this.job = job;
            this.choice = choice;
            this.lastToken = lastToken;
        }

        Generator.Sequence sequence() {
            return job.sequences.get(choice);
        }
    }

    private final GptModel model;
    private final ServerMetrics metrics;
    private final int maxBatch;
    private final int maxQueue;
    private final KvCache cache;
    private final Slot[] slots;
    private final Object lock = new Object();
    private final ArrayDeque<Waiting> waiting = new ArrayDeque<>();   // guarded by lock
    private final ArrayDeque<Task> tasks = new ArrayDeque<>();        // guarded by lock
    private final AtomicInteger activeRows = new AtomicInteger();
    private final AtomicInteger queuedRows = new AtomicInteger();
    private final Thread thread;
    private boolean accepting = true;                                   // guarded by lock
    private boolean stopped;                                            // guarded by lock
    private boolean paused;                                             // guarded by lock

    BatchEngine(GptModel model, int maxBatch, int maxQueue, ServerMetrics metrics) {
        this.model = model;
        this.metrics = metrics;
        this.maxBatch = maxBatch;
        this.maxQueue = maxQueue;
        this.cache = model.newCache(maxBatch, model.config().contextLength());
        this.slots = new Slot[maxBatch];
        this.thread = new Thread(this::loop, "attune-engine");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    int activeRows() {
        return activeRows.get();
    }

    int queuedRows() {
        return queuedRows.get();
    }

    /** Rows a new request may still take before it gets 429: free batch rows plus free queue places. */
    private int capacityLeft() {
        return maxBatch + maxQueue - activeRows.get() - queuedRows.get();
    }

    /** Queues a job's sequences; 503 while shutting down, 429 when the batch and the queue are full. */
    void submit(Job job) {
        if (job.sequences.size() > maxBatch) {
            throw ApiError.badRequest("n", "'n' asks for " + job.sequences.size() + " sequences but the server"
                    + " decodes at most " + maxBatch + " together");
        }
        synchronized (lock) {
            if (!accepting) {
                throw ApiError.unavailable("shutting_down", "the server is shutting down");
            }
            if (job.sequences.size() > capacityLeft()) {
                throw ApiError.tooManyRequests("the server is at capacity: " + activeRows.get() + " sequences"
                        + " running and " + queuedRows.get() + " waiting (limits " + maxBatch + " and " + maxQueue
                        + "); retry later");
            }
            job.engine = this;
            for (int c = 0; c < job.sequences.size(); c++) {
                waiting.add(new Waiting(job, c));
            }
            queuedRows.addAndGet(job.sequences.size());
            lock.notifyAll();
        }
    }

    /** Runs model work on the engine thread between steps; 429 when too much is waiting, 503 when shutting down. */
    <T> CompletableFuture<T> call(Supplier<T> work) {
        CompletableFuture<T> result = new CompletableFuture<>();
        synchronized (lock) {
            if (!accepting) {
                throw ApiError.unavailable("shutting_down", "the server is shutting down");
            }
            if (tasks.size() >= Math.max(1, maxQueue)) {
                throw ApiError.tooManyRequests("too many scoring requests waiting (" + tasks.size() + "); retry"
                        + " later");
            }
            tasks.add(new Task(() -> {
                try {
                    result.complete(work.get());
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                }
            }, result));
            lock.notifyAll();
        }
        return result;
    }

    /** Holds the engine between steps (requests are still admitted and queued); for tests of queues and shutdown. */
    void pause(boolean hold) {
        synchronized (lock) {
            paused = hold;
            lock.notifyAll();
        }
    }

    void wake() {
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    /** Stops taking work (new requests get 503) and waits up to {@code grace} for what is in flight to finish. */
    boolean drain(Duration grace) throws InterruptedException {
        long deadline = System.nanoTime() + grace.toNanos();
        synchronized (lock) {
            accepting = false;
            while (activeRows.get() + queuedRows.get() > 0 || !tasks.isEmpty()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                lock.wait(Math.max(1, left / 1_000_000));
            }
            return true;
        }
    }

    /** Stops the engine thread; jobs still waiting or running fail with 503. */
    @Override
    public void close() {
        synchronized (lock) {
            accepting = false;
            stopped = true;
            lock.notifyAll();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ------------------------------------------------------------------------------------------ the engine thread

    private void loop() {
        while (true) {
            Task task;
            synchronized (lock) {
                while (!stopped && (paused || tasks.isEmpty() && waiting.isEmpty() && activeRows.get() == 0)) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        stopped = true;
                    }
                }
                if (stopped) {
                    break;
                }
                task = tasks.poll();
            }
            if (task != null) {
                task.run().run();
            }
            try {
                freeCancelled();
                admit();
                if (activeRows.get() > 0) {
                    step();
                }
            } catch (RuntimeException | Error e) {
                LOG.error("decoding failed; failing the running requests", e);
                failRunning(e);
            }
            synchronized (lock) {
                lock.notifyAll(); // drain() waits on the counts
            }
        }
        ApiError down = ApiError.unavailable("shutting_down", "the server shut down before the request finished");
        failRunning(down);
        List<Waiting> left;
        List<Task> leftTasks;
        synchronized (lock) {
            left = new ArrayList<>(waiting);
            leftTasks = new ArrayList<>(tasks);
            waiting.clear();
            tasks.clear();
            lock.notifyAll();
        }
        queuedRows.addAndGet(-left.size());
        left.forEach(w -> w.job.done.completeExceptionally(down));
        leftTasks.forEach(t -> t.result().completeExceptionally(down));
    }

    /** Moves waiting sequences into free rows: each prompt is prefilled alone and picks its first token. */
    private void admit() {
        for (int row = 0; row < maxBatch; row++) {
            if (slots[row] != null) {
                continue;
            }
            Waiting w;
            synchronized (lock) {
                w = waiting.poll();
            }
            if (w == null) {
                return;
            }
            // Each path below leaves the queue only once the sequence is running or done: drain() must never see
            // it in neither count.
            if (w.job.abandoned()) {
                w.job.done.completeExceptionally(new CancellationException("client disconnected"));
                queuedRows.decrementAndGet();
                continue;
            }
            Generator.Sequence seq = w.job.sequences.get(w.choice);
            int[] prompt = seq.prompt();
            KvCache alone;
            int token;
            try {
                alone = model.newCache(1, prompt.length + seq.budget());
                float[] logits = model.forward(alone, new int[][] {prompt}, null, false).toFloatMatrix()[0];
                token = seq.next(logits);
            } catch (RuntimeException e) {
                LOG.error("prefill failed; failing that request", e);
                w.job.done.completeExceptionally(e);
                queuedRows.decrementAndGet();
                row--;
                continue;
            }
            metrics.tokensPrompt.increment(prompt.length);
            metrics.generated(1, System.nanoTime());
            if (!w.job.firstTokenSeen) {
                w.job.firstTokenSeen = true;
                metrics.timeToFirstToken.record(Duration.ofNanos(System.nanoTime() - w.job.admittedNanos));
            }
            if (seq.finished()) {
                finish(w.job, w.choice);
                queuedRows.decrementAndGet();
                row--; // the row is still free
                continue;
            }
            cache.copyRow(alone, 0, row);
            slots[row] = new Slot(w.job, w.choice, token);
            activeRows.incrementAndGet();
            queuedRows.decrementAndGet();
        }
    }

    /** One token for every running row. */
    private void step() {
        int longestReal = 0;
        for (Slot s : slots) {
            if (s != null) {
                longestReal = Math.max(longestReal, s.sequence().prompt().length + s.sequence().generated() - 1);
            }
        }
        if (cache.length() + 1 > cache.capacity() || cache.length() > 2 * longestReal + 64) {
            cache.compact();
        }
        int[][] tokens = new int[maxBatch][1];
        boolean[][] mask = new boolean[maxBatch][1];
        int live = 0;
        for (int r = 0; r < maxBatch; r++) {
            if (slots[r] != null) {
                tokens[r][0] = slots[r].lastToken;
                mask[r][0] = true;
                live++;
            }
        }
        long t0 = System.nanoTime();
        float[][] logits = model.forward(cache, tokens, mask, false).toFloatMatrix();
        for (int r = 0; r < maxBatch; r++) {
            Slot s = slots[r];
            if (s == null) {
                continue;
            }
            if (s.job.abandoned()) {
                release(r);
                continue;
            }
            s.lastToken = s.sequence().next(logits[r]);
            if (s.sequence().finished()) {
                release(r);
                finish(s.job, s.choice);
            }
        }
        long t1 = System.nanoTime();
        metrics.batchStep.record(Duration.ofNanos(t1 - t0));
        metrics.batchSize.record(live);
        metrics.generated(live, t1);
    }

    private void release(int row) {
        Slot s = slots[row];
        slots[row] = null;
        cache.clearRow(row);
        activeRows.decrementAndGet();
        if (s.job.cancelled) {
            s.job.done.completeExceptionally(new CancellationException("client disconnected"));
        }
    }

    private void freeCancelled() {
        for (int r = 0; r < maxBatch; r++) {
            if (slots[r] != null && slots[r].job.abandoned()) {
                release(r);
            }
        }
    }

    private static void finish(Job job, int choice) {
        GenerationResult result = job.sequences.get(choice).result();
        job.results[choice] = result;
        job.listener.onFinished(choice, result);
        if (--job.remaining == 0) {
            job.done.complete(Arrays.asList(job.results.clone()));
        }
    }

    /** After a failure in a step: every running job fails, and the cache starts empty; waiting jobs go on. */
    private void failRunning(Throwable cause) {
        for (int r = 0; r < maxBatch; r++) {
            if (slots[r] != null) {
                slots[r].job.done.completeExceptionally(cause);
                slots[r] = null;
                cache.clearRow(r);
                activeRows.decrementAndGet();
            }
        }
        cache.compact();
    }
}
