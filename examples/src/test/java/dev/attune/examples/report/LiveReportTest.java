package dev.attune.examples.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.train.TrainingListener;
import dev.attune.core.train.TrainingResult;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Model.CommandSpec;

/** {@code --report}: the page follows the run, evaluation by evaluation, and stops reloading when it ends. */
class LiveReportTest {

    @TempDir
    Path dir;

    private void steps(Path metrics, int from, int to) throws Exception {
        StringBuilder b = new StringBuilder();
        for (int s = from; s <= to; s++) {
            b.append("{\"event\":\"step\",\"step\":").append(s).append(",\"loss\":").append(5.0 - 0.1 * s)
                    .append(",\"lr\":1e-3,\"grad_norm\":1.0,\"clipped\":false,\"tokens\":64,"
                            + "\"tokens_per_second\":100.0,\"elapsed_s\":").append(s).append("}\n");
        }
        b.append("{\"event\":\"evaluation\",\"step\":").append(to).append(",\"val_loss\":").append(5.0 - 0.1 * to)
                .append(",\"val_perplexity\":1.0,\"improved\":true}\n");
        Files.writeString(metrics, b, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private static String stepsCell(Document page) {
        return page.select("#runs tbody tr td").get(3).text();
    }

    @Test
    void thePageIsRedrawnAtEveryEvaluationAndReloadsUntilTheEnd() throws Exception {
        Path metrics = dir.resolve("metrics.jsonl");
        Files.writeString(metrics, "{\"event\":\"start\",\"step\":0,\"max_steps\":6,\"trained_parameters\":10,"
                + "\"tokens_per_step\":64,\"data\":\"x\"}\n");
        Path page = dir.resolve(ReportOptions.PAGE);
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        LiveReport live = new LiveReport(dir, CommandSpec.create().name("pretrain"), "pretraining from scratch",
                "tiny", page, new PrintStream(warnings, true, StandardCharsets.UTF_8));

        live.onStart(new TrainingListener.TrainingStart(0, 6, 10, 64, 0, "x"));
        live.awaitPages();
        assertThat(dir.resolve(RunRecord.FILE)).exists();
        Document first = Jsoup.parse(page.toFile());
        assertThat(first.select("meta[http-equiv=refresh]").attr("content"))
                .isEqualTo(String.valueOf(LiveReport.REFRESH_SECONDS));
        assertThat(stepsCell(first)).isEqualTo("0 / 6");
        assertThat(first.select("#runs tbody tr").text()).contains("running or interrupted");

        steps(metrics, 1, 3);
        live.onEvaluation(new TrainingListener.EvaluationMetrics(3, 4.7, 1, true, 4.7, 3));
        live.awaitPages();
        Document second = Jsoup.parse(page.toFile());
        assertThat(stepsCell(second)).isEqualTo("3 / 6");
        assertThat(second.select("meta[http-equiv=refresh]")).hasSize(1);

        steps(metrics, 4, 6);
        Files.writeString(metrics, "{\"event\":\"end\",\"step\":6,\"loss\":4.4,\"best_val_loss\":4.4,"
                + "\"best_step\":6,\"stopped_early\":false}\n", StandardOpenOption.APPEND);
        live.onEvaluation(new TrainingListener.EvaluationMetrics(6, 4.4, 1, true, 4.4, 6));
        live.onEnd(new TrainingResult(6, 4.4, 4.4, 6, false, false, Optional.empty()));
        Document last = Jsoup.parse(page.toFile());
        assertThat(stepsCell(last)).isEqualTo("6 / 6");
        assertThat(last.select("#runs tbody tr").text()).contains("finished");
        assertThat(last.select("meta[http-equiv=refresh]")).isEmpty();
        assertThat(warnings.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void aPageThatCannotBeWrittenIsReportedOnceAndTrainingGoesOn() throws Exception {
        Files.writeString(dir.resolve("metrics.jsonl"), "");
        Path blocked = Files.writeString(dir.resolve("file"), "x").resolve("report.html"); // parent is a file
        ByteArrayOutputStream warnings = new ByteArrayOutputStream();
        LiveReport live = new LiveReport(dir, CommandSpec.create().name("pretrain"), "m", "b", blocked,
                new PrintStream(warnings, true, StandardCharsets.UTF_8));
        live.onStart(new TrainingListener.TrainingStart(0, 2, 10, 64, 0, "x"));
        live.onEvaluation(new TrainingListener.EvaluationMetrics(1, 4.7, 1, true, 4.7, 1));
        live.onEnd(new TrainingResult(2, 4.4, 4.4, 2, false, false, Optional.empty()));
        String text = warnings.toString(StandardCharsets.UTF_8);
        assertThat(text).contains("cannot write the report").contains("training goes on");
        assertThat(text.lines().count()).isEqualTo(1);
    }

    /** Without an end record, the run directory's lock tells a running run from a killed one. */
    @Test
    void theStatusOfAnUnfinishedRunComesFromItsLock() throws Exception {
        Path metrics = dir.resolve("metrics.jsonl");
        steps(metrics, 1, 2);
        String host = Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        Path lock = dir.resolve(dev.attune.core.train.RunDirectory.LOCK_FILE);
        long me = ProcessHandle.current().pid();
        Files.writeString(lock, "pid=" + me + "\nhost=" + host + "\nstarted=2026-01-01T00:00:00Z\n");
        assertThat(RunData.load(dir, "r").status()).isEqualTo("running (pid " + me + ")");

        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        Files.writeString(lock, "pid=" + gone.pid() + "\nhost=" + host + "\n");
        assertThat(RunData.load(dir, "r").status()).isEqualTo("interrupted (pid " + gone.pid() + " is gone)");

        Files.writeString(lock, "pid=12\nhost=elsewhere\n");
        assertThat(RunData.load(dir, "r").status()).isEqualTo("running on elsewhere (pid 12), or killed");

        Files.writeString(lock, ""); // released: the run ended without writing its end record (it failed)
        assertThat(RunData.load(dir, "r").status()).isEqualTo("stopped without finishing");
    }
}
