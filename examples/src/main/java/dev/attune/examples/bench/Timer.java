package dev.attune.examples.bench;

/** Wall-clock timing of a repeated action: untimed warm-up runs first, then one reading per timed run. */
final class Timer {

    private Timer() {
    }

    @FunctionalInterface
    interface Action {
        void run() throws Exception;
    }

    static double[] time(int warmup, int iterations, Action action) throws Exception {
        for (int i = 0; i < warmup; i++) {
            action.run();
        }
        double[] seconds = new double[iterations];
        for (int i = 0; i < iterations; i++) {
            long t0 = System.nanoTime();
            action.run();
            seconds[i] = (System.nanoTime() - t0) * 1e-9;
        }
        return seconds;
    }
}
