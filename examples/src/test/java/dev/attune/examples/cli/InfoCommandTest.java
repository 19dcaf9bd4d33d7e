package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.config.GptConfig;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InfoCommandTest {

    @TempDir
    static Path dir;

    /** L2 H2 C8 V20 T16, inner 4C = 32. */
    static final GptConfig CONFIG = GptConfig.builder()
            .layers(2).heads(2).embeddingSize(8).vocabSize(20).contextLength(16).bosTokenId(0).eosTokenId(0).build();
    /** Counted by hand: wte 20*8 + wpe 16*8 + 2 * (ln 4*8 + c_attn 8*24+24 + c_proj 8*8+8 + fc 8*32+32 + proj 32*8+8) + ln_f 16. */
    static final long PARAMETERS = 160 + 128 + 2 * (32 + 216 + 72 + 288 + 264) + 16;

    static Path checkpoint;

    @BeforeAll
    static void save() throws IOException {
        checkpoint = dir.resolve("tiny");
        HfCheckpoint.save(GptModel.create(CONFIG, 1), checkpoint);
    }

    @Test
    void printsJsonWithConfigCountsTypesSizesAndEngine() throws IOException {
        Cli r = Cli.run("info", "--model", checkpoint.toString(), "--output", "json", "--tensors");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(r.out());
        assertThat(o.get("directory").asText()).isEqualTo(checkpoint.toString());
        assertThat(o.get("config").get("n_layer").asInt()).isEqualTo(2);
        assertThat(o.get("config").get("n_embd").asInt()).isEqualTo(8);
        assertThat(o.get("config").get("vocab_size").asInt()).isEqualTo(20);
        assertThat(o.get("parameter_count").asLong()).isEqualTo(PARAMETERS);
        assertThat(o.get("tensor_count").asInt()).isEqualTo(2 * 12 + 4);
        assertThat(o.get("dtypes").toString()).isEqualTo("{\"F32\":28}");
        long bytes = Files.size(checkpoint.resolve("model.safetensors"));
        assertThat(o.get("total_bytes").asLong()).isEqualTo(bytes);
        assertThat(o.get("weight_files").get(0).get("bytes").asLong()).isEqualTo(bytes);
        assertThat(o.get("metadata").get("format").asText()).isEqualTo("pt");
        assertThat(o.get("engine").get("threads").asInt()).isPositive();
        assertThat(o.get("engine").get("blas").asText()).isNotBlank();
        assertThat(o.get("tensors")).hasSize(28);
        assertThat(o.get("tensors").get(0).has("shape")).isTrue();
    }

    @Test
    void printsReadableText() throws IOException {
        Path half = dir.resolve("half");
        Files.createDirectories(half);
        Files.copy(checkpoint.resolve("config.json"), half.resolve("config.json"));
        // The dtype shown is the stored one: rewrite the weights as BF16.
        GptModel model = GptModel.create(CONFIG, 2);
        var w = SafeTensors.writer().dtype(dev.attune.core.io.DType.BF16).metadata("format", "pt");
        for (String name : model.parameterNames()) {
            w.add("transformer." + name, model.parameter(name));
        }
        w.write(half.resolve("model.safetensors"));

        Cli r = Cli.run("info", "--model", half.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("2 layers, 2 heads, n_embd 8, n_inner 32, vocab 20, context 16")
                .contains(String.format("%,d", PARAMETERS))
                .contains("28 stored (BF16 28)")
                .contains("model.safetensors, ")
                .contains("BLAS ");
    }

    @Test
    void reportsBadDirectoriesWithoutAStackTrace() throws IOException {
        Cli missing = Cli.run("info", "--model", dir.resolve("nope").toString());
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).startsWith("attune: ").contains("nope").contains("no such checkpoint directory")
                .doesNotContain("\tat ");

        Path noConfig = Files.createDirectories(dir.resolve("noconfig"));
        Cli r = Cli.run("info", "--model", noConfig.toString(), "--output", "json");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("no config.json").doesNotContain("\tat ");
        assertThat(r.out()).isEmpty();
    }
}
