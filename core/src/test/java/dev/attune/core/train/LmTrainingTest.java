package dev.attune.core.train;
import dev.attune.core.data.TokenWindows;
import dev.attune.core.data.PromptCompletionData;
import dev.attune.core.data.TrainingData;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.config.GptConfig;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class LmTrainingTest {

    @TempDir
    Path dir;

    /** Small enough for a step to take a few milliseconds. */
    static GptConfig tiny(double dropout) {
        return GptConfig.builder().vocabSize(64).contextLength(32).embeddingSize(32).layers(2).heads(2)
                .dropout(dropout).bosTokenId(0).eosTokenId(0).build();
    }

    static int[] text(String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        int[] t = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            t[i] = b[i] % 64; // a 64-token "alphabet" is plenty for a test
        }
        return t;
    }

    static final int[] SHORT_TEXT = text("the quick brown fox jumps over the lazy dog. the quick brown fox jumps "
            + "over the lazy dog again and again.");

    /** Records every step's loss. */
    static final class Losses implements TrainingListener {
        final List<Double> values = new ArrayList<>();

        @Override
        public void onStep(StepMetrics step) {
            values.add(step.loss());
        }
    }

    static PromptCompletionData pairs(int n, long seed) {
        Random r = new Random(seed);
        List<PromptCompletionData.Example> list = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int[] prompt = new int[1 + r.nextInt(6)];
            int[] completion = new int[1 + r.nextInt(5)];
            for (int j = 0; j < prompt.length; j++) {
                prompt[j] = 1 + r.nextInt(63);
            }
            for (int j = 0; j < completion.length; j++) {
                completion[j] = (prompt[j % prompt.length] * 7) % 63 + 1; // learnable from the prompt
            }
            list.add(new PromptCompletionData.Example(prompt, completion));
        }
        return PromptCompletionData.of(list, 0);
    }

    @Test
    void aTinyModelOverfitsAShortText() throws IOException {
        GptModel model = GptModel.create(tiny(0), 3);
        Losses losses = new Losses();
        TrainingResult result = LmTraining.builder().model(model).data(TokenWindows.of(SHORT_TEXT))
                .batchSize(8).contextLength(32).optimizer(AdamW.builder().weightDecay(0).build())
                .schedule(LearningRateSchedule.cosine(1e-2).withWarmup(10).withFloor(1e-3))
                .maxSteps(150).progress(false).listener(losses).build().run();
        assertThat(losses.values.get(0)).as("starts near ln 64").isGreaterThan(3.5);
        assertThat(result.lastLoss()).as("ends near zero").isLessThan(0.1);
        double onText = LmTraining.evaluate(model, TokenWindows.of(SHORT_TEXT), 8, 0);
        assertThat(onText).isLessThan(0.1);
        assertThat(result.steps()).isEqualTo(150);
    }

    private static double[] run(long seed, int batch, int accumulation, TrainingData data, int steps) throws IOException {
        GptModel model = GptModel.create(tiny(0.1), 11);
        Losses losses = new Losses();
        LmTraining.builder().model(model).data(data).batchSize(batch).gradientAccumulation(accumulation)
                .learningRate(3e-3).clipGradNorm(1.0).maxSteps(steps).seed(seed).progress(false).listener(losses)
                .build().run();
        double[] out = new double[losses.values.size() + 1];
        for (int i = 0; i < losses.values.size(); i++) {
            out[i] = losses.values.get(i);
        }
        out[out.length - 1] = model.parameters().sumNumber().doubleValue();
        return out;
    }

    @Test
    void trainingIsDeterministicUnderASeed() throws IOException {
        TokenWindows data = TokenWindows.of(SHORT_TEXT);
        double[] a = run(5, 4, 2, data, 6);
        double[] b = run(5, 4, 2, data, 6);
        double[] c = run(6, 4, 2, data, 6);
        assertThat(b).as("same seed: bit-identical losses and weights").containsExactly(a);
        assertThat(c).as("another seed draws other windows and dropout masks").isNotEqualTo(a);
    }

    /** Keeps a copy of the gradient each step used (the optimizer reads it but does not change it). */
    static final class Gradients implements TrainingListener {
        final GptModel model;
        final List<float[]> values = new ArrayList<>();

        Gradients(GptModel model) {
            this.model = model;
        }

        @Override
        public void onStep(StepMetrics step) {
            values.add(model.gradients().toFloatVector());
        }
    }

    @Test
    void gradientAccumulationGivesTheSameUpdateAsTheLargeBatch() throws IOException {
        // prompt/completion rows of different lengths and target counts: the loss must be the mean over all targets
        // of the step, not a mean of per-micro-batch means
        PromptCompletionData data = pairs(40, 1);
        GptModel large = GptModel.create(tiny(0), 7);
        GptModel accumulated = GptModel.create(tiny(0), 7);
        Losses lLarge = new Losses();
        Losses lAcc = new Losses();
        Gradients gLarge = new Gradients(large);
        Gradients gAcc = new Gradients(accumulated);
        LmTraining.builder().model(large).data(data).batchSize(8).gradientAccumulation(1).learningRate(1e-2)
                .maxSteps(3).progress(false).listener(lLarge).listener(gLarge).build().run();
        LmTraining.builder().model(accumulated).data(data).batchSize(2).gradientAccumulation(4).learningRate(1e-2)
                .maxSteps(3).progress(false).listener(lAcc).listener(gAcc).build().run();
        for (int step = 0; step < 3; step++) {
            assertThat(lAcc.values.get(step)).as("loss of step %d", step + 1)
                    .isCloseTo(lLarge.values.get(step), within(1e-5));
            float[] a = gLarge.values.get(step);
            float[] b = gAcc.values.get(step);
            double diff = 0;
            double norm = 0;
            for (int i = 0; i < a.length; i++) {
                diff += (double) (a[i] - b[i]) * (a[i] - b[i]);
                norm += (double) a[i] * a[i];
            }
            assertThat(Math.sqrt(diff / norm)).as("relative gradient difference at step %d", step + 1)
                    .isLessThan(1e-5);
        }
        // Adam turns tiny gradients into full steps, so rounding noise can move a weight by up to 2 lr; most move
        // identically
        float[] pa = large.parameters().toFloatVector();
        float[] pb = accumulated.parameters().toFloatVector();
        long same = 0;
        for (int i = 0; i < pa.length; i++) {
            if (Math.abs(pa[i] - pb[i]) < 1e-5) {
                same++;
            }
        }
        assertThat((double) same / pa.length).isGreaterThan(0.99);
        assertThat(largestDifference(large.parameters(), GptModel.create(tiny(0), 7).parameters()))
                .as("the runs did train").isGreaterThan(1e-2);
    }

    static double largestDifference(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue();
    }

    @Test
    void theFirstStepMovesEachWeightByTheLearningRateAgainstItsGradient() throws IOException {
        // At t = 1 AdamW's step is lr * g / (|g| + eps) for the clipped gradient g: about -lr * sign(g) wherever
        // |g| >> eps.
        GptModel reference = GptModel.create(tiny(0), 9);
        TokenWindows data = TokenWindows.of(SHORT_TEXT);
        TokenBatch batch = data.batch(0, 4, 16, 77);
        reference.forwardBackward(batch, batch.validTargets(), false, 0);
        float[] g = reference.gradients().toFloatVector();
        float[] before = reference.parameters().toFloatVector();

        GptModel model = GptModel.create(tiny(0), 9);
        double lr = 1e-3;
        double clip = 0.5;
        LmTraining.builder().model(model).data(data).batchSize(4).contextLength(16).seed(77).learningRate(lr)
                .clipGradNorm(clip).optimizer(AdamW.builder().weightDecay(0).build()).maxSteps(1).progress(false)
                .build().run();
        double norm = 0;
        for (float x : g) {
            norm += (double) x * x;
        }
        norm = Math.sqrt(norm);
        double scale = Math.min(1, clip / (norm + 1e-6));
        assertThat(scale).as("this batch's gradient is clipped").isLessThan(1);
        float[] after = model.parameters().toFloatVector();
        int checked = 0;
        for (int i = 0; i < g.length; i++) {
            double gs = g[i] * scale;
            double expected = before[i] - lr * gs / (Math.abs(gs) + 1e-8); // m_hat = gs, sqrt(v_hat) = |gs|
            assertThat((double) after[i]).as("weight %d", i).isCloseTo(expected, within(1e-7 + 1e-6 * Math.abs(before[i])));
            if (Math.abs(gs) > 1e-6) {
                checked++;
            }
        }
        assertThat(checked).isGreaterThan(g.length / 4);
    }

    @Test
    void resumingFromACheckpointGivesTheSameLossesAsTheUninterruptedRun() throws IOException {
        // dropout, accumulation, warm-up + cosine and clipping all carry state that a resume must restore
        TokenWindows.Split data = TokenWindows.of(SHORT_TEXT).split(0.3);
        Path full = dir.resolve("full");
        Losses uninterrupted = new Losses();
        training(GptModel.create(tiny(0.1), 21), data, full).listener(uninterrupted).build().run();

        Path resumed = dir.resolve("resumed");
        Losses second = new Losses();
        AtomicCopy.copy(full.resolve("checkpoint-000004"), resumed.resolve("checkpoint-000004"));
        training(GptModel.create(tiny(0.1), 999), data, resumed).resume(true).listener(second).build().run();

        assertThat(second.values).hasSize(6);
        for (int i = 0; i < 6; i++) {
            assertThat(second.values.get(i)).as("step %d", i + 5)
                    .isEqualTo(uninterrupted.values.get(i + 4)); // bit for bit: same thread count, same kernels
        }
        GptModel a = HfCheckpoint.load(full.resolve(LmTraining.MODEL_DIRECTORY));
        GptModel b = HfCheckpoint.load(resumed.resolve(LmTraining.MODEL_DIRECTORY));
        assertThat(largestDifference(a.parameters(), b.parameters())).isZero();
    }

    private static LmTraining.Builder training(GptModel model, TokenWindows.Split data, Path out) {
        return LmTraining.builder().model(model).data(data.train()).validation(data.validation())
                .batchSize(4).gradientAccumulation(2).contextLength(16)
                .schedule(LearningRateSchedule.cosine(5e-3).withWarmup(3)).clipGradNorm(0.5)
                .maxSteps(10).evaluateEvery(3).checkpointEvery(4).keepCheckpoints(0)
                .outputDirectory(out).seed(3).progress(false);
    }

    /** Copies a directory tree (the test's stand-in for "the machine died after this checkpoint"). */
    static final class AtomicCopy {
        static void copy(Path from, Path to) throws IOException {
            Files.createDirectories(to);
            try (var files = Files.list(from)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    Files.copy(f, to.resolve(f.getFileName()));
                }
            }
        }
    }

    @Test
    void checkpointsHoldAnHfModelOptimizerAndStateAndOldOnesArePruned() throws IOException {
        Path out = dir.resolve("run");
        GptModel model = GptModel.create(tiny(0), 2);
        TokenWindows.Split data = TokenWindows.of(SHORT_TEXT).split(0.3);
        LmTraining.builder().model(model).data(data.train()).validation(data.validation()).batchSize(2)
                .contextLength(16).learningRate(1e-3).maxSteps(7).checkpointEvery(2).evaluateEvery(3)
                .outputDirectory(out).progress(false).build().run();

        assertThat(LmTraining.checkpoints(out)).extracting(p -> p.getFileName().toString())
                .containsExactly("checkpoint-000006", "checkpoint-000007");
        Path last = out.resolve("checkpoint-000007");
        assertThat(last.resolve("config.json")).exists();
        assertThat(last.resolve("model.safetensors")).exists();
        assertThat(last.resolve("optimizer.safetensors")).exists();
        GptModel saved = HfCheckpoint.load(last);
        assertThat(largestDifference(saved.parameters(), model.parameters())).isZero();
        assertThat(HfCheckpoint.load(out.resolve("model")).config()).isEqualTo(model.config());
        assertThat(out.resolve("best/model.safetensors")).exists();

        JsonNode state = new ObjectMapper().readTree(last.resolve("trainer_state.json").toFile());
        assertThat(state.get("step").asLong()).isEqualTo(7);
        assertThat(state.at("/data/micro_batches").asLong()).isEqualTo(7);
        assertThat(state.at("/optimizer/updates").asLong()).isEqualTo(7);
        assertThat(state.at("/schedule/kind").asText()).isEqualTo("constant");
        try (var stray = Files.list(out)) {
            assertThat(stray.map(p -> p.getFileName().toString()))
                    .noneMatch(n -> n.startsWith(".") && !n.equals(RunDirectory.LOCK_FILE));
        }
        assertThat(out.resolve(RunDirectory.LOCK_FILE)).isEmptyFile(); // released

        List<String> lines = Files.readAllLines(out.resolve(LmTraining.METRICS_FILE));
        ObjectMapper json = new ObjectMapper();
        long steps = 0;
        long evaluations = 0;
        for (String line : lines) {
            JsonNode o = json.readTree(line);
            switch (o.get("event").asText()) {
                case "step" -> {
                    steps++;
                    assertThat(o.get("step").asLong()).isEqualTo(steps);
                    assertThat(o.get("loss").asDouble()).isPositive();
                    assertThat(o.get("grad_norm").asDouble()).isPositive();
                    assertThat(o.get("lr").asDouble()).isEqualTo(1e-3);
                }
                case "evaluation" -> {
                    evaluations++;
                    assertThat(o.get("val_perplexity").asDouble())
                            .isCloseTo(Math.exp(o.get("val_loss").asDouble()), within(1e-9));
                }
                default -> {
                }
            }
        }
        assertThat(steps).isEqualTo(7);
        assertThat(evaluations).as("steps 3, 6 and the last").isEqualTo(3);
    }

    /** Wraps a model and poisons one step, as a too-high learning rate or a bad batch would. */
    static final class Poisoned implements Trainable {
        final Trainable inner;
        final int poisonedCall;
        final boolean inGradient;
        int calls;

        Poisoned(GptModel model, int poisonedCall, boolean inGradient) {
            this.inner = Trainable.of(model);
            this.poisonedCall = poisonedCall;
            this.inGradient = inGradient;
        }

        @Override
        public List<TrainableTensor> tensors() {
            return inner.tensors();
        }

        @Override
        public INDArray parameters() {
            return inner.parameters();
        }

        @Override
        public INDArray gradients() {
            return inner.gradients();
        }

        @Override
        public double forwardBackward(TokenBatch batch, double lossDivisor, boolean accumulate, long dropoutSeed) {
            double loss = inner.forwardBackward(batch, lossDivisor, accumulate, dropoutSeed);
            if (++calls == poisonedCall) {
                if (!inGradient) {
                    return Double.NaN;
                }
                inner.gradients().putScalar(123, Float.POSITIVE_INFINITY);
            }
            return loss;
        }

        @Override
        public double loss(TokenBatch batch) {
            return inner.loss(batch);
        }

        @Override
        public int contextLength() {
            return inner.contextLength();
        }

        @Override
        public void save(Path directory) throws IOException {
            inner.save(directory);
        }

        @Override
        public void load(Path directory) throws IOException {
            inner.load(directory);
        }
    }

    @Test
    void aNanLossStopsTheRunNamingTheStepAndKeepsTheLastGoodCheckpoint() throws IOException {
        for (boolean inGradient : new boolean[] {false, true}) {
            Path out = dir.resolve("nan-" + inGradient);
            GptModel model = GptModel.create(tiny(0), 4);
            Poisoned poisoned = new Poisoned(model, 5, inGradient); // step 5's forward/backward
            List<Long> stepsSeen = new ArrayList<>();
            LmTraining training = LmTraining.builder().trainable(poisoned).data(TokenWindows.of(SHORT_TEXT))
                    .batchSize(2).contextLength(16).learningRate(1e-3).maxSteps(10).checkpointEvery(2)
                    .outputDirectory(out).progress(false).listener(new TrainingListener() {
                        @Override
                        public void onStep(StepMetrics s) {
                            stepsSeen.add(s.step());
                        }
                    }).build();
            float[][] before = new float[1][];
            assertThatThrownBy(() -> {
                try {
                    training.run();
                } finally {
                    before[0] = model.parameters().toFloatVector();
                }
            }).isInstanceOfSatisfying(TrainingDivergedException.class, e -> {
                assertThat(e.step()).isEqualTo(5);
                assertThat(e.getMessage()).contains("at step 5")
                        .contains(inGradient ? "gradient norm is Infinity" : "loss is NaN")
                        .contains("checkpoint-000004");
            });
            assertThat(stepsSeen).containsExactly(1L, 2L, 3L, 4L);
            assertThat(LmTraining.checkpoints(out)).extracting(p -> p.getFileName().toString())
                    .containsExactly("checkpoint-000002", "checkpoint-000004");
            GptModel lastGood = HfCheckpoint.load(out.resolve("checkpoint-000004"));
            assertThat(largestDifference(lastGood.parameters(), model.parameters()))
                    .as("the bad step was not applied").isZero();
            assertThat(out.resolve("model")).doesNotExist();
        }
    }

    @Test
    void earlyStoppingEndsWithTheBestWeights() throws IOException {
        // train on a repeating pattern, validate on uniformly random tokens: the untrained model's near-uniform
        // predictions are the best possible there, so validation loss only gets worse
        int[] pattern = new int[400];
        for (int i = 0; i < pattern.length; i++) {
            pattern[i] = (i * 5) % 17 + 1;
        }
        int[] noise = new int[400];
        Random r = new Random(1);
        for (int i = 0; i < noise.length; i++) {
            noise[i] = r.nextInt(64);
        }
        GptModel model = GptModel.create(tiny(0), 5);
        TokenWindows validation = TokenWindows.of(noise);
        List<Double> evaluations = new ArrayList<>();
        TrainingResult result = LmTraining.builder().model(model).data(TokenWindows.of(pattern))
                .validation(validation).batchSize(4).contextLength(16).learningRate(1e-2).maxSteps(100)
                .evaluateEvery(2).evaluationBatches(0).earlyStopping(3).progress(false)
                .listener(new TrainingListener() {
                    @Override
                    public void onEvaluation(EvaluationMetrics e) {
                        evaluations.add(e.loss());
                    }
                }).build().run();
        assertThat(result.stoppedEarly()).isTrue();
        assertThat(result.steps()).isLessThan(100);
        assertThat(evaluations).hasSize(4); // the best, then three without improvement
        assertThat(result.bestStep()).isEqualTo(2);
        assertThat(result.restoredBest()).isTrue();
        assertThat(result.bestValidationLoss()).isEqualTo(evaluations.stream().mapToDouble(d -> d).min().orElseThrow());
        assertThat(LmTraining.meanLoss(Trainable.of(model), validation.evaluationBatches(4, 16, 0)))
                .as("the model holds the best weights").isCloseTo(result.bestValidationLoss(), within(1e-9));
        assertThat(evaluations.get(3)).isGreaterThan(result.bestValidationLoss());
    }

    @Test
    void badSettingsAreListedTogether() {
        assertThatThrownBy(() -> LmTraining.builder().model(GptModel.create(tiny(0), 1)).batchSize(0)
                .contextLength(64).maxSteps(0).earlyStopping(2).checkpointEvery(5).build())
                .hasMessageContaining("no training data")
                .hasMessageContaining("batchSize must be at least 1")
                .hasMessageContaining("contextLength must be in [1, 32], got 64")
                .hasMessageContaining("maxSteps")
                .hasMessageContaining("earlyStopping needs validation data")
                .hasMessageContaining("need an outputDirectory");
    }
}
