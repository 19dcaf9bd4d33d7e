package dev.attune.examples.readme.snippets;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.WeightFormat;
import java.nio.file.Path;

public class CompressedWeightsExample {
    public static void main(String[] args) throws Exception {
        Pretrained p = Pretrained.load(Path.of("runs/quickstart/model"));
        GptModel int8 = p.model().compressed(WeightFormat.INT8);      // an inference copy; p.model() stays float32
        HfCheckpoint.save(int8, Path.of("runs/quickstart-int8"));      // I8 weights + *_scale tensors, HF names
        GptModel loaded = HfCheckpoint.load(Path.of("runs/quickstart-int8"), WeightFormat.INT8);  // bit for bit
        Generator generator = Generator.of(loaded, p.tokenizer());
        System.out.println(generator.generate("Licensed under the",
                GenerationConfig.builder().maxNewTokens(20).build()).text());
    }
}
