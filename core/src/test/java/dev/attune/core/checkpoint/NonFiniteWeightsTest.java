package dev.attune.core.checkpoint;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.config.GptConfig;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A model with NaN weights used to score "n/a" and generate "every token is banned"; now it says what is wrong. */
class NonFiniteWeightsTest {

    private static GptModel small() {
        return GptModel.create(GptConfig.builder().layers(1).heads(2).embeddingSize(16).contextLength(16)
                .dropout(0).build(), 3);
    }

    @Test
    void loadingRefusesNonFiniteWeightsNamingTheTensors(@TempDir Path dir) throws IOException {
        GptModel model = small();
        model.parameter("h.0.attn.c_attn.weight").putScalar(5, Float.NaN);
        model.parameter("h.0.attn.c_attn.weight").putScalar(6, Float.NaN);
        model.parameter("ln_f.bias").putScalar(0, Float.POSITIVE_INFINITY);
        HfCheckpoint.save(model, dir);
        assertThatThrownBy(() -> HfCheckpoint.load(dir))
                .hasMessageContaining("holds weights that are not finite numbers")
                .hasMessageContaining("'h.0.attn.c_attn.weight' (2 NaN)")
                .hasMessageContaining("'ln_f.bias' (1 infinite)");
    }

    @Test
    void generatingFromNonFiniteLogitsSaysSoInsteadOfEveryTokenBanned() {
        GptModel model = small();
        model.parameter("ln_f.bias").putScalar(0, Float.NaN); // made in memory, where no loader checks
        assertThatThrownBy(() -> Generator.of(model, Tokenizer.gpt2()).generate("Hi", GenerationConfig.greedy(2)))
                .hasMessageContaining("its logits are not finite");
    }
}
