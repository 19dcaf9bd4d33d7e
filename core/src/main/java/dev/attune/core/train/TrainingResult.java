package dev.attune.core.train;

import java.nio.file.Path;
import java.util.Optional;

/**
 * How a training run ended.
 *
 * @param steps               steps done in total (resumed runs included)
 * @param lastLoss            training loss of the last step (NaN if the run did no step)
 * @param bestValidationLoss  best validation loss seen (NaN without validation)
 * @param bestStep            step of the best validation loss (0 without validation)
 * @param stoppedEarly        whether early stopping ended the run before its last step
 * @param restoredBest        whether the weights were reset to those of {@code bestStep} at the end
 * @param modelDirectory      where the final model was saved ({@code <output>/model}), if it was
 */
public record TrainingResult(long steps, double lastLoss, double bestValidationLoss, long bestStep,
                             boolean stoppedEarly, boolean restoredBest, Optional<Path> modelDirectory) {
}
