package dev.attune.core.generate;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Decoding speed at GPT-2 small shape with random weights: a 16-token prompt grown to 128 tokens (112 new), batch 1
 * and 8, greedy. Times every model call through a {@link CausalLm} wrapper, so the report separates prefill, the
 * model's decode steps (early and late positions) and the generator's own work.
 *
 * <p>On a shared machine wall time mostly measures the neighbours; with one thread
 * ({@code -Dattune.threads=1}, {@code OMP_NUM_THREADS=1}) the process CPU time per step is a steadier estimate of
 * what a quiet core would take, so both are printed.
 *
 * <p>Not a unit test (no timing assertions there); run it by hand:
 * {@code java -cp core/target/test-classes:core/target/classes:$(cat cp.txt) dev.attune.core.generate.GenerationBenchmark [REPEATS [BATCHES]]}
 */
public final class GenerationBenchmark {

    private static final java.lang.management.ThreadMXBean THREAD =
            java.lang.management.ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean CPU =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                    .getOperatingSystemMXBean();

    /** Wraps a model and records the wall time of every call. */
    private static final class Timed implements CausalLm {
        final CausalLm inner;
        final List<Long> nanos = new ArrayList<>();
        final List<Long> cpuNanos = new ArrayList<>(); // the calling thread's CPU time: all of it with one thread

        Timed(CausalLm inner) {
            this.inner = inner;
        }

        @Override
        public GptConfig config() {
            return inner.config();
        }

        @Override
        public Session start(int batchSize, int capacity) {
            Session s = inner.start(batchSize, capacity);
            return new Session() {
                @Override
                public float[][] next(int[][] tokens, boolean[][] mask) {
                    long c0 = THREAD.getCurrentThreadCpuTime();
                    long t0 = System.nanoTime();
                    float[][] out = s.next(tokens, mask);
                    nanos.add(System.nanoTime() - t0);
                    cpuNanos.add(THREAD.getCurrentThreadCpuTime() - c0);
                    return out;
                }

                @Override
                public void reorder(int[] rows) {
                    s.reorder(rows);
                }
            };
        }
    }

    public static void main(String[] args) {
        int prompt = 16;
        int total = 128;
        int repeats = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        GptModel model = GptModel.create(GptConfig.gpt2(), 1);
        Timed timed = new Timed(CausalLm.of(model));
        Generator generator = Generator.of(timed, Tokenizer.gpt2());
        GenerationConfig config = GenerationConfig.builder().maxNewTokens(total - prompt).ignoreEos(true).build();
        int[] batches = args.length > 1 ? java.util.Arrays.stream(args[1].split(",")).mapToInt(Integer::parseInt)
                .toArray() : new int[] {1, 8};
        for (int batch : batches) {
            List<int[]> prompts = new ArrayList<>();
            for (int b = 0; b < batch; b++) {
                int[] p = new int[prompt];
                for (int i = 0; i < prompt; i++) {
                    p[i] = (i * 997 + b * 131) % 50000;
                }
                prompts.add(p);
            }
            generator.generateBatch(prompts, config.toBuilder().maxNewTokens(8).build()); // warm-up
            for (int r = 0; r < repeats; r++) {
                timed.nanos.clear();
                timed.cpuNanos.clear();
                long cpu0 = CPU.getProcessCpuTime();
                long t0 = System.nanoTime();
                generator.generateBatch(prompts, config);
                long wall = System.nanoTime() - t0;
                double cpuMs = (CPU.getProcessCpuTime() - cpu0) / 1e6;
                List<Long> steps = timed.nanos.subList(1, timed.nanos.size());
                double prefillMs = timed.nanos.get(0) / 1e6;
                double modelMs = steps.stream().mapToLong(Long::longValue).sum() / 1e6;
                double early = steps.subList(0, 16).stream().mapToLong(Long::longValue).average().orElse(0) / 1e6;
                double late = steps.subList(steps.size() - 16, steps.size()).stream().mapToLong(Long::longValue)
                        .average().orElse(0) / 1e6;
                List<Long> cpuSteps = timed.cpuNanos.subList(1, timed.cpuNanos.size());
                double cpuEarly = cpuSteps.subList(0, 16).stream().mapToLong(Long::longValue).average().orElse(0) / 1e6;
                double cpuLate = cpuSteps.subList(cpuSteps.size() - 16, cpuSteps.size()).stream()
                        .mapToLong(Long::longValue).average().orElse(0) / 1e6;
                int generated = batch * (total - prompt);
                double decodeMs = wall / 1e6 - prefillMs;
                System.out.printf(Locale.ROOT, "batch %d: %.1f tokens/s overall (%.1f ms/step), prefill %.1f ms,"
                                + " model step %.1f ms at positions 17-32, %.1f ms at 112-127, generator's own"
                                + " work %.2f ms/step; process CPU %.1f ms/step (%.1f tokens/s per CPU-second);"
                                + " calling thread's CPU per model step %.1f ms at 17-32, %.1f ms at 112-127%n",
                        batch, generated / (wall / 1e9), decodeMs / (total - prompt), prefillMs, early, late,
                        (decodeMs - modelMs) / (total - prompt), cpuMs / (total - prompt),
                        generated / (cpuMs / 1e3), cpuEarly, cpuLate);
            }
        }
    }
}
