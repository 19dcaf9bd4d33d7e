package dev.attune.examples.bench;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import dev.attune.core.model.WeightFormat;

/** Every workload {@code attune bench} knows, by name. Names and units match {@code bench/pytorch_peer.py}. */
final class Workloads {

    private static final Map<String, Workload> ALL = new LinkedHashMap<>();

    static {
        add(Workload.attune("sgemm", "GFLOP/s", 3, 30, KernelBenches::sgemm));
        add(Workload.attune("membw-read", "GB/s", 3, 10, KernelBenches::memoryRead));
        add(Workload.attune("membw-copy", "GB/s", 3, 10, KernelBenches::memoryCopy));
        // The tiny steps take 20-40 ms: C2 has compiled their kernels after 50-100 steps (about 2-3 s), so 100
        // untimed steps and 200 timed ones give the steady state a fine-tuning run sees; the peer takes the same.
        add(Workload.attune("train-tiny", "tokens/s", 100, 200, s -> ModelBenches.train(s, true)));
        add(Workload.attune("train-gpt2", "tokens/s", 1, 3, s -> ModelBenches.train(s, false)));
        add(Workload.attune("train-lora-gpt2", "tokens/s", 1, 3, ModelBenches::trainLora));
        add(Workload.attune("fwdbwd-tiny", "tokens/s", 100, 200, s -> ModelBenches.forwardBackward(s, true)));
        add(Workload.attune("fwdbwd-gpt2", "tokens/s", 1, 3, s -> ModelBenches.forwardBackward(s, false)));
        add(Workload.attune("score-b8", "tokens/s", 1, 3, ModelBenches::score));
        add(Workload.attune("classify-gpt2", "items/s", 1, 3, ModelBenches::classify));
        add(Workload.attune("mc-gpt2", "items/s", 1, 3, EvalBenches::multipleChoice));
        add(Workload.attune("generate-b1", "tokens/s", 1, 3, s -> ModelBenches.generate(s, 1)));
        add(Workload.attune("generate-b8", "tokens/s", 1, 3, s -> ModelBenches.generate(s, 8)));
        // compressed weights; the peer is PyTorch's float32 generate-b1 / generate-b8
        add(Workload.attune("generate-b1-bf16", "tokens/s", 1, 3, s -> ModelBenches.generate(s, 1, WeightFormat.BF16)));
        add(Workload.attune("generate-b1-int8", "tokens/s", 1, 3, s -> ModelBenches.generate(s, 1, WeightFormat.INT8)));
        add(Workload.attune("generate-b8-bf16", "tokens/s", 1, 3, s -> ModelBenches.generate(s, 8, WeightFormat.BF16)));
        add(Workload.attune("generate-b8-int8", "tokens/s", 1, 3, s -> ModelBenches.generate(s, 8, WeightFormat.INT8)));
        add(Workload.attune("generate-b1-formats", "tokens/s", 1, 5, WeightFormatBenches::alternating));
        add(Workload.attune("weights-quality", "tokens/s", 0, 1, WeightFormatBenches::quality));
        add(new Workload("tokenize", "tokenize", "attune", "tokens/s", false, 5, 10, TokenizerBench::attune));
        add(new Workload("tokenize-jtokkit", "tokenize", "jtokkit", "tokens/s", false, 5, 10,
                TokenizerBench::jtokkit));
    }

    private Workloads() {
    }

    private static void add(Workload w) {
        ALL.put(w.name(), w);
    }

    /** Workloads measured in one process with no peer line: their fields carry the comparison. */
    private static final java.util.Set<String> NO_PEER = java.util.Set.of("generate-b1-formats", "weights-quality");

    /**
     * The peer's workload that {@code name} is compared with: the same name, or for compressed weights
     * ({@code generate-b1-int8}) the peer's float32 workload ({@code generate-b1}); null when it has none.
     */
    static String peerOf(String name) {
        if (NO_PEER.contains(name)) {
            return null;
        }
        for (String suffix : new String[] {"-bf16", "-int8"}) {
            if (name.endsWith(suffix)) {
                return name.substring(0, name.length() - suffix.length());
            }
        }
        return name;
    }

    static Map<String, Workload> all() {
        return Collections.unmodifiableMap(ALL);
    }
}
