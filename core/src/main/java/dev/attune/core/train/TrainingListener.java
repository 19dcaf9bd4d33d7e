package dev.attune.core.train;

import java.nio.file.Path;

/**
 * Hooks into a training run. Every method has an empty default; implement the ones you need. Methods run on the
 * training thread between steps, so keep them short. An exception thrown here stops the run.
 */
public interface TrainingListener {

    /** Once, before the first step of this run ({@code startStep > 0} when resuming). */
    default void onStart(TrainingStart start) {
    }

    /** After every optimizer step. */
    default void onStep(StepMetrics step) {
    }

    /** After every validation pass. */
    default void onEvaluation(EvaluationMetrics evaluation) {
    }

    /** After a checkpoint directory was written. */
    default void onCheckpoint(long step, Path directory) {
    }

    /** Once, when the run ends normally (not when it fails). */
    default void onEnd(TrainingResult result) {
    }

    /**
     * What a run is about to do.
     *
     * @param startStep          steps already done (0, or the step resumed from)
     * @param maxSteps           the step the run ends at
     * @param trainedParameters  number of trained scalars
     * @param tokensPerStep      upper bound of positions per optimizer step (batch x accumulation x length)
     * @param truncatedExamples  training examples cut to fit the context
     * @param data               description of the training data
     */
    record TrainingStart(long startStep, long maxSteps, long trainedParameters, long tokensPerStep,
                         long truncatedExamples, String data) {
    }

    /**
     * One optimizer step.
     *
     * @param step             steps done, counting this one (1-based)
     * @param maxSteps         the step the run ends at
     * @param loss             mean cross-entropy over the step's targets (all micro-batches)
     * @param learningRate     the rate this step used
     * @param gradientNorm     global L2 norm of the gradient, before clipping
     * @param clipped          whether clipping scaled the gradient down
     * @param tokens           positions processed this step
     * @param tokensPerSecond  throughput of this run so far
     * @param elapsedSeconds   wall time of the whole training (resumed runs included)
     * @param etaSeconds       estimated time to {@code maxSteps}
     */
    record StepMetrics(long step, long maxSteps, double loss, double learningRate, double gradientNorm,
                       boolean clipped, long tokens, double tokensPerSecond, double elapsedSeconds,
                       double etaSeconds) {
    }

    /**
     * One validation pass.
     *
     * @param step        steps done
     * @param loss        mean cross-entropy over the validation targets
     * @param perplexity  {@code exp(loss)}
     * @param improved    whether this is the best loss so far
     * @param bestLoss    best loss so far (this one if improved)
     * @param bestStep    step of the best loss
     */
    record EvaluationMetrics(long step, double loss, double perplexity, boolean improved, double bestLoss,
                             long bestStep) {
    }
}
