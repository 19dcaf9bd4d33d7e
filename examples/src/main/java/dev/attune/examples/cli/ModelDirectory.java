package dev.attune.examples.cli;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.config.GptConfig;
import dev.attune.core.io.ModelFileException;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.WeightFormat;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The one place where commands turn {@code --model DIR} into a model, its tokenizer, or both, so that every command
 * finds the same tokenizer for the same directory: the directory's own files ({@code tokenizer.json}, or
 * {@code vocab.json} + {@code merges.txt}) when present, else GPT-2's, which is assumed only for a model with GPT-2's
 * vocabulary size (as {@link Pretrained#load} does).
 */
final class ModelDirectory {

    private static final int GPT2_VOCAB = 50257;
    private static final int GPT2_VOCAB_PADDED = 50304;

    private ModelDirectory() {
    }

    /** The model and its tokenizer; the tokenizer is read on a second thread while the weights load. */
    static Pretrained load(Path directory) throws IOException {
        return load(directory, WeightFormat.FP32);
    }

    /** As {@link #load(Path)}, the model's matrices held in {@code format}. */
    static Pretrained load(Path directory, WeightFormat format) throws IOException {
        return load(directory, format, false);
    }

    /**
     * As {@link #load(Path, WeightFormat)}, for generate and serve: a float32 model comes laid out for decoding
     * ({@link HfCheckpoint#loadForDecoding}), holding one copy of its weights.
     */
    static Pretrained loadForDecoding(Path directory, WeightFormat format) throws IOException {
        return load(directory, format, true);
    }

    private static Pretrained load(Path directory, WeightFormat format, boolean forDecoding) throws IOException {
        CompletableFuture<BpeTokenizer> tokenizer = CompletableFuture.supplyAsync(() -> {
            try {
                return tokenizer(directory);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        GptModel model = forDecoding ? HfCheckpoint.loadForDecoding(directory, format)
                : HfCheckpoint.load(directory, format);
        try {
            return new Pretrained(model, tokenizer.join());
        } catch (CompletionException e) {
            if (e.getCause() instanceof UncheckedIOException io) {
                throw io.getCause();
            }
            throw e.getCause() instanceof RuntimeException r ? r : e;
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(directory, e.getMessage());
        }
    }

    /** The model alone (config.json + model.safetensors). */
    static GptModel model(Path directory) throws IOException {
        return HfCheckpoint.load(directory);
    }

    /** The model alone, its matrices held in {@code format}. */
    static GptModel model(Path directory, WeightFormat format) throws IOException {
        return HfCheckpoint.load(directory, format);
    }

    /**
     * The tokenizer of {@code directory}, or GPT-2's when {@code directory} is null (commands whose {@code --model} is
     * optional).
     */
    static BpeTokenizer tokenizer(Path directory) throws IOException {
        if (directory == null) {
            return Tokenizer.gpt2();
        }
        if (Pretrained.hasTokenizerFiles(directory)) {
            return Tokenizer.load(directory);
        }
        Path config = directory.resolve("config.json");
        if (!java.nio.file.Files.isRegularFile(config)) {
            throw new ModelFileException(directory, "no tokenizer files (tokenizer.json, or vocab.json and merges.txt)"
                    + " and no config.json");
        }
        int vocab = GptConfig.readJson(config).vocabSize();
        if (vocab != GPT2_VOCAB && vocab != GPT2_VOCAB_PADDED) {
            throw new ModelFileException(directory, "no tokenizer files (tokenizer.json, or vocab.json and merges.txt),"
                    + " and vocab_size " + vocab + " is not GPT-2's, so GPT-2's tokenizer cannot be assumed");
        }
        return Tokenizer.gpt2();
    }
}
