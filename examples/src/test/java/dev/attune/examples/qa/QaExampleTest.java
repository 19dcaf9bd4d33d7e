package dev.attune.examples.qa;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QaExampleTest {

    @Test
    void fineTuningRaisesExactMatchAndF1(@TempDir Path out) throws Exception {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        QaExample.Settings s = QaExample.Settings.defaults().reduced()
                .withPaths(Path.of("base-model"), Path.of("data", "qa"), out).withProgress(false);
        QaExample.Result r = QaExample.run(s, new PrintStream(text, true, StandardCharsets.UTF_8));

        assertThat(r.before().exactMatch()).isBetween(0.0, 1.0);
        assertThat(r.after().f1()).isGreaterThan(r.before().f1() + 0.2);
        assertThat(r.after().exactMatch()).isGreaterThan(r.before().exactMatch());
        assertThat(r.adapter().resolve("adapter_model.safetensors")).exists();
        assertThat(text.toString(StandardCharsets.UTF_8)).contains("exact match").contains("LoRA fine-tuned");
    }

    @Test
    void scoresAreSquadsExactMatchAndF1() {
        QaExample.Item item = new QaExample.Item("ctx", "q", "the Tampere");
        QaExample.Score s = QaExample.score("m", List.of(item, item), List.of("Tampere", "lives in Tampere"));
        assertThat(s.exactMatch()).isEqualTo(0.5); // articles are dropped before comparing
        assertThat(s.f1()).isCloseTo((1.0 + 2 * 0.5 * 1.0 / 1.5) / 2, org.assertj.core.data.Offset.offset(1e-9));
    }
}
