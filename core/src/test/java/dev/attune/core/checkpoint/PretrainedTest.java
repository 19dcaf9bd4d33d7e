package dev.attune.core.checkpoint;
import dev.attune.core.io.ModelFileException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.BpeTrainer;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PretrainedTest {

    @TempDir
    Path dir;

    private static GptConfig config(int vocab) {
        return GptConfig.builder().vocabSize(vocab).layers(1).heads(2).embeddingSize(16).contextLength(32).build();
    }

    @Test
    void savesAndLoadsModelAndTokenizerTogether() throws IOException {
        BpeTokenizer trained = BpeTrainer.builder().vocabSize(300).minFrequency(1).build()
                .train(List.of("the cat sat on the mat", "the dog sat on the log"));
        GptModel model = GptModel.create(config(trained.vocabSize()), 3);
        new Pretrained(model, trained).save(dir);
        assertThat(Pretrained.hasTokenizerFiles(dir)).isTrue();

        Pretrained loaded = Pretrained.load(dir);
        assertThat(loaded.model().config()).isEqualTo(model.config());
        assertThat(loaded.model().parameters().equalsWithEps(model.parameters(), 0)).isTrue();
        assertThat(loaded.tokenizer().encode("the cat sat")).containsExactly(trained.encode("the cat sat"));
        assertThat(loaded.tokenizer().eosId()).isEqualTo(trained.eosId());
    }

    @Test
    void aGpt2SizedCheckpointWithoutTokenizerFilesGetsGpt2sTokenizer() throws IOException {
        HfCheckpoint.save(GptModel.create(config(50257), 1), dir);
        assertThat(Pretrained.load(dir).tokenizer()).isSameAs(Tokenizer.gpt2());
    }

    @Test
    void otherwiseMissingOrMismatchedTokenizersAreErrors() throws IOException {
        HfCheckpoint.save(GptModel.create(config(1000), 1), dir);
        assertThatThrownBy(() -> Pretrained.load(dir)).isInstanceOf(ModelFileException.class)
                .hasMessageContaining("no tokenizer files").hasMessageContaining("1000");

        Path small = dir.resolve("small");
        HfCheckpoint.save(GptModel.create(config(300), 1), small);
        Tokenizer.gpt2().save(small);
        assertThatThrownBy(() -> Pretrained.load(small)).hasMessageContaining("50257 ids")
                .hasMessageContaining("vocab_size is 300");
        Files.delete(small.resolve("tokenizer.json"));
        Files.writeString(small.resolve("merges.txt"), "#version: 0.2\nnot a merge line\n");
        assertThatThrownBy(() -> Pretrained.load(small)).hasMessageContaining("merges.txt line 2");
    }
}
