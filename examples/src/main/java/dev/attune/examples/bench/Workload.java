package dev.attune.examples.bench;

/**
 * One benchmark workload. Its name, unit and JSON keys match {@code bench/pytorch_peer.py}, so the driver pairs an
 * Attune line with its peer's line by {@code workload}.
 *
 * @param name           what {@code attune bench NAME} selects
 * @param reportedName   the {@code workload} key of the JSON line (peers measured from Java share their Attune
 *                       counterpart's name, e.g. {@code tokenize-jtokkit} reports as {@code tokenize})
 * @param impl           the {@code impl} key: {@code attune}, or the library measured
 * @param unit           unit of {@code value}; {@code GFLOP/s} and {@code GB/s} scale the work by 1e-9
 * @param usesBlas       whether the {@code blas} key applies (false: it reports {@code none})
 * @param defaultWarmup  untimed iterations unless {@code --warmup} says otherwise
 * @param defaultIters   timed iterations unless {@code --iters} says otherwise
 * @param body           runs the workload
 */
record Workload(String name, String reportedName, String impl, String unit, boolean usesBlas, int defaultWarmup,
                int defaultIters, Body body) {

    @FunctionalInterface
    interface Body {
        Measurement run(Settings settings) throws Exception;
    }

    static Workload attune(String name, String unit, int warmup, int iters, Body body) {
        return new Workload(name, name, "attune", unit, true, warmup, iters, body);
    }

    double scale() {
        return unit.startsWith("G") ? 1e-9 : 1.0;
    }
}
