package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.config.GptConfig;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code attune finetune --method ...}, {@code score|generate --adapter} and {@code merge}, in-process. */
class PeftCommandsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path base() throws IOException {
        Path base = dir.resolve("base");
        GptConfig small = GptConfig.builder().layers(1).heads(2).embeddingSize(32).contextLength(32).dropout(0).build();
        HfCheckpoint.save(GptModel.create(small, 1), base);
        return base;
    }

    private Path data() throws IOException {
        StringBuilder jsonl = new StringBuilder();
        String[][] pairs = {{"Q: 2+2?", " A: 4"}, {"Q: 3+3?", " A: 6"}, {"Q: 1+1?", " A: 2"}, {"Q: 4+4?", " A: 8"}};
        for (String[] p : pairs) {
            jsonl.append(JSON.writeValueAsString(Map.of("prompt", p[0], "completion", p[1]))).append('\n');
        }
        return Files.writeString(dir.resolve("train.jsonl"), jsonl.toString());
    }

    @Test
    void loraTrainsAnAdapterThatScoresGeneratesAndMerges() throws IOException {
        Path base = base();
        Path out = dir.resolve("lora");
        Cli r = Cli.run("finetune", "--model", base.toString(), "--data", data().toString(), "--out", out.toString(),
                "--method", "lora", "--rank", "4", "--alpha", "8", "--targets", "c_attn,c_proj", "--steps", "10",
                "--batch", "2", "--lr", "1e-2", "--schedule", "constant", "--output", "json", "--no-progress");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode summary = JSON.readTree(r.out());
        assertThat(summary.get("model").asText()).isEqualTo(out.resolve("adapter").toString());
        Path adapter = out.resolve("adapter");
        JsonNode config = JSON.readTree(adapter.resolve("adapter_config.json").toFile());
        assertThat(config.get("peft_type").asText()).isEqualTo("LORA");
        assertThat(config.get("r").asInt()).isEqualTo(4);
        assertThat(adapter.resolve("adapter_model.safetensors")).exists();
        assertThat(out.resolve("model")).doesNotExist();

        String ids = "464,3290,318,257,1332";
        JsonNode plain = JSON.readTree(Cli.run("score", "--model", base.toString(), "--ids", ids, "--output", "json").out());
        Cli adapted = Cli.run("score", "--model", base.toString(), "--adapter", adapter.toString(), "--ids", ids,
                "--output", "json");
        assertThat(adapted.exitCode()).as(adapted.err()).isZero();
        double withAdapter = JSON.readTree(adapted.out()).get("loss").asDouble();
        assertThat(withAdapter).isNotEqualTo(plain.get("loss").asDouble());

        Path merged = dir.resolve("merged");
        Cli m = Cli.run("merge", "--model", base.toString(), "--adapter", adapter.toString(), "--out", merged.toString());
        assertThat(m.exitCode()).as(m.err()).isZero();
        assertThat(merged.resolve("vocab.json")).exists();
        double mergedLoss = JSON.readTree(Cli.run("score", "--model", merged.toString(), "--ids", ids, "--output", "json")
                .out()).get("loss").asDouble();
        assertThat(mergedLoss).isCloseTo(withAdapter, org.assertj.core.data.Offset.offset(1e-4));

        Cli g = Cli.run("generate", "--model", base.toString(), "--adapter", adapter.toString(), "--ids", "464,3290",
                "--max-new-tokens", "3", "--output", "json");
        assertThat(g.exitCode()).as(g.err()).isZero();
        assertThat(JSON.readTree(g.out()).get("ids").size()).isEqualTo(3);
    }

    @Test
    void loraWithBiasAllSavesEveryBiasOfTheBaseBesideTheAdapter() throws IOException {
        Path base = base();
        Path out = dir.resolve("bias-all");
        Cli r = Cli.run("finetune", "--model", base.toString(), "--data", data().toString(), "--out", out.toString(),
                "--method", "lora", "--rank", "2", "--targets", "c_attn", "--bias", "all", "--steps", "5",
                "--batch", "2", "--lr", "1e-2", "--no-progress");
        assertThat(r.exitCode()).as(r.err()).isZero();
        Path adapter = out.resolve("adapter");
        assertThat(JSON.readTree(adapter.resolve("adapter_config.json").toFile()).get("bias").asText())
                .isEqualTo("all");
        try (SafeTensors f = SafeTensors.open(adapter.resolve("adapter_model.safetensors"))) {
            assertThat(f.names()).contains("base_model.model.transformer.ln_f.bias",
                    "base_model.model.transformer.h.0.ln_1.bias", "base_model.model.transformer.h.0.mlp.c_fc.bias",
                    "base_model.model.transformer.h.0.attn.c_attn.base_layer.bias").hasSize(2 + 6 + 1);
        }
        Cli s = Cli.run("score", "--model", base.toString(), "--adapter", adapter.toString(), "--ids", "464,3290,318",
                "--output", "json");
        assertThat(s.exitCode()).as(s.err()).isZero();

        Cli typo = Cli.run("finetune", "--model", base.toString(), "--data", data().toString(), "--out",
                dir.resolve("typo").toString(), "--method", "lora", "--bias", "some", "--steps", "1", "--no-progress");
        assertThat(typo.exitCode()).isNotZero();
        assertThat(typo.err()).contains("bias must be one of none, all, lora_only, got \"some\"");
        Cli notLora = Cli.run("finetune", "--model", base.toString(), "--data", data().toString(), "--out",
                dir.resolve("ia3").toString(), "--method", "ia3", "--bias", "all", "--steps", "1", "--no-progress");
        assertThat(notLora.exitCode()).isNotZero();
        assertThat(notLora.err()).contains("--bias all applies to --method lora only");
    }

    @Test
    void everyMethodWritesItsAdapterType() throws IOException {
        Path base = base();
        Path data = data();
        Map<String, String> types = Map.of("adalora", "ADALORA", "ia3", "IA3", "prefix", "PREFIX_TUNING",
                "prompt", "PROMPT_TUNING", "adapter", "ATTUNE_BOTTLENECK");
        for (var e : types.entrySet()) {
            Path out = dir.resolve(e.getKey());
            Cli r = Cli.run("finetune", "--model", base.toString(), "--data", data.toString(), "--out", out.toString(),
                    "--method", e.getKey(), "--rank", "2", "--init-rank", "4", "--virtual-tokens", "3",
                    "--reduction-factor", "8", "--steps", "5", "--batch", "2", "--lr", "1e-2", "--no-progress");
            assertThat(r.exitCode()).as(e.getKey() + ": " + r.err()).isZero();
            JsonNode config = JSON.readTree(out.resolve("adapter/adapter_config.json").toFile());
            assertThat(config.get("peft_type").asText()).isEqualTo(e.getValue());
            Cli s = Cli.run("score", "--model", base.toString(), "--adapter", out.resolve("adapter").toString(),
                    "--ids", "464,3290,318", "--output", "json");
            assertThat(s.exitCode()).as(e.getKey() + ": " + s.err()).isZero();
        }
        Cli bad = Cli.run("finetune", "--model", base.toString(), "--data", data.toString(), "--out",
                dir.resolve("bad").toString(), "--method", "lora", "--targets", "q_proj", "--steps", "1", "--no-progress");
        assertThat(bad.exitCode()).isNotZero();
        assertThat(bad.err()).contains("q_proj").contains("valid names");
    }
}
