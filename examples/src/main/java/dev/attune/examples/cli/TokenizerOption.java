package dev.attune.examples.cli;

import dev.attune.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;

/** The tokenizer a command's {@code --model DIR} option selects. */
final class TokenizerOption {

    private TokenizerOption() {
    }

    /** GPT-2's tokenizer when {@code modelDir} is null, else the one stored in the directory. */
    static Tokenizer load(Path modelDir) throws IOException {
        return modelDir == null ? Tokenizer.gpt2() : Tokenizer.load(modelDir);
    }
}
