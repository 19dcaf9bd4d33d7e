package dev.attune.examples.readme.snippets;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import java.nio.file.Path;
import org.nd4j.linalg.api.ndarray.INDArray;

public class ModelExample {
    public static void main(String[] args) throws Exception {
        GptModel fresh = GptModel.create(GptConfig.tiny(), 42);              // GPT-2's initialisation, seeded
        GptModel model = HfCheckpoint.load(Path.of("runs/quickstart/model")); // or weights from a HF directory
        int[][] ids = {{464, 3290, 318, 257, 922}};                          // one row of token ids
        INDArray logits = model.logits(TokenBatch.shifted(ids));             // [B, T, V] = [1, 4, 4096]
        double nats = model.loss(TokenBatch.shifted(ids));                   // summed next-token cross-entropy
        INDArray wq = model.parameter("h.0.attn.c_attn.weight");             // a view: HF name and shape [192, 576]
        System.out.printf("%,d weights; logits %s; loss %.3f; c_attn %s%n", fresh.parameterCount(),
                java.util.Arrays.toString(logits.shape()), nats / 4, java.util.Arrays.toString(wq.shape()));
    }
}
