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
    void reducedRunScoresBeforeAndAfterAndLoraLowersTheHeldOutAnswerLoss(@TempDir Path out) throws Exception {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        QaExample.Settings s = QaExample.Settings.defaults().reduced()
                .withPaths(Path.of("base-model"), Path.of("data", "qa"), out).withProgress(false);
        QaExample.Result r = QaExample.run(s, new PrintStream(text, true, StandardCharsets.UTF_8));

        for (QaExample.Score score : java.util.List.of(r.before(), r.after())) {
            assertThat(score.exactMatch()).isBetween(0.0, 1.0);
            assertThat(score.f1()).isBetween(score.exactMatch(), 1.0); // an exact match is an F1 of 1
        }
        // what LoRA learns on this base model shows in the held-out answers' loss, not yet in greedy answers
        // (examples/README.md says why)
        assertThat(r.answerLossAfter()).isLessThan(r.answerLossBefore() - 0.5);
        assertThat(r.adapter().resolve("adapter_model.safetensors")).exists();
        assertThat(text.toString(StandardCharsets.UTF_8)).contains("exact match").contains("LoRA fine-tuned")
                .contains(String.format(java.util.Locale.ROOT, "%.3f before, %.3f after LoRA", r.answerLossBefore(),
                        r.answerLossAfter()));
    }

    @Test
    void scoresAreSquadsExactMatchAndF1() {
        QaExample.Item item = new QaExample.Item("ctx", "q", "the Tampere");
        QaExample.Score s = QaExample.score("m", List.of(item, item), List.of("Tampere", "lives in Tampere"));
        assertThat(s.exactMatch()).isEqualTo(0.5); // articles are dropped before comparing
        // "lives in tampere" against "tampere": precision 1/3, recall 1, F1 2 * (1/3) / (4/3) = 0.5
        assertThat(s.f1()).isCloseTo((1.0 + 0.5) / 2, org.assertj.core.data.Offset.offset(1e-9));
    }
}
