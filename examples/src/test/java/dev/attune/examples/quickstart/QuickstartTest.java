package dev.attune.examples.quickstart;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.examples.common.LabelTable;
import dev.attune.examples.sentiment.SentimentExample;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuickstartTest {

    @Test
    void reducedRunComparesFewShotWithLoraSavesTheAdapterAndTheMergedModelAndGenerates(@TempDir Path out)
            throws Exception {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        Quickstart.Settings s = Quickstart.Settings.defaults().withModel(Path.of("base-model"))
                .withData(Path.of("data", "sentiment")).withOut(out).withSteps(40).withReduced(true)
                .withProgress(false);
        Quickstart.Result r = Quickstart.run(s, new PrintStream(text, true, StandardCharsets.UTF_8));

        assertThat(r.table().rows()).extracting(LabelTable.Row::method).containsExactly("majority class",
                "Tribuo logistic regression", "3-shot", "LoRA + classifier head");
        double majority = r.table().rows().get(0).accuracy();
        assertThat(r.table().rows().get(3).accuracy()).isGreaterThan(majority + 0.2);

        assertThat(r.adapter()).isEqualTo(out.resolve(Quickstart.ADAPTER));
        assertThat(r.adapter().resolve("adapter_model.safetensors")).exists();
        assertThat(r.adapter().resolve(SentimentExample.HEAD_FILE)).exists();
        // the merged model is a plain checkpoint of the base's shape, with the base's tokenizer, and not the base
        Pretrained merged = Pretrained.load(r.modelDirectory());
        Pretrained base = Pretrained.load(Path.of("base-model"));
        assertThat(merged.model().config()).isEqualTo(base.model().config());
        assertThat(merged.tokenizer().vocabSize()).isEqualTo(base.tokenizer().vocabSize());
        assertThat(merged.model().parameter("h.0.attn.c_attn.weight"))
                .isNotEqualTo(base.model().parameter("h.0.attn.c_attn.weight"));
        assertThat(merged.model().parameter("wte.weight")).isEqualTo(base.model().parameter("wte.weight"));

        assertThat(r.generation().ids().length).isEqualTo(32);
        String report = text.toString(StandardCharsets.UTF_8);
        assertThat(report).contains("Base model base-model: GPT-2 with 4 layers, 2,615,424 parameters")
                .contains("macro-F1").contains("LoRA adapter with classifier head saved to " + r.adapter())
                .contains("saved as a Hugging Face directory: " + r.modelDirectory())
                .contains("   " + r.prompt() + r.generation().text());
        assertThat(Files.list(out).map(p -> p.getFileName().toString()).toList())
                .containsExactlyInAnyOrder(Quickstart.ADAPTER, Quickstart.MODEL);
    }
}
