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
    void loraBeatsTheBaseModelAndTheLeadBaselineOnRouge(@TempDir Path out) throws Exception {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        SummarizeExample.Settings s = SummarizeExample.Settings.defaults().reduced()
                .withPaths(Path.of("base-model"), Path.of("data", "summarize"), out).withProgress(false);
        SummarizeExample.Result r = SummarizeExample.run(s, new PrintStream(text, true, StandardCharsets.UTF_8));

        assertThat(r.scores()).hasSize(3);
        SummarizeExample.Score lead = r.score("lead-1 (OpenNLP)");
        SummarizeExample.Score lora = r.score("LoRA fine-tuned");
        // the lead sentence names the company and the quarter, so it overlaps the reference but only partly
        assertThat(lead.rouge1()).isBetween(0.1, 0.6);
        assertThat(lora.rougeL()).isGreaterThan(r.score("base model").rougeL() + 0.2);
        assertThat(lora.rougeL()).isGreaterThan(lead.rougeL());
        assertThat(text.toString(StandardCharsets.UTF_8)).contains("ROUGE-L").contains("Reference:");
    }
}
