package dev.attune.prompting;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;

/** A tiny random GPT-2 with the real GPT-2 vocabulary, so text goes through the real tokenizer. */
public final class TestModels {

    public static final GptConfig CONFIG = GptConfig.builder().vocabSize(50257).contextLength(64).embeddingSize(32)
            .heads(4).layers(2).build();

    private static GptModel model;

    private TestModels() {
    }

    /** One shared model (created once: the embedding table is 1.6M weights). */
    public static synchronized GptModel model() {
        if (model == null) {
            model = GptModel.create(CONFIG, 7);
        }
        return model;
    }

    public static Tokenizer tokenizer() {
        return Tokenizer.gpt2();
    }
}
