package dev.attune.core.train;

import dev.attune.core.config.GptConfig;
import dev.attune.core.engine.Engine;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Times a full training step (forward + backward + global norm + AdamW, through {@link LmTraining}), forward +
 * backward alone, and AdamW alone, at the tiny shape (L2 H4 C128 V256, B8 T64) and GPT-2 small (B4 T128). Not a
 * test; run {@code java -cp <test classpath> dev.attune.core.train.TrainingBenchmark tiny|gpt2 [steps]} with
 * {@code ATTUNE_THREADS} set.
 */
public final class TrainingBenchmark {

    public static void main(String[] args) throws java.io.IOException {
        Engine.Info info = Engine.init();
        boolean tiny = args.length == 0 || args[0].equals("tiny");
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : tiny ? 60 : 8;
        GptConfig config = tiny
                ? GptConfig.builder().layers(2).heads(4).embeddingSize(128).vocabSize(256).contextLength(256)
                        .bosTokenId(255).eosTokenId(255).dropout(0).build()
                : GptConfig.gpt2().withDropout(0);
        int b = tiny ? 8 : 4;
        int t = tiny ? 64 : 128;
        System.out.printf("engine %s, %s, B%d T%d, %d steps (medians after one warm-up)%n", info, config, b, t, steps);

        int[] stream = new SplittableRandom(1).ints(200_000, 0, config.vocabSize()).toArray();
        TokenWindows data = TokenWindows.of(stream);
        GptModel model = GptModel.create(config, 1);

        // forward + backward alone, on one fixed batch
        TokenBatch batch = data.batch(0, b, t, 1);
        double[] fb = time(steps, () -> model.forwardBackward(batch, batch.validTargets(), false, 0));

        // AdamW alone: global norm + fused update over the whole model
        AdamWOptimizer optimizer = new AdamWOptimizer(AdamW.defaults(), model.parameters(), model.gradients(),
                Trainable.of(model).tensors());
        double[] adam = time(steps, () -> {
            double norm = optimizer.gradientNorm();
            optimizer.update(1e-5, Math.min(1, 1.0 / norm));
        });

        // the whole step through the training loop, timed between consecutive steps
        List<Long> stamps = new ArrayList<>();
        LmTraining.builder().model(model).data(data).batchSize(b).contextLength(t).learningRate(1e-5)
                .clipGradNorm(1.0).maxSteps(steps + 1).progress(false)
                .listener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics s) {
                        stamps.add(System.nanoTime());
                    }
                }).build().run();
        double[] full = new double[stamps.size() - 1];
        for (int i = 1; i < stamps.size(); i++) {
            full[i - 1] = (stamps.get(i) - stamps.get(i - 1)) / 1e9;
        }
        report("training step (LmTraining: fwd+bwd+norm+AdamW)", full, b * t);
        report("forward+backward", fb, b * t);
        report("AdamW (norm + update)", adam, 0);
    }

    interface Body {
        void run() throws Exception;
    }

    private static double[] time(int repeats, Body body) {
        try {
            body.run();
            double[] s = new double[repeats];
            for (int i = 0; i < repeats; i++) {
                long t0 = System.nanoTime();
                body.run();
                s[i] = (System.nanoTime() - t0) / 1e9;
            }
            return s;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void report(String what, double[] seconds, int tokens) {
        double[] sorted = seconds.clone();
        Arrays.sort(sorted);
        double median = sorted[sorted.length / 2];
        System.out.printf("%-50s median %8.2f ms  min %8.2f  max %8.2f%s%n", what, median * 1e3, sorted[0] * 1e3,
                sorted[sorted.length - 1] * 1e3, tokens > 0 ? String.format("  %.0f tokens/s", tokens / median) : "");
    }
}
