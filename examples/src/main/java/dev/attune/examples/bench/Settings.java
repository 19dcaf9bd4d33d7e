package dev.attune.examples.bench;

/**
 * How a workload runs.
 *
 * @param warmup     untimed iterations before timing
 * @param iterations timed iterations
 * @param smoke      tiny shapes: proves the workload runs end to end in seconds, measures nothing useful
 */
record Settings(int warmup, int iterations, boolean smoke) {

    Settings {
        if (warmup < 0) {
            throw new IllegalArgumentException("--warmup must be >= 0, got " + warmup);
        }
        if (iterations < 1) {
            throw new IllegalArgumentException("--iters must be >= 1, got " + iterations);
        }
    }
}
