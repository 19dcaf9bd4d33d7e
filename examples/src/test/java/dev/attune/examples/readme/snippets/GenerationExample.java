package dev.attune.examples.readme.snippets;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.GenerationResult;
import dev.attune.core.generate.Generator;
import java.nio.file.Path;

public class GenerationExample {
    public static void main(String[] args) throws Exception {
        Pretrained p = Pretrained.load(Path.of("runs/quickstart/model")); // config.json, model.safetensors, tokenizer
        Generator generator = Generator.of(p.model(), p.tokenizer());
        GenerationConfig config = GenerationConfig.builder()
                .maxNewTokens(60).doSample(true).temperature(0.8).topP(0.95).seed(1)
                .stopStrings("\n\n").build();
        GenerationResult r = generator.generate("Licensed under the", config, System.out::print);  // streams
        System.out.println();
        System.out.println(r.ids().length + " tokens, finished by " + r.finishReason());  // LENGTH, EOS or STOP
    }
}
