package dev.attune.core.train;


/**
 * The learning rate at each optimizer step: a linear warm-up, then constant, linear decay or cosine decay down to
 * a floor.
 *
 * <p>For update {@code s = 0, 1, ...}, {@code W} warm-up steps and {@code N} total steps:
 * <ul>
 *   <li>{@code s < W}: {@code peak * (s + 1) / W} (never zero, so the first step already learns);</li>
 *   <li>then, with {@code x = (s - W) / (N - W)} going from 0 to 1: constant {@code peak}; linear
 *       {@code floor + (peak - floor) * (1 - x)}; cosine {@code floor + (peak - floor) * (1 + cos(pi x)) / 2};</li>
 *   <li>{@code s >= N}: {@code floor} for the decaying kinds.</li>
 * </ul>
 * Make one with {@link #constant}, {@link #linear} or {@link #cosine} and adjust it with the {@code with...}
 * methods. A total of 0 means "the length of the run" and is filled in by {@link LmTraining}.
 *
 * @param kind        the shape after warm-up
 * @param peak        the learning rate reached after warm-up
 * @param warmupSteps W, 0 or more
 * @param totalSteps  N, the step at which decay reaches the floor; 0 = the run's length
 * @param floor       the lowest learning rate of a decaying schedule, 0 to {@code peak}
 */
public record LearningRateSchedule(Kind kind, double peak, long warmupSteps, long totalSteps, double floor) {

    /** The shape of the schedule after warm-up. */
    public enum Kind { CONSTANT, LINEAR, COSINE }

    public LearningRateSchedule {
        if (kind == null) {
            throw new IllegalArgumentException("schedule kind is missing");
        }
        if (!(peak > 0) || Double.isInfinite(peak)) {
            throw new IllegalArgumentException("learning rate must be positive and finite, got " + peak);
        }
        if (warmupSteps < 0 || totalSteps < 0) {
            throw new IllegalArgumentException("warm-up (" + warmupSteps + ") and total steps (" + totalSteps
                    + ") must not be negative");
        }
        if (totalSteps > 0 && warmupSteps > totalSteps) {
            throw new IllegalArgumentException("warm-up (" + warmupSteps + " steps) is longer than the schedule ("
                    + totalSteps + " steps)");
        }
        if (!(floor >= 0 && floor <= peak)) {
            throw new IllegalArgumentException("learning-rate floor must be in [0, " + peak + "], got " + floor);
        }
    }

    /** The same learning rate at every step (after any warm-up). */
    public static LearningRateSchedule constant(double lr) {
        return new LearningRateSchedule(Kind.CONSTANT, lr, 0, 0, 0);
    }

    /** Linear decay from {@code peak} to the floor (0 unless set) over the run. */
    public static LearningRateSchedule linear(double peak) {
        return new LearningRateSchedule(Kind.LINEAR, peak, 0, 0, 0);
    }

    /** Cosine decay from {@code peak} to the floor (0 unless set) over the run. */
    public static LearningRateSchedule cosine(double peak) {
        return new LearningRateSchedule(Kind.COSINE, peak, 0, 0, 0);
    }

    public LearningRateSchedule withWarmup(long steps) {
        return new LearningRateSchedule(kind, peak, steps, totalSteps, floor);
    }

    public LearningRateSchedule withTotalSteps(long steps) {
        return new LearningRateSchedule(kind, peak, warmupSteps, steps, floor);
    }

    public LearningRateSchedule withFloor(double lr) {
        return new LearningRateSchedule(kind, peak, warmupSteps, totalSteps, lr);
    }

    /** The learning rate of update {@code step} (0-based). */
    public double at(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("negative step " + step);
        }
        if (step < warmupSteps) {
            return peak * (step + 1) / warmupSteps;
        }
        if (kind == Kind.CONSTANT) {
            return peak;
        }
        if (totalSteps == 0) {
            throw new IllegalStateException("the " + kind + " schedule has no total step count; set it with "
                    + "withTotalSteps or let LmTraining fill in the run's length");
        }
        if (step >= totalSteps) {
            return floor;
        }
        double x = (double) (step - warmupSteps) / (totalSteps - warmupSteps);
        double shape = kind == Kind.LINEAR ? 1 - x : 0.5 * (1 + Math.cos(Math.PI * x));
        return floor + (peak - floor) * shape;
    }
}
