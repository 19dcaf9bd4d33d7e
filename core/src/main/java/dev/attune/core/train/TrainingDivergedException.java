package dev.attune.core.train;


/**
 * Thrown when the loss or the gradient becomes NaN or infinite. The step's update is not applied, and no checkpoint
 * is written after it: the last checkpoint on disk is the last good state.
 */
public final class TrainingDivergedException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final long step;

    TrainingDivergedException(long step, String message) {
        super(message);
        this.step = step;
    }

    /** The 1-based step whose loss or gradient was not finite. */
    public long step() {
        return step;
    }
}
