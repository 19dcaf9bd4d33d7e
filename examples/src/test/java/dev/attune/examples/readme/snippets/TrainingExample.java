package dev.attune.examples.readme.snippets;

import dev.attune.core.config.GptConfig;
import dev.attune.core.data.PromptCompletionData;
import dev.attune.core.data.TokenFile;
import dev.attune.core.data.TokenWindows;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.core.train.AdamW;
import dev.attune.core.train.LearningRateSchedule;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.TrainingResult;
import java.nio.file.Path;
import java.util.List;

public class TrainingExample {
    public static void main(String[] args) throws Exception {
        Tokenizer tokenizer = Tokenizer.gpt2();
        TokenFile.tokenize(Path.of("runs/corpus.bin"), tokenizer, List.of(Path.of("README.md")));  // llm.c layout
        TokenWindows.Split data = TokenWindows.of(TokenFile.open(Path.of("runs/corpus.bin"))).split(0.1);
        TrainingResult r = LmTraining.builder()
                .model(GptModel.create(GptConfig.tiny(), 1))
                .data(data.train()).validation(data.validation())
                .batchSize(4).gradientAccumulation(2).contextLength(64)
                .optimizer(AdamW.builder().weightDecay(0.1).betas(0.9, 0.95).build())
                .schedule(LearningRateSchedule.cosine(6e-4).withWarmup(5).withFloor(6e-5))
                .clipGradNorm(1.0).maxSteps(20).evaluateEvery(10).earlyStopping(4)
                .outputDirectory(Path.of("runs/tiny-java")).checkpointEvery(10)
                .build().run();
        System.out.println(r);
        // fine-tuning on prompt/completion pairs: the loss counts completion tokens only
        PromptCompletionData pairs = PromptCompletionData.readJsonl(
                Path.of("examples/data/license-qa/train.jsonl"), tokenizer);
        System.out.println(pairs.description());
    }
}
