package dev.attune.examples.summarize;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SummarizeExampleTest {

    @Test
    void reducedRunScoresLeadBaseAndLoraWithRougeAndLoraLowersTheHeldOutLoss(@TempDir Path out) throws Exception {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        SummarizeExample.Settings s = SummarizeExample.Settings.defaults().reduced()
                .withPaths(Path.of("base-model"), Path.of("data", "summarize"), out).withProgress(false);
        SummarizeExample.Result r = SummarizeExample.run(s, new PrintStream(text, true, StandardCharsets.UTF_8));

        assertThat(r.scores()).extracting(SummarizeExample.Score::method).containsExactly("lead-1 (OpenNLP)",
                "base model", "LoRA fine-tuned");
        SummarizeExample.Score lead = r.score("lead-1 (OpenNLP)");
        // the lead sentence names the company and the quarter, so it overlaps the reference but only partly
        assertThat(lead.rouge1()).isBetween(0.2, 0.7);
        assertThat(lead.rougeL()).isBetween(0.15, lead.rouge1());
        for (SummarizeExample.Score sc : r.scores()) {
            assertThat(sc.rouge2()).isBetween(0.0, sc.rouge1());
        }
        assertThat(r.summaryLossAfter()).isLessThan(r.summaryLossBefore() - 0.5);
        assertThat(r.adapter().resolve("adapter_config.json")).exists();
        assertThat(text.toString(StandardCharsets.UTF_8)).contains("ROUGE-L").contains("Reference:")
                .contains("after LoRA");
    }
}
