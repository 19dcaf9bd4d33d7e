package dev.attune.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.model.GptModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GptConfigTest {

    @Test
    void gpt2SmallHasTheKnownParameterCount() {
        // 124,439,808 is the published count for GPT-2 small (tied head, no lm_head copy). Counting by hand:
        // wte 50257*768 + wpe 1024*768 + 12 * (2*768*2 + 768*2304 + 2304 + 768*768 + 768 + 768*3072 + 3072
        // + 3072*768 + 768) + 2*768.
        long perLayer = 2 * 768 * 2 + 768 * 2304 + 2304 + 768 * 768 + 768 + 768 * 3072 + 3072 + 3072 * 768 + 768;
        long byHand = 50257L * 768 + 1024 * 768 + 12 * perLayer + 2 * 768;
        assertThat(byHand).isEqualTo(124_439_808L);
        // and the library's count, from the config alone (no 500 MB allocation), agrees with both
        assertThat(GptModel.parameterCount(GptConfig.gpt2())).isEqualTo(byHand);
        assertThat(GptModel.parameterShapes(GptConfig.gpt2()).values().stream()
                .mapToLong(s -> java.util.Arrays.stream(s).reduce(1, Math::multiplyExact)).sum()).isEqualTo(byHand);
        assertThat(GptModel.zeros(GptConfig.tiny()).parameterCount())
                .isEqualTo(50257L * 128 + 256 * 128 + 2 * (4 * 128 + 128 * 384 + 384 + 128 * 128 + 128 + 128 * 512
                        + 512 + 512 * 128 + 128) + 2 * 128);
    }

    @Test
    void presetsHaveTheirPublishedShapes() {
        assertThat(GptConfig.gpt2Medium()).extracting(GptConfig::layers, GptConfig::heads, GptConfig::embeddingSize)
                .containsExactly(24, 16, 1024);
        assertThat(GptConfig.gpt2Large().embeddingSize()).isEqualTo(1280);
        assertThat(GptConfig.gpt2Xl().heads()).isEqualTo(25);
        assertThat(GptConfig.gpt2().innerSize()).isEqualTo(3072);
    }

    @Test
    void builderListsEveryProblem() {
        assertThatThrownBy(() -> GptConfig.builder().embeddingSize(100).heads(12).dropout(1.0).vocabSize(0).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("n_embd (100) must be divisible by n_head (12)")
                .hasMessageContaining("embd_pdrop must be in [0, 1), got 1.0")
                .hasMessageContaining("vocab_size must be positive, got 0");
    }

    @Test
    void jsonRoundTripAndAliases(@TempDir Path dir) throws IOException {
        GptConfig c = GptConfig.builder().layers(3).heads(2).embeddingSize(8).vocabSize(99).contextLength(32)
                .innerSize(20).dropout(0.05).bosTokenId(1).eosTokenId(2).build();
        Path file = dir.resolve("config.json");
        c.writeJson(file);
        assertThat(GptConfig.readJson(file)).isEqualTo(c);
        GptConfig aliased = GptConfig.parseJson("{\"model_type\":\"gpt2\",\"hidden_size\":64,\"num_hidden_layers\":3,"
                + "\"num_attention_heads\":4,\"max_position_embeddings\":128,\"vocab_size\":500,"
                + "\"bos_token_id\":0,\"eos_token_id\":0}");
        assertThat(aliased).extracting(GptConfig::embeddingSize, GptConfig::layers, GptConfig::heads,
                GptConfig::contextLength, GptConfig::innerSize).containsExactly(64, 3, 4, 128, 256);
        // transformers only warns when a small test vocabulary keeps GPT-2's 50256: so do we, and use the last id
        GptConfig tinyVocab = GptConfig.parseJson("{\"vocab_size\":500,\"n_embd\":8,\"n_head\":2,\"n_layer\":1,"
                + "\"bos_token_id\":50256,\"eos_token_id\":7}");
        assertThat(tinyVocab.bosTokenId()).isEqualTo(499);
        assertThat(tinyVocab.eosTokenId()).isEqualTo(7);
    }

    @Test
    void badConfigFilesNameTheProblem(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("config.json");
        Files.writeString(file, "{\"model_type\":\"llama\"}");
        assertThatThrownBy(() -> GptConfig.readJson(file)).hasMessageContaining("config.json")
                .hasMessageContaining("model_type is \"llama\"");
        Files.writeString(file, "{\"n_embd\": 10,\n \"n_head\": }");
        assertThatThrownBy(() -> GptConfig.readJson(file)).hasMessageContaining("not valid JSON")
                .hasMessageContaining("line 2");
        assertThatThrownBy(() -> GptConfig.readJson(dir.resolve("missing/config.json")))
                .isInstanceOf(java.nio.file.NoSuchFileException.class);
    }
}
