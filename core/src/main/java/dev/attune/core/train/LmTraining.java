package dev.attune.core.train;
import dev.attune.core.data.TokenFile;
import dev.attune.core.data.TokenWindows;
import dev.attune.core.data.TrainingData;
import dev.attune.core.data.Seeds;

import dev.attune.core.io.AtomicFiles;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains a language model: pretraining from scratch, continued pretraining, full fine-tuning, and (through
 * {@link Trainable}) adapter training, all in one loop.
 *
 * <pre>{@code
 * TokenWindows.Split data = TokenWindows.of(TokenFile.open(Path.of("corpus.bin"))).split(0.1);
 * TrainingResult result = LmTraining.builder()
 *         .model(GptModel.create(GptConfig.tiny(), 1))
 *         .data(data.train()).validation(data.validation())
 *         .batchSize(8).gradientAccumulation(4).contextLength(256)
 *         .optimizer(AdamW.builder().weightDecay(0.1).betas(0.9, 0.95).build())
 *         .schedule(LearningRateSchedule.cosine(6e-4).withWarmup(100).withFloor(6e-5))
 *         .clipGradNorm(1.0).maxSteps(5000).evaluateEvery(250).earlyStopping(4)
 *         .outputDirectory(Path.of("runs/tiny")).checkpointEvery(500)
 *         .build()
 *         .run();
 * }</pre>
 *
 * <p>One step: {@code gradientAccumulation} micro-batches go forward and backward, their gradients summing to that
 * of the mean loss over all their targets (so accumulation gives the same update as one large batch); the global
 * gradient norm is measured (and the run stops with {@link TrainingDivergedException} if it, or the loss, is not
 * finite); the gradient is clipped to {@code clipGradNorm}; AdamW updates the weights at the schedule's rate.
 *
 * <p>With an output directory, a run writes there:
 * <ul>
 *   <li>{@code metrics.jsonl}: one JSON object per step, validation pass and checkpoint;</li>
 *   <li>{@code checkpoint-NNNNNN/}: every {@code checkpointEvery} steps and at the end, the model (a Hugging Face
 *       checkpoint for full models), {@code optimizer.safetensors} and {@code trainer_state.json}, each directory
 *       written atomically; the newest {@code keepCheckpoints} are kept;</li>
 *   <li>{@code best/}: the weights of the best validation loss, when validating;</li>
 *   <li>{@code model/}: the final model (the best weights when early stopping chose them).</li>
 * </ul>
 * Resuming from a checkpoint ({@link Builder#resumeFrom}, or {@link Builder#resume} for the newest one) continues
 * with the same data, dropout and schedule as if the run had never stopped.
 *
 * <p>The run owns its output directory while it runs ({@link RunDirectory}): a second run on the same directory is
 * refused; a directory that holds an earlier run's files is refused unless the run resumes it or
 * {@link Builder#overwrite overwrites} it; and a resumed run must match what the checkpoint recorded (the trained
 * tensors, the data and its files by SHA-256, the batch shape, seed, optimizer and schedule), else it is refused
 * with the differences listed. Changing the number of steps is allowed, with a warning.
 *
 * <p>Named {@code LmTraining} rather than {@code Trainer} to stay clear of Tribuo's {@code Trainer} interface.
 */
public final class LmTraining {

    private static final Logger LOG = LoggerFactory.getLogger(LmTraining.class);
    private static final Pattern CHECKPOINT = Pattern.compile("checkpoint-(\\d+)");

    /** File names inside the output directory. */
    public static final String METRICS_FILE = "metrics.jsonl";
    public static final String MODEL_DIRECTORY = "model";
    public static final String BEST_DIRECTORY = "best";
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";

    private final Trainable trainable;
    private final TrainingData data;
    private final TrainingData validation;
    private final int batchSize;
    private final int accumulation;
    private final int maxLength;
    private final AdamW adamW;
    private final LearningRateSchedule schedule;
    private final double clipGradNorm;
    private final long maxSteps;
    private final long seed;
    private final int evaluateEvery;
    private final int evaluationBatches;
    private final int patience;
    private final double minDelta;
    private final Path outputDirectory;
    private final int checkpointEvery;
    private final int keepCheckpoints;
    private final Path resumeFrom;
    private final boolean resumeLatest;
    private final boolean overwrite;
    private final RunDirectory givenRunDirectory;
    private final List<Path> dataFiles;
    private final boolean saveModel;
    private final PrintStream progress;
    private final boolean progressInteractive;
    private final List<TrainingListener> listeners;
    private boolean used;
    private TrainerState.Inputs inputs;

    private LmTraining(Builder b) {
        this.trainable = b.trainable;
        this.data = b.data;
        this.validation = b.validation;
        this.batchSize = b.batchSize;
        this.accumulation = b.accumulation;
        this.maxLength = b.contextLength == null ? b.trainable.contextLength() : b.contextLength;
        this.adamW = b.adamW;
        this.schedule = b.schedule.totalSteps() == 0 && b.schedule.kind() != LearningRateSchedule.Kind.CONSTANT
                ? b.schedule.withTotalSteps(b.maxSteps) : b.schedule;
        this.clipGradNorm = b.clipGradNorm;
        this.maxSteps = b.maxSteps;
        this.seed = b.seed;
        this.evaluateEvery = b.evaluateEvery;
        this.evaluationBatches = b.evaluationBatches;
        this.patience = b.patience;
        this.minDelta = b.minDelta;
        this.outputDirectory = b.outputDirectory;
        this.checkpointEvery = b.checkpointEvery;
        this.keepCheckpoints = b.keepCheckpoints;
        this.resumeFrom = b.resumeFrom;
        this.resumeLatest = b.resumeLatest;
        this.overwrite = b.overwrite;
        this.givenRunDirectory = b.runDirectory;
        this.dataFiles = List.copyOf(b.dataFiles);
        this.saveModel = b.saveModel;
        this.progress = b.progress;
        this.progressInteractive = b.progressInteractive;
        this.listeners = List.copyOf(b.listeners);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The learning-rate schedule with its length filled in. */
    public LearningRateSchedule schedule() {
        return schedule;
    }

    /** The training context: the most positions per row. */
    public int contextLength() {
        return maxLength;
    }

    // ----------------------------------------------------------------------------------------------- the loop

    /** Mutable bookkeeping of one run. */
    private static final class Progress {
        long step;
        long microBatches;
        long tokens;
        double elapsedBefore;
        double lastLoss = Double.NaN;
        double bestLoss = Double.NaN;
        long bestStep;
        int badEvaluations;
        INDArray bestWeights;
    }

    /**
     * Runs the training to {@code maxSteps} (or until early stopping) and saves the final model when an output
     * directory is set.
     *
     * @throws TrainingDivergedException when the loss or gradient becomes NaN or infinite (the message names the step)
     * @throws IOException               when a checkpoint cannot be read or written
     */
    public TrainingResult run() throws IOException {
        if (used) {
            throw new IllegalStateException("this LmTraining has already run; build a new one");
        }
        used = true;
        RunDirectory owned = null;
        if (givenRunDirectory == null && outputDirectory != null) {
            owned = RunDirectory.open(outputDirectory, overwrite ? RunDirectory.Mode.OVERWRITE
                    : resumeLatest || resumesInside() ? RunDirectory.Mode.RESUME : RunDirectory.Mode.NEW);
        }
        try {
            return runIn();
        } finally {
            if (owned != null) {
                owned.close();
            }
        }
    }

    /** Whether {@code resumeFrom} is a checkpoint of the output directory itself (rather than of another run). */
    private boolean resumesInside() {
        return resumeFrom != null && outputDirectory != null && resumeFrom.toAbsolutePath().normalize().getParent()
                .equals(outputDirectory.toAbsolutePath().normalize());
    }

    private TrainingResult runIn() throws IOException {
        List<TrainerState.DataFile> hashes = new ArrayList<>();
        for (Path f : dataFiles) {
            hashes.add(TrainerState.DataFile.of(f));
        }
        inputs = new TrainerState.Inputs(trainable.tensors().stream()
                .map(t -> t.name() + " " + java.util.Arrays.toString(t.shape())).toList(), data.description(), hashes);
        AdamWOptimizer optimizer = new AdamWOptimizer(adamW, trainable.parameters(), trainable.gradients(),
                trainable.tensors());
        Progress p = new Progress();
        Path resumeDir = resumeDirectory();
        if (resumeDir != null) {
            restore(resumeDir, optimizer, p);
        } else if (resumeLatest && outputDirectory != null) {
            LOG.warn("{} holds no checkpoint to resume from: the run starts at step 0", outputDirectory);
        }
        List<TrainingListener> all = new ArrayList<>();
        MetricsLog metrics = outputDirectory == null ? null
                : new MetricsLog(outputDirectory.resolve(METRICS_FILE), p.step);
        if (metrics != null) {
            all.add(metrics);
        }
        if (progress != null) {
            all.add(new ProgressReporter(progress, progressInteractive));
        }
        all.addAll(listeners);
        try {
            return loop(optimizer, p, all);
        } finally {
            if (metrics != null) {
                metrics.close();
            }
        }
    }

    private TrainingResult loop(AdamWOptimizer optimizer, Progress p, List<TrainingListener> all) throws IOException {
        long truncated = data.truncatedExamples(maxLength);
        if (truncated > 0) {
            LOG.warn("{} training examples are longer than the context ({} positions) and are cut", truncated, maxLength);
        }
        long parameters = trainable.tensors().stream().mapToLong(TrainableTensor::length).sum();
        TrainingListener.TrainingStart start = new TrainingListener.TrainingStart(p.step, maxSteps, parameters,
                (long) batchSize * accumulation * maxLength, truncated, data.description());
        for (TrainingListener l : all) {
            l.onStart(start);
        }
        List<TokenBatch> evalBatches = validation == null ? List.of()
                : validation.evaluationBatches(batchSize, maxLength, evaluationBatches);
        long runStartStep = p.step;
        long runStartNanos = System.nanoTime();
        long runTokens = 0;
        boolean stoppedEarly = false;
        Path lastCheckpoint = resumeDirectory();

        while (p.step < maxSteps) {
            long stepNumber = p.step + 1;
            double lr = schedule.at(p.step);
            TokenBatch[] micro = new TokenBatch[accumulation];
            long targets = 0;
            long tokens = 0;
            for (int k = 0; k < accumulation; k++) {
                micro[k] = data.batch(p.microBatches + k, batchSize, maxLength, seed);
                targets += micro[k].validTargets();
                tokens += micro[k].positions();
            }
            if (targets == 0) {
                throw new IllegalStateException("step " + stepNumber + " has no target tokens to learn from ("
                        + data.description() + ")");
            }
            double lossSum = 0;
            for (int k = 0; k < accumulation; k++) {
                long dropoutSeed = Seeds.of(seed, p.microBatches + k, 0x64726f70L); // "drop"
                lossSum += trainable.forwardBackward(micro[k], targets, k > 0, dropoutSeed);
            }
            double loss = lossSum / targets;
            if (!Double.isFinite(loss)) {
                throw diverged(stepNumber, "the training loss is " + loss, lr, lastCheckpoint);
            }
            double norm = optimizer.gradientNorm();
            if (!Double.isFinite(norm)) {
                throw diverged(stepNumber, "the gradient norm is " + norm + " (loss " + loss + ")", lr, lastCheckpoint);
            }
            // PyTorch's clip_grad_norm_: scale by max_norm / (norm + 1e-6) when that is below 1
            double scale = clipGradNorm > 0 ? Math.min(1.0, clipGradNorm / (norm + 1e-6)) : 1.0;
            optimizer.update(lr, scale);
            p.step = stepNumber;
            p.microBatches += accumulation;
            p.tokens += tokens;
            p.lastLoss = loss;
            runTokens += tokens;

            double runSeconds = (System.nanoTime() - runStartNanos) / 1e9;
            double perStep = runSeconds / (p.step - runStartStep);
            TrainingListener.StepMetrics m = new TrainingListener.StepMetrics(p.step, maxSteps, loss, lr, norm,
                    scale < 1, tokens, runTokens / Math.max(runSeconds, 1e-9), p.elapsedBefore + runSeconds,
                    perStep * (maxSteps - p.step));
            for (TrainingListener l : all) {
                l.onStep(m);
            }

            boolean last = p.step == maxSteps;
            if (!evalBatches.isEmpty() && (last || (evaluateEvery > 0 && p.step % evaluateEvery == 0))) {
                stoppedEarly = evaluate(evalBatches, p, all) && !last;
            }
            if (outputDirectory != null && (last || stoppedEarly
                    || (checkpointEvery > 0 && p.step % checkpointEvery == 0))) {
                lastCheckpoint = checkpoint(optimizer, p, runSeconds);
                for (TrainingListener l : all) {
                    l.onCheckpoint(p.step, lastCheckpoint);
                }
            }
            if (stoppedEarly) {
                break;
            }
        }

        boolean restoreBest = patience > 0 && p.bestWeights != null && p.bestStep != p.step;
        if (restoreBest) {
            trainable.parameters().assign(p.bestWeights);
        }
        Optional<Path> saved = Optional.empty();
        if (outputDirectory != null && saveModel) {
            Path dir = outputDirectory.resolve(MODEL_DIRECTORY);
            AtomicFiles.writeDirectory(dir, trainable::save);
            saved = Optional.of(dir);
        }
        TrainingResult result = new TrainingResult(p.step, p.lastLoss, p.bestLoss, p.bestStep, stoppedEarly,
                restoreBest, saved);
        for (TrainingListener l : all) {
            l.onEnd(result);
        }
        return result;
    }

    private static TrainingDivergedException diverged(long step, String what, double lr, Path lastCheckpoint) {
        return new TrainingDivergedException(step, String.format(Locale.ROOT,
                "training diverged at step %d: %s (learning rate %.3g); the update was not applied. %s", step, what, lr,
                lastCheckpoint == null ? "No checkpoint was written before it."
                        : "The last good checkpoint is " + lastCheckpoint + "; lower the learning rate or clip "
                        + "gradients (clipGradNorm) and resume from it."));
    }

    /** Validation pass; returns true when early stopping's patience has run out. */
    private boolean evaluate(List<TokenBatch> batches, Progress p, List<TrainingListener> all) throws IOException {
        double loss = meanLoss(trainable, batches);
        boolean improved = Double.isNaN(p.bestLoss) || loss < p.bestLoss - minDelta;
        if (improved) {
            p.bestLoss = loss;
            p.bestStep = p.step;
            p.badEvaluations = 0;
            if (patience > 0) {
                if (p.bestWeights == null) {
                    p.bestWeights = trainable.parameters().dup();
                } else {
                    p.bestWeights.assign(trainable.parameters());
                }
            }
            if (outputDirectory != null) {
                AtomicFiles.writeDirectory(outputDirectory.resolve(BEST_DIRECTORY), trainable::save);
            }
        } else {
            p.badEvaluations++;
        }
        TrainingListener.EvaluationMetrics e = new TrainingListener.EvaluationMetrics(p.step, loss, Math.exp(loss),
                improved, p.bestLoss, p.bestStep);
        for (TrainingListener l : all) {
            l.onEvaluation(e);
        }
        return patience > 0 && p.badEvaluations >= patience;
    }

    /** Mean cross-entropy per target over the batches, without dropout. */
    static double meanLoss(Trainable model, List<TokenBatch> batches) {
        double sum = 0;
        long targets = 0;
        for (TokenBatch b : batches) {
            sum += model.loss(b);
            targets += b.validTargets();
        }
        if (targets == 0) {
            throw new IllegalStateException("the validation data has no target tokens");
        }
        return sum / targets;
    }

    /**
     * The mean cross-entropy per target of {@code model} on {@code data}'s evaluation batches (at most
     * {@code maxBatches}, 0 = all); {@code exp} of it is the perplexity.
     */
    public static double evaluate(GptModel model, TrainingData data, int batchSize, int maxBatches) {
        return evaluate(model, data, batchSize, model.config().contextLength(), maxBatches);
    }

    /**
     * As {@link #evaluate(GptModel, TrainingData, int, int)} with rows of at most {@code contextLength} positions: with
     * a run's batch size, context length and {@link Builder#evaluationBatches} this is the validation loss its
     * evaluations report (the loss depends on the context each prediction sees).
     */
    public static double evaluate(GptModel model, TrainingData data, int batchSize, int contextLength,
                                  int maxBatches) {
        return meanLoss(Trainable.of(model), data.evaluationBatches(batchSize, contextLength, maxBatches));
    }

    // ------------------------------------------------------------------------------------------- checkpoints

    static String checkpointName(long step) {
        return String.format(Locale.ROOT, "checkpoint-%06d", step);
    }

    private Path checkpoint(AdamWOptimizer optimizer, Progress p, double runSeconds) throws IOException {
        Path dir = outputDirectory.resolve(checkpointName(p.step));
        TrainerState state = new TrainerState(p.step, maxSteps, seed, p.microBatches, batchSize, accumulation,
                maxLength, schedule, adamW, optimizer.step(), clipGradNorm, p.bestLoss, p.bestStep, p.badEvaluations,
                p.tokens, p.elapsedBefore + runSeconds, p.lastLoss, inputs);
        AtomicFiles.writeDirectory(dir, d -> {
            trainable.save(d);
            OptimizerStates.write(d.resolve(OPTIMIZER_FILE), optimizer, trainable.tensors());
            state.write(d);
        });
        if (keepCheckpoints > 0) {
            List<Path> existing = checkpoints(outputDirectory);
            for (int i = 0; i < existing.size() - keepCheckpoints; i++) {
                AtomicFiles.deleteTree(existing.get(i));
            }
        }
        return dir;
    }

    /** Checkpoint directories under {@code directory}, oldest step first. */
    public static List<Path> checkpoints(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> list = Files.list(directory)) {
            return list.filter(d -> Files.isDirectory(d) && CHECKPOINT.matcher(d.getFileName().toString()).matches()
                            && Files.isRegularFile(d.resolve(TrainerState.FILE)))
                    .sorted((a, b) -> Long.compare(stepOf(a), stepOf(b)))
                    .toList();
        }
    }

    private static long stepOf(Path checkpoint) {
        Matcher m = CHECKPOINT.matcher(checkpoint.getFileName().toString());
        return m.matches() ? Long.parseLong(m.group(1)) : -1;
    }

    private Path resumeDirectory() throws IOException {
        if (resumeFrom != null) {
            return resumeFrom;
        }
        if (resumeLatest) {
            List<Path> all = checkpoints(outputDirectory);
            return all.isEmpty() ? null : all.get(all.size() - 1);
        }
        return null;
    }

    private void restore(Path dir, AdamWOptimizer optimizer, Progress p) throws IOException {
        TrainerState s = TrainerState.read(dir);
        if (s.step() > maxSteps) {
            throw new IllegalArgumentException("checkpoint " + dir + " is at step " + s.step()
                    + ", past this run's maxSteps " + maxSteps);
        }
        ResumeCheck check = ResumeCheck.compare(s, new TrainerState(0, maxSteps, seed, 0, batchSize, accumulation,
                maxLength, schedule, adamW, 0, clipGradNorm, Double.NaN, 0, 0, 0, 0, Double.NaN, inputs));
        if (!check.problems().isEmpty()) {
            throw new IllegalArgumentException("cannot resume " + dir + ": this run differs from the one it saved: "
                    + String.join("; ", check.problems()) + ". Use the saved settings, or start a new run "
                    + "(another output directory, or overwrite)");
        }
        for (String w : check.warnings()) {
            LOG.warn("resuming {}: {}", dir, w);
        }
        trainable.load(dir);
        OptimizerStates.read(dir.resolve(OPTIMIZER_FILE), optimizer, trainable.tensors(), s.optimizerUpdates());
        p.step = s.step();
        p.microBatches = s.microBatches();
        p.tokens = s.tokens();
        p.elapsedBefore = s.elapsedSeconds();
        p.lastLoss = s.lastLoss();
        p.bestLoss = s.bestValidationLoss();
        p.bestStep = s.bestStep();
        p.badEvaluations = s.evaluationsWithoutImprovement();
        if (patience > 0 && !Double.isNaN(p.bestLoss) && outputDirectory != null
                && Files.isDirectory(outputDirectory.resolve(BEST_DIRECTORY))) {
            INDArray current = trainable.parameters().dup();
            trainable.load(outputDirectory.resolve(BEST_DIRECTORY));
            p.bestWeights = trainable.parameters().dup();
            trainable.parameters().assign(current);
        }
    }

    // ------------------------------------------------------------------------------------------------ builder

    /** Fluent builder; {@link #build()} checks the combination. */
    public static final class Builder {
        private Trainable trainable;
        private TrainingData data;
        private TrainingData validation;
        private int batchSize = 8;
        private int accumulation = 1;
        private Integer contextLength; // null: the model's
        private AdamW adamW = AdamW.defaults();
        private LearningRateSchedule schedule = LearningRateSchedule.constant(3e-4);
        private double clipGradNorm;
        private long maxSteps;
        private long seed = 1337;
        private int evaluateEvery;
        private int evaluationBatches = 20;
        private int patience;
        private double minDelta;
        private Path outputDirectory;
        private int checkpointEvery;
        private int keepCheckpoints = 2;
        private Path resumeFrom;
        private boolean resumeLatest;
        private boolean overwrite;
        private RunDirectory runDirectory;
        private final List<Path> dataFiles = new ArrayList<>();
        private boolean saveModel = true;
        private PrintStream progress = System.err;
        private boolean progressInteractive = System.console() != null;
        private final List<TrainingListener> listeners = new ArrayList<>();

        private Builder() {
        }

        /** Trains every weight of {@code model}. */
        public Builder model(GptModel model) {
            this.trainable = Trainable.of(model);
            return this;
        }

        /** Trains what {@code trainable} exposes (e.g. adapter weights). */
        public Builder trainable(Trainable trainable) {
            this.trainable = trainable;
            return this;
        }

        public Builder data(TrainingData data) {
            this.data = data;
            return this;
        }

        /** Validation data: evaluated every {@link #evaluateEvery} steps and at the end. */
        public Builder validation(TrainingData validation) {
            this.validation = validation;
            return this;
        }

        /** Rows per micro-batch (default 8). */
        public Builder batchSize(int rows) {
            this.batchSize = rows;
            return this;
        }

        /** Micro-batches per optimizer step (default 1): the effective batch is batchSize x this. */
        public Builder gradientAccumulation(int microBatches) {
            this.accumulation = microBatches;
            return this;
        }

        /** Positions per row (default: the model's context length). */
        public Builder contextLength(int positions) {
            this.contextLength = positions;
            return this;
        }

        public Builder optimizer(AdamW adamW) {
            this.adamW = adamW;
            return this;
        }

        /** The learning-rate schedule (default constant 3e-4); a decay without a length decays over maxSteps. */
        public Builder schedule(LearningRateSchedule schedule) {
            this.schedule = schedule;
            return this;
        }

        /** Shorthand for a constant learning rate. */
        public Builder learningRate(double lr) {
            this.schedule = LearningRateSchedule.constant(lr);
            return this;
        }

        /** Clips the global gradient norm to {@code maxNorm} (0 = no clipping; the norm is logged either way). */
        public Builder clipGradNorm(double maxNorm) {
            this.clipGradNorm = maxNorm;
            return this;
        }

        /** Optimizer steps to train for (required). */
        public Builder maxSteps(long steps) {
            this.maxSteps = steps;
            return this;
        }

        /** Seed of data sampling and dropout (default 1337). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Validates every {@code steps} steps (0 = only at the end). */
        public Builder evaluateEvery(int steps) {
            this.evaluateEvery = steps;
            return this;
        }

        /** At most this many validation batches per evaluation (default 20; 0 = all). */
        public Builder evaluationBatches(int batches) {
            this.evaluationBatches = batches;
            return this;
        }

        /**
         * Stops after {@code patience} validations in a row without improvement, and ends with the weights of the
         * best validation loss.
         */
        public Builder earlyStopping(int patience) {
            this.patience = patience;
            return this;
        }

        /** An improvement smaller than this does not count for early stopping (default 0). */
        public Builder earlyStoppingMinDelta(double delta) {
            this.minDelta = delta;
            return this;
        }

        /**
         * Where metrics, checkpoints and the final model go; without one nothing is written. The run locks it and
         * refuses one that holds another run's files unless it {@link #resume resumes} or {@link #overwrite
         * overwrites} that run (see {@link RunDirectory}).
         */
        public Builder outputDirectory(Path directory) {
            this.outputDirectory = directory;
            return this;
        }

        /** Deletes an earlier run's files from the output directory before starting (default false). */
        public Builder overwrite(boolean overwrite) {
            this.overwrite = overwrite;
            return this;
        }

        /**
         * Trains into a run directory opened (and locked) beforehand, e.g. to write the tokenized corpus into it
         * first; its {@link RunDirectory#mode() mode} decides whether the run resumes. The caller closes it.
         */
        public Builder runDirectory(RunDirectory directory) {
            this.runDirectory = directory;
            this.outputDirectory = directory.path();
            this.resumeLatest = directory.mode() == RunDirectory.Mode.RESUME;
            this.overwrite = false; // done when it was opened
            return this;
        }

        /**
         * The files the training and validation data were read from. Their SHA-256 is recorded in every
         * checkpoint, and resuming with files of other content is refused.
         */
        public Builder dataFiles(List<Path> files) {
            this.dataFiles.clear();
            this.dataFiles.addAll(files);
            return this;
        }

        /** Writes a checkpoint every {@code steps} steps (0 = only at the end); needs an output directory. */
        public Builder checkpointEvery(int steps) {
            this.checkpointEvery = steps;
            return this;
        }

        /** How many checkpoints to keep, newest first (default 2; 0 = all). */
        public Builder keepCheckpoints(int count) {
            this.keepCheckpoints = count;
            return this;
        }

        /** Continues the run saved in {@code checkpointDirectory}. */
        public Builder resumeFrom(Path checkpointDirectory) {
            this.resumeFrom = checkpointDirectory;
            return this;
        }

        /** Continues from the newest checkpoint in the output directory, if there is one. */
        public Builder resume(boolean latest) {
            this.resumeLatest = latest;
            return this;
        }

        /** Whether to save the final model to {@code <output>/model} (default true). */
        public Builder saveModel(boolean save) {
            this.saveModel = save;
            return this;
        }

        /** Shows the progress line on standard error (the default) or not. */
        public Builder progress(boolean show) {
            this.progress = show ? System.err : null;
            return this;
        }

        /** Shows the progress on {@code out}; {@code interactive} redraws one line in place instead of printing lines. */
        public Builder progress(PrintStream out, boolean interactive) {
            this.progress = out;
            this.progressInteractive = interactive;
            return this;
        }

        public Builder listener(TrainingListener listener) {
            this.listeners.add(listener);
            return this;
        }

        /** Checks the settings together; the message lists every problem found. */
        public LmTraining build() {
            List<String> problems = new ArrayList<>();
            if (trainable == null) {
                problems.add("no model: call model(...) or trainable(...)");
            }
            if (data == null) {
                problems.add("no training data: call data(...)");
            }
            problems.addAll(settingsProblems());
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("Invalid training setup: " + String.join("; ", problems));
            }
            return new LmTraining(this);
        }

        /**
         * Checks what is set so far, before the model or the data are there: call it before slow work (reading and
         * tokenizing data, loading a model) so that a mistake in the settings shows at once. With a model set, this
         * includes the context length and the memory estimate.
         *
         * @throws IllegalArgumentException listing every problem found
         */
        public Builder validate() {
            List<String> problems = settingsProblems();
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("Invalid training setup: " + String.join("; ", problems));
            }
            return this;
        }

        private List<String> settingsProblems() {
            List<String> problems = new ArrayList<>();
            if (batchSize < 1) {
                problems.add("batchSize must be at least 1, got " + batchSize);
            }
            if (accumulation < 1) {
                problems.add("gradientAccumulation must be at least 1, got " + accumulation);
            }
            if (contextLength != null && (contextLength < 1
                    || (trainable != null && contextLength > trainable.contextLength()))) {
                problems.add("contextLength must be in [1, " + (trainable == null ? "model context" : trainable.contextLength())
                        + "], got " + contextLength);
            } else if (trainable != null && batchSize >= 1) {
                memoryProblem(contextLength != null ? contextLength : trainable.contextLength())
                        .ifPresent(problems::add);
            }
            if (schedule == null || adamW == null) {
                problems.add("the optimizer and the learning-rate schedule must not be null");
            }
            if (maxSteps < 1) {
                problems.add("maxSteps must be at least 1, got " + maxSteps);
            }
            if (!(clipGradNorm >= 0) || Double.isInfinite(clipGradNorm)) {
                problems.add("clipGradNorm must be 0 (off) or positive, got " + clipGradNorm);
            }
            if (evaluateEvery < 0 || evaluationBatches < 0 || checkpointEvery < 0 || keepCheckpoints < 0
                    || patience < 0 || !(minDelta >= 0)) {
                problems.add("evaluateEvery, evaluationBatches, checkpointEvery, keepCheckpoints, earlyStopping and "
                        + "earlyStoppingMinDelta must not be negative");
            }
            if (patience > 0 && validation == null) {
                problems.add("earlyStopping needs validation data");
            }
            if (outputDirectory == null && (checkpointEvery > 0 || resumeLatest || overwrite)) {
                problems.add("checkpointEvery, resume and overwrite need an outputDirectory");
            }
            if (overwrite && (resumeLatest || resumeFrom != null && outputDirectory != null && resumeFrom
                    .toAbsolutePath().normalize().startsWith(outputDirectory.toAbsolutePath().normalize()))) {
                problems.add("overwrite deletes the run that resume would continue: choose one");
            }
            if (schedule != null && schedule.totalSteps() > 0 && maxSteps > schedule.totalSteps()
                    && schedule.kind() != LearningRateSchedule.Kind.CONSTANT) {
                LOG.debug("the schedule ends at step {} and stays at its floor until step {}", schedule.totalSteps(),
                        maxSteps);
            }
            if (schedule != null && schedule.totalSteps() == 0 && schedule.warmupSteps() > maxSteps && maxSteps > 0
                    && schedule.kind() != LearningRateSchedule.Kind.CONSTANT) {
                problems.add("warm-up (" + schedule.warmupSteps() + " steps) is longer than the run (" + maxSteps
                        + " steps)");
            }
            return problems;
        }

        /** The run's memory estimate against the machine's memory; a message when it does not fit. */
        private Optional<String> memoryProblem(int positions) {
            double rows = (double) batchSize * positions;
            if (rows > Integer.MAX_VALUE) {
                return Optional.of(String.format(Locale.ROOT, "batchSize x contextLength (%d x %d) must be below "
                        + "2^31", batchSize, positions));
            }
            long needed = trainable.estimatedTrainingBytes(batchSize, positions);
            long limit = org.bytedeco.javacpp.Pointer.totalPhysicalBytes();
            if (needed > 0 && limit > 0 && needed > limit) {
                return Optional.of(String.format(Locale.ROOT, "a training step of %d rows x %d positions needs "
                        + "about %.1f GB, more than this machine's %.1f GB of memory; lower batchSize or "
                        + "contextLength (gradientAccumulation gives the same update with smaller micro-batches)",
                        batchSize, positions, needed / 1e9, limit / 1e9));
            }
            return Optional.empty();
        }
    }
}
