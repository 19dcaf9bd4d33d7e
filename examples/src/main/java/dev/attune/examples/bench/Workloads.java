package dev.attune.examples.bench;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** Every workload {@code attune bench} knows, by name. Names and units match {@code bench/pytorch_peer.py}. */
final class Workloads {

    private static final Map<String, Workload> ALL = new LinkedHashMap<>();

    static {
        add(Workload.attune("sgemm", "GFLOP/s", 3, 30, KernelBenches::sgemm));
        add(Workload.attune("membw-read", "GB/s", 3, 10, KernelBenches::memoryRead));
        add(Workload.attune("membw-copy", "GB/s", 3, 10, KernelBenches::memoryCopy));
        add(new Workload("tokenize-jtokkit", "tokenize", "jtokkit", "tokens/s", false, 5, 10,
                TokenizerBench::jtokkit));
    }

    private Workloads() {
    }

    private static void add(Workload w) {
        ALL.put(w.name(), w);
    }

    static Map<String, Workload> all() {
        return Collections.unmodifiableMap(ALL);
    }
}
