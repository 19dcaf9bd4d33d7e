package dev.attune.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportingTest {

    @TempDir
    Path dir;

    private static TrainingListener.StepMetrics step(long step, long max) {
        return new TrainingListener.StepMetrics(step, max, 2.5, 3e-4, 1.2, false, 512, 25_000, step * 0.1,
                (max - step) * 0.1);
    }

    @Test
    void progressPrintsEveryFivePercentWhenNotATerminal() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressReporter p = new ProgressReporter(new PrintStream(bytes, true, StandardCharsets.UTF_8), false);
        p.onStart(new TrainingListener.TrainingStart(0, 100, 1_000_000, 4096, 3, "12 tokens from x.bin"));
        for (int s = 1; s <= 100; s++) {
            p.onStep(step(s, 100));
        }
        p.onEvaluation(new TrainingListener.EvaluationMetrics(100, 2.0, Math.exp(2.0), true, 2.0, 100));
        p.onEnd(new TrainingResult(100, 2.5, 2.0, 100, false, false, Optional.empty()));
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines.get(0)).contains("1,000,000 parameters").contains("steps 1 to 100")
                .contains("3 examples are longer than the context");
        assertThat(lines.stream().filter(l -> l.startsWith("step ") && l.contains("ETA"))).hasSize(20);
        assertThat(lines).contains("step 50/100  50% |##########          | loss 2.5000  lr 3.00e-04  25.0k tok/s  ETA 5s");
        assertThat(lines).anyMatch(l -> l.equals("step 100: validation loss 2.0000, perplexity 7.39 (best so far)"));
        assertThat(lines.get(lines.size() - 1)).isEqualTo("done after 100 steps");
        assertThat(bytes.toString(StandardCharsets.UTF_8)).doesNotContain("\r");
    }

    @Test
    void durationsAndRatesAreCompact() {
        assertThat(ProgressLine.duration(3725)).isEqualTo("1h02m");
        assertThat(ProgressLine.duration(125)).isEqualTo("2m05s");
        assertThat(ProgressLine.duration(Double.NaN)).isEqualTo("?");
        assertThat(ProgressLine.compact(2_500_000)).isEqualTo("2.5M");
        assertThat(ProgressLine.compact(950)).isEqualTo("950");
    }

    @Test
    void aResumedMetricsLogDropsWhatTheInterruptedRunWroteAfterItsCheckpoint() throws IOException {
        Path file = dir.resolve("metrics.jsonl");
        try (MetricsLog log = new MetricsLog(file, 0)) {
            for (int s = 1; s <= 7; s++) {
                log.onStep(step(s, 10));
            }
        }
        Files.writeString(file, Files.readString(file) + "{\"event\":\"step\",\"st", java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
        try (MetricsLog log = new MetricsLog(file, 5)) {
            log.onStep(step(6, 10));
        }
        List<String> lines = Files.readAllLines(file);
        assertThat(lines).hasSize(6);
        assertThat(lines.get(4)).contains("\"step\":5");
        assertThat(lines.get(5)).contains("\"step\":6").contains("\"grad_norm\":1.2").contains("\"lr\":3.0E-4");

        try (MetricsLog log = new MetricsLog(file, 0)) {
            log.onStep(step(1, 10));
        }
        assertThat(Files.readAllLines(file)).as("a fresh run starts a fresh log").hasSize(1);
    }
}
