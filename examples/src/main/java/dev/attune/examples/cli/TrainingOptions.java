package dev.attune.examples.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.train.AdamW;
import dev.attune.core.train.LearningRateSchedule;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.RunDirectory;
import dev.attune.core.train.TrainingResult;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options {@code attune pretrain} and {@code attune finetune} share, and the JSON summary both print. Unset
 * options take the command's defaults (pretraining and fine-tuning want different learning rates and schedules).
 */
final class TrainingOptions {

    /** Per-command defaults. */
    record Defaults(double lr, String schedule, double weightDecay) {
    }

    @Option(names = "--batch", paramLabel = "B", defaultValue = "8", description = "rows per micro-batch")
    int batch;

    @Option(names = "--accumulation", paramLabel = "A", defaultValue = "1",
            description = "micro-batches per optimizer step")
    int accumulation;

    @Option(names = "--context", paramLabel = "T", description = "positions per row (default: the model's context)")
    Integer context;

    @Option(names = "--lr", paramLabel = "LR",
            description = "peak learning rate (default: 6e-4 for pretrain, 5e-5 for finetune)")
    Double lr;

    @Option(names = "--min-lr", paramLabel = "LR", defaultValue = "0", description = "floor of a decaying schedule")
    double minLr;

    @Option(names = "--schedule", paramLabel = "KIND",
            description = "constant, linear or cosine (default: cosine for pretrain, linear for finetune)")
    String schedule;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "0", description = "warm-up steps")
    long warmup;

    @Option(names = "--weight-decay", paramLabel = "WD",
            description = "AdamW's decoupled weight decay (default: 0.1 for pretrain, 0 for finetune)")
    Double weightDecay;

    @Option(names = "--clip", paramLabel = "NORM", defaultValue = "1.0",
            description = "clip the gradient's global norm (0 = off)")
    double clip;

    @Option(names = "--dropout", paramLabel = "P", description = "dropout probability (default: the model's config)")
    Double dropout;

    @Option(names = "--eval-every", paramLabel = "N", defaultValue = "0",
            description = "validate every N steps (0 = only at the end)")
    int evalEvery;

    @Option(names = "--eval-batches", paramLabel = "N", defaultValue = "20",
            description = "validation batches per evaluation (0 = all)")
    int evalBatches;

    @Option(names = "--early-stopping", paramLabel = "PATIENCE", defaultValue = "0",
            description = "stop after PATIENCE validations without improvement and keep the best weights (0 = off)")
    int patience;

    @Option(names = "--checkpoint-every", paramLabel = "N", defaultValue = "0",
            description = "write a checkpoint every N steps (0 = only at the end)")
    int checkpointEvery;

    @Option(names = "--resume", description = "continue the run in the output directory from its newest checkpoint")
    boolean resume;

    @Option(names = "--overwrite", description = "delete the earlier run in the output directory and start anew")
    boolean overwrite;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1337", description = "seed of data order and dropout")
    long seed;

    @Option(names = "--no-progress", description = "do not show the progress line")
    boolean noProgress;

    @Mixin
    OutputOption output;

    /** How the output directory is opened: --resume, --overwrite, or a new run into an empty directory. */
    RunDirectory.Mode runMode() {
        if (resume && overwrite) {
            throw new IllegalArgumentException("--overwrite deletes the run that --resume would continue: give one");
        }
        return resume ? RunDirectory.Mode.RESUME : overwrite ? RunDirectory.Mode.OVERWRITE : RunDirectory.Mode.NEW;
    }

    /** A builder with everything but the model, the data and the run directory. */
    LmTraining.Builder builder(Defaults defaults, long steps) {
        double peak = lr != null ? lr : defaults.lr();
        String kind = (schedule != null ? schedule : defaults.schedule()).toLowerCase(Locale.ROOT);
        LearningRateSchedule s = switch (kind) {
            case "constant" -> LearningRateSchedule.constant(peak);
            case "linear" -> LearningRateSchedule.linear(peak).withFloor(minLr);
            case "cosine" -> LearningRateSchedule.cosine(peak).withFloor(minLr);
            default -> throw new IllegalArgumentException("--schedule must be constant, linear or cosine, got "
                    + schedule);
        };
        LmTraining.Builder b = LmTraining.builder()
                .batchSize(batch).gradientAccumulation(accumulation)
                .schedule(s.withWarmup(warmup))
                .optimizer(AdamW.builder().weightDecay(weightDecay != null ? weightDecay : defaults.weightDecay())
                        .build())
                .clipGradNorm(clip).maxSteps(steps).seed(seed)
                .evaluateEvery(evalEvery).evaluationBatches(evalBatches).earlyStopping(patience)
                .checkpointEvery(checkpointEvery);
        if (context != null) {
            b.contextLength(context);
        }
        return noProgress ? b.progress(false) : b.progress(System.err, System.console() != null);
    }

    /** Prints the run's outcome: a short text, or one JSON object. */
    void report(PrintWriter out, TrainingResult r, Path model) throws java.io.IOException {
        if (output.json()) {
            ObjectNode o = OutputOption.object();
            o.put("steps", r.steps());
            putNumber(o, "loss", r.lastLoss());
            putNumber(o, "val_loss", r.bestValidationLoss());
            putNumber(o, "val_perplexity", Math.exp(r.bestValidationLoss()));
            o.put("best_step", r.bestStep());
            o.put("stopped_early", r.stoppedEarly());
            o.put("model", model.toString());
            OutputOption.print(out, o);
        } else {
            out.printf(Locale.ROOT, "trained %,d steps, final loss %.4f%n", r.steps(), r.lastLoss());
            if (!Double.isNaN(r.bestValidationLoss())) {
                out.printf(Locale.ROOT, "best validation loss %.4f (perplexity %.2f) at step %,d%s%n",
                        r.bestValidationLoss(), Math.exp(r.bestValidationLoss()), r.bestStep(),
                        r.stoppedEarly() ? ", stopped early" : "");
            }
            out.println("model saved to " + model);
        }
        out.flush();
    }

    private static void putNumber(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else {
            o.putNull(key);
        }
    }
}
