package dev.attune.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetricsHistoryTest {

    @TempDir
    Path dir;

    private static TrainingListener.StepMetrics step(long step, double loss, long tokens) {
        return new TrainingListener.StepMetrics(step, 10, loss, 1e-3 * step, 0.5 + step, step % 2 == 0, tokens,
                1000.0 * step, 0.25 * step, 1);
    }

    /** What {@link MetricsLog} writes, read back field by field. */
    @Test
    void readsWhatTheTrainingWrote() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        try (MetricsLog log = new MetricsLog(file, 0)) {
            log.onStart(new TrainingListener.TrainingStart(0, 4, 1234, 64, 0, "tokens.bin"));
            for (int s = 1; s <= 4; s++) {
                log.onStep(step(s, 5.0 - s, 60 + s));
                if (s % 2 == 0) {
                    log.onEvaluation(new TrainingListener.EvaluationMetrics(s, 4.5 - s, Math.exp(4.5 - s), true,
                            4.5 - s, s));
                }
            }
            log.onCheckpoint(4, dir.resolve("checkpoint-000004"));
            log.onEnd(new TrainingResult(4, 1.0, Double.NaN, 0, false, false, Optional.empty()));
        }
        MetricsHistory h = MetricsHistory.read(file);
        assertThat(h.skippedLines()).isZero();
        assertThat(h.steps()).extracting(MetricsHistory.Step::step).containsExactly(1L, 2L, 3L, 4L);
        assertThat(h.steps()).extracting(MetricsHistory.Step::loss).containsExactly(4.0, 3.0, 2.0, 1.0);
        // running sums of 61, 62, 63, 64 positions
        assertThat(h.steps()).extracting(MetricsHistory.Step::tokensSeen).containsExactly(61L, 123L, 186L, 250L);
        MetricsHistory.Step third = h.steps().get(2);
        assertThat(third.learningRate()).isEqualTo(3e-3);
        assertThat(third.gradientNorm()).isEqualTo(3.5);
        assertThat(third.tokensPerSecond()).isEqualTo(3000.0);
        assertThat(third.elapsedSeconds()).isEqualTo(0.75);
        assertThat(h.steps().get(1).clipped()).isTrue();
        assertThat(h.evaluations()).extracting(MetricsHistory.Evaluation::step).containsExactly(2L, 4L);
        assertThat(h.evaluations()).extracting(MetricsHistory.Evaluation::tokensSeen).containsExactly(123L, 250L);
        assertThat(h.bestEvaluation()).map(MetricsHistory.Evaluation::loss).contains(0.5);
        assertThat(h.checkpoints()).extracting(MetricsHistory.Checkpoint::step).containsExactly(4L);
        assertThat(h.starts()).singleElement().satisfies(s -> {
            assertThat(s.maxSteps()).isEqualTo(4);
            assertThat(s.trainedParameters()).isEqualTo(1234);
            assertThat(s.data()).isEqualTo("tokens.bin");
        });
        assertThat(h.end()).hasValueSatisfying(e -> {
            assertThat(e.step()).isEqualTo(4);
            assertThat(e.bestValidationLoss()).isNaN(); // written as the string "NaN"
        });
    }

    /** A run killed mid-write, and other debris: every whole line is kept, every broken one counted. */
    @Test
    void skipsAndCountsMalformedAndTruncatedLines() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        String lines = String.join("\n",
                "{\"event\":\"step\",\"step\":1,\"loss\":3.0,\"lr\":1e-3,\"grad_norm\":1.0,\"clipped\":false,"
                        + "\"tokens\":10,\"tokens_per_second\":5.0,\"elapsed_s\":1.0}",
                "not json at all",
                "{\"event\":\"step\",\"step\":2,\"lr\":1e-3,\"grad_norm\":1.0,\"tokens\":10,"
                        + "\"tokens_per_second\":5.0,\"elapsed_s\":2.0}",                       // no loss
                "{\"event\":\"step\",\"step\":3,\"loss\":2.0,\"lr\":1e-3,\"grad_norm\":1.0,\"clipped\":false,"
                        + "\"tokens\":10,\"tokens_per_second\":5.0,\"elapsed_s\":3.0} {\"x\":1}", // two objects
                "",
                "{\"step\":4}",                                                                    // no event
                "{\"event\":\"a_later_event\",\"step\":4}",                                       // ignored
                "[1,2]",
                "{\"event\":\"evaluation\",\"step\":1,\"val_loss\":2.5,\"val_perplexity\":12.2,\"improved\":true}",
                "{\"event\":\"step\",\"step\":4,\"loss\":1.5,\"lr\":1e-3,\"grad_norm\":1.0,\"clipped\":false,"
                        + "\"tokens\":10,\"tokens_per_second\":5.0,\"elapsed_s\":4.0}",
                "{\"event\":\"step\",\"step\":5,\"loss\":1.4,\"lr\":1e-3,\"grad_n");             // killed mid-write
        Files.writeString(file, lines, StandardCharsets.UTF_8);
        Files.write(file, new byte[] {'\n', (byte) 0xff, (byte) 0xfe, 0, 0, '\n'}, StandardOpenOption.APPEND);

        MetricsHistory h = MetricsHistory.read(file);
        assertThat(h.steps()).extracting(MetricsHistory.Step::step).containsExactly(1L, 4L);
        assertThat(h.steps()).extracting(MetricsHistory.Step::tokensSeen).containsExactly(10L, 20L);
        assertThat(h.evaluations()).singleElement().satisfies(e -> assertThat(e.loss()).isEqualTo(2.5));
        assertThat(h.skippedLines()).isEqualTo(7);
        assertThat(h.problems()).hasSize(MetricsHistory.MAX_PROBLEMS);
        assertThat(h.problems().get(0)).startsWith("line 2: not one JSON object");
        assertThat(h.problems().get(1)).isEqualTo("line 3: step event without a number \"loss\"");
        assertThat(h.problems().get(2)).startsWith("line 4: not one JSON object");
        assertThat(h.problems().get(3)).isEqualTo("line 6: no \"event\" field");
        assertThat(h.problems().get(4)).isEqualTo("line 8: not a JSON object");
        assertThat(h.end()).isEmpty();
    }

    @Test
    void aMissingFileIsAnError() {
        assertThatThrownBy(() -> MetricsHistory.read(dir.resolve("none.jsonl"))).isInstanceOf(NoSuchFileException.class);
    }
}
