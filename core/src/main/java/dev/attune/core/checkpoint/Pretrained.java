package dev.attune.core.checkpoint;
import dev.attune.core.io.ModelFileException;

import dev.attune.core.model.GptModel;
import dev.attune.core.model.WeightFormat;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A model and its tokenizer, loaded from or saved to one Hugging Face model directory: {@code config.json} and
 * {@code model.safetensors} (see {@link HfCheckpoint}) next to {@code tokenizer.json} or {@code vocab.json} +
 * {@code merges.txt} (see {@link Tokenizer#load(Path)}).
 *
 * <pre>{@code
 * Pretrained p = Pretrained.load(Path.of("models/gpt2"));
 * Generator g = Generator.of(p.model(), p.tokenizer());
 * }</pre>
 *
 * @param model     the model
 * @param tokenizer its tokenizer; every id it produces is below the model's {@code vocab_size}
 */
public record Pretrained(GptModel model, BpeTokenizer tokenizer) {

    /** GPT-2's vocabulary size, and the multiple-of-64 size nanoGPT pads it to. */
    private static final int GPT2_VOCAB = 50257;
    private static final int GPT2_VOCAB_PADDED = 50304;

    public Pretrained {
        if (tokenizer.vocabSize() > model.config().vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize()
                    + " ids but the model's vocab_size is " + model.config().vocabSize());
        }
    }

    /**
     * Loads the model and the tokenizer stored beside it. A directory without tokenizer files gets GPT-2's
     * tokenizer only if its {@code vocab_size} is GPT-2's (50257, or 50304 as nanoGPT pads it); otherwise that is an
     * error, since a guessed vocabulary would silently give wrong ids.
     *
     * @throws IOException naming the file that is missing or malformed, or the vocabulary mismatch
     */
    public static Pretrained load(Path directory) throws IOException {
        return load(directory, WeightFormat.FP32);
    }

    /**
     * As {@link #load(Path)}, with the model's matrices held in {@code format} for inference (see
     * {@link HfCheckpoint#load(Path, WeightFormat)}).
     */
    public static Pretrained load(Path directory, WeightFormat format) throws IOException {
        GptModel model = HfCheckpoint.load(directory, format);
        BpeTokenizer tokenizer;
        if (hasTokenizerFiles(directory)) {
            tokenizer = Tokenizer.load(directory);
        } else {
            int v = model.config().vocabSize();
            if (v != GPT2_VOCAB && v != GPT2_VOCAB_PADDED) {
                throw new ModelFileException(directory, "no tokenizer files (tokenizer.json, or vocab.json and "
                        + "merges.txt), and vocab_size " + v + " is not GPT-2's, so GPT-2's tokenizer cannot be assumed");
            }
            tokenizer = Tokenizer.gpt2();
        }
        if (tokenizer.vocabSize() > model.config().vocabSize()) {
            throw new ModelFileException(directory, "the tokenizer has " + tokenizer.vocabSize()
                    + " ids but config.json's vocab_size is " + model.config().vocabSize());
        }
        return new Pretrained(model, tokenizer);
    }

    /** Whether {@code directory} holds tokenizer files that {@link Tokenizer#load(Path)} reads. */
    public static boolean hasTokenizerFiles(Path directory) {
        return Files.isRegularFile(directory.resolve("tokenizer.json"))
                || (Files.isRegularFile(directory.resolve("vocab.json"))
                && Files.isRegularFile(directory.resolve("merges.txt")));
    }

    /** Saves the model ({@link HfCheckpoint#save}) and the tokenizer ({@link BpeTokenizer#save}) into one directory. */
    public void save(Path directory) throws IOException {
        HfCheckpoint.save(model, directory);
        tokenizer.save(directory);
    }
}
