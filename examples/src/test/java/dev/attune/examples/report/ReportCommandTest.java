package dev.attune.examples.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.config.GptConfig;
import dev.attune.core.train.MetricsHistory;
import dev.attune.examples.cli.Cli;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.jsoup.Jsoup;
import org.jsoup.nodes.Document;
import org.jsoup.nodes.Element;
import org.jsoup.select.Elements;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report as a person sees it: two short real runs (a pretraining from scratch and a full fine-tune of its
 * result) made by the {@code attune} command, one with an evaluation file and a line cut short by a "crash", rendered
 * by {@code attune report} and read back as HTML.
 */
class ReportCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;

    static Path pretrained;
    static Path tuned;
    static Cli pretrainRun;

    /** GPT-2's vocabulary on a one-layer, 32-wide body: a few seconds for both runs. */
    @BeforeAll
    static void twoShortRuns() throws IOException {
        Path config = dir.resolve("config.json");
        GptConfig.builder().layers(1).heads(2).embeddingSize(32).contextLength(32).dropout(0).build().writeJson(config);
        Path corpus = Files.writeString(dir.resolve("corpus.txt"),
                "It was the best of times, it was the worst of times, it was the age of wisdom.\n".repeat(20));
        pretrained = dir.resolve("pretrained");
        pretrainRun = Cli.run("pretrain", "--corpus", corpus.toString(), "--config", config.toString(), "--steps", "6",
                "--out", pretrained.toString(), "--batch", "2", "--context", "16", "--lr", "1e-3", "--eval-every", "2",
                "--report", "--no-progress");
        assertThat(pretrainRun.exitCode()).as(pretrainRun.err()).isZero();

        StringBuilder pairs = new StringBuilder();
        for (int i = 1; i <= 6; i++) {
            pairs.append(JSON.writeValueAsString(Map.of("prompt", "Q: " + i + "+" + i + "?", "completion",
                    " A: " + (2 * i)))).append('\n');
        }
        Path data = Files.writeString(dir.resolve("pairs.jsonl"), pairs.toString());
        tuned = dir.resolve("tuned");
        Cli finetune = Cli.run("finetune", "--model", pretrained.resolve("model").toString(), "--data",
                data.toString(), "--validation", data.toString(), "--out", tuned.toString(), "--steps", "4",
                "--batch", "3", "--lr", "1e-2", "--eval-every", "2", "--no-progress");
        assertThat(finetune.exitCode()).as(finetune.err()).isZero();
    }

    private static EvaluationResults sentiment() {
        return new EvaluationResults("sentiment test", "classification", Map.of("data", "test.jsonl"),
                new LinkedHashMap<>(Map.of("accuracy", 100.0 / 120)), Map.of("accuracy", 0.034),
                List.of("negative", "neutral", "positive"),
                List.of(List.of(38L, 4L, 2L), List.of(6L, 24L, 6L), List.of(1L, 1L, 38L)));
    }

    @Test
    void trainingRecordsTheRunAndRefreshesItsPage() throws IOException {
        JsonNode record = JSON.readTree(pretrained.resolve("run.json").toFile());
        assertThat(record.get("format").asText()).isEqualTo("attune-run");
        assertThat(record.get("command").asText()).isEqualTo("pretrain");
        assertThat(record.get("method").asText()).isEqualTo("pretraining from scratch");
        assertThat(record.get("options").get("--steps").asText()).isEqualTo("6");
        assertThat(record.get("options").get("--lr").asText()).isEqualTo("0.001");
        assertThat(record.get("options").get("--seed").asText()).isEqualTo("1337"); // a default counts too

        // --report: the page of the finished run, which no longer reloads itself
        Document page = Jsoup.parse(pretrained.resolve("report.html").toFile());
        assertThat(page.select("meta[http-equiv=refresh]")).isEmpty();
        assertThat(page.select("#runs tbody tr")).singleElement()
                .satisfies(r -> assertThat(r.text()).contains("pretrained").contains("finished").contains("6 / 6"));
        assertThat(page.select("#curves figure svg")).hasSize(Charts.Curve.values().length);
        // without --report nothing is drawn
        assertThat(tuned.resolve("report.html")).doesNotExist();
        assertThat(tuned.resolve("run.json")).exists();
    }

    @Test
    void aPageOnTwoRunsShowsCurvesConfigurationAndEvaluations() throws IOException {
        Path evaluation = sentiment().write(tuned);
        assertThat(evaluation).isEqualTo(tuned.resolve("evaluations/sentiment-test.json"));
        // a run killed mid-write leaves half a line behind
        Files.writeString(tuned.resolve("metrics.jsonl"), "{\"event\":\"step\",\"step\":5,\"lo",
                StandardOpenOption.APPEND);
        Path out = dir.resolve("page/report.html");
        Path pngs = dir.resolve("png");

        Cli r = Cli.run("report", pretrained.toString(), tuned.toString(), "--out", out.toString(), "--png",
                pngs.toString(), "--output", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode summary = JSON.readTree(r.out());
        assertThat(summary.get("skipped_lines").asInt()).isEqualTo(1);
        assertThat(summary.get("png")).hasSize(Charts.Curve.values().length + 1);

        Document page = Jsoup.parse(out.toFile());
        selfContained(page);

        // the summary: one row per run, in order, each with its colour
        Elements rows = page.select("#runs tbody tr");
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).text()).contains("pretrained", "pretraining from scratch", "finished", "6 / 6");
        assertThat(rows.get(1).text()).contains("tuned", "full fine-tuning", "4 / 4");
        MetricsHistory tunedMetrics = MetricsHistory.read(tuned.resolve("metrics.jsonl"));
        assertThat(rows.get(1).text()).contains(String.format(java.util.Locale.ROOT, "%.4f",
                tunedMetrics.lastStep().orElseThrow().loss()));
        assertThat(rows.get(0).select(".swatch").attr("style")).contains("#4e79a7");
        assertThat(rows.get(1).select(".swatch").attr("style")).contains("#f28e2b");

        // the cut line is reported, not fatal
        assertThat(page.select("#problems li")).singleElement()
                .satisfies(li -> assertThat(li.text()).contains("metrics.jsonl: skipped 1 unreadable line")
                        .contains("line " + Files.readAllLines(tuned.resolve("metrics.jsonl")).size()));

        // five charts, each an inline SVG with both runs in its legend and their curves in the run colours
        Elements charts = page.select("#curves figure.chart");
        assertThat(charts.eachAttr("id")).containsExactly("chart-loss-by-step", "chart-loss-by-tokens",
                "chart-learning-rate", "chart-gradient-norm", "chart-throughput");
        for (Element chart : charts) {
            Element svg = chart.selectFirst("svg");
            assertThat(svg).as(chart.id()).isNotNull();
            assertThat(svg.attr("viewBox")).isEqualTo("0 0 " + Charts.WIDTH + " " + Charts.HEIGHT);
            List<String> texts = svg.select("text").eachText();
            assertThat(texts).as(chart.id()).contains("pretrained", "tuned");
            String strokes = svg.select("[style*=stroke]").eachAttr("style").toString();
            assertThat(strokes).as(chart.id()).contains("rgb(78,121,167)").contains("rgb(242,142,43)");
        }
        assertThat(page.select("#chart-loss-by-step svg text").eachText()).contains("validation", "training", "step", "loss (nats per token)");
        assertThat(page.select("#chart-loss-by-tokens svg text").eachText()).contains("tokens seen");

        // configuration side by side; what differs is marked, what agrees is not
        Map<String, Element> config = new LinkedHashMap<>();
        for (Element row : page.select("#configuration table.config tbody tr")) {
            config.put(row.selectFirst("th").text(), row);
        }
        assertThat(config).containsKeys("command", "method", "base model", "training data", "model shape",
                "trained parameters", "batch", "learning rate", "optimizer", "seed", "commit", "started");
        assertThat(config.get("method").select("td").eachText())
                .containsExactly("pretraining from scratch", "full fine-tuning");
        assertThat(config.get("method").hasClass("differs")).isTrue();
        assertThat(config.get("seed").select("td").eachText()).containsExactly("1337", "1337");
        assertThat(config.get("seed").hasClass("differs")).isFalse();
        assertThat(config.get("base model").select("td").get(1).text())
                .isEqualTo(pretrained.resolve("model").toString());
        assertThat(config.get("batch").select("td").get(0).text()).startsWith("2 rows x 1 micro-batches x 16 positions");
        assertThat(config.get("learning rate").select("td").eachText())
                .satisfiesExactly(a -> assertThat(a).startsWith("1e-3 peak, cosine"),
                        b -> assertThat(b).startsWith("0.01 peak, linear"));
        assertThat(config.get("model shape").select("td").get(0).text())
                .isEqualTo("1 layers, 2 heads, width 32, context 32, vocabulary 50,257");
        assertThat(page.select("#configuration details table.options th").eachText()).contains("--eval-every");

        // the evaluation: metrics, per-class scores computed from the confusion matrix, and the heat map
        Elements articles = page.select("#evaluations article.evaluation");
        assertThat(articles).singleElement();
        Element article = articles.get(0);
        assertThat(article.selectFirst("h3").text()).isEqualTo("tuned \u00b7 sentiment test");
        assertThat(article.select("table.metrics tbody tr").get(0).text()).isEqualTo("accuracy 0.833333 \u00b1 0.034");
        Elements perClass = article.select("table.per-class tbody tr");
        assertThat(perClass.eachText()).containsExactly(
                // precision TP / column, recall TP / row, F1 = 2 TP / (2 TP + FP + FN)
                String.format(java.util.Locale.ROOT, "negative %.4f %.4f %.4f 44", 38 / 45.0, 38 / 44.0, 76 / 89.0),
                String.format(java.util.Locale.ROOT, "neutral %.4f %.4f %.4f 36", 24 / 29.0, 24 / 36.0, 48 / 65.0),
                String.format(java.util.Locale.ROOT, "positive %.4f %.4f %.4f 40", 38 / 46.0, 38 / 40.0, 76 / 86.0));
        Element heatMap = article.selectFirst("figure.confusion svg");
        assertThat(heatMap).isNotNull();
        assertThat(heatMap.select("text").eachText()).contains("38", "24", "6", "1", "negative", "neutral",
                "positive", "predicted label", "true label");

        // PNG files of the same charts, drawn at twice the page's size
        for (JsonNode p : summary.get("png")) {
            BufferedImage image = ImageIO.read(Path.of(p.asText()).toFile());
            assertThat(image).as(p.asText()).isNotNull();
            if (!p.asText().contains("confusion")) {
                assertThat(image.getWidth()).isEqualTo(2 * Charts.WIDTH);
                assertThat(image.getHeight()).isEqualTo(2 * Charts.HEIGHT);
            }
        }
        assertThat(pngs.resolve("loss-by-step.png")).exists();
        assertThat(pngs.resolve("confusion-tuned-sentiment-test.png")).exists();
    }

    /** Nothing fetched when the page opens: no script, no stylesheet link, no external image, unique ids. */
    private static void selfContained(Document page) {
        assertThat(page.select("script, link, iframe, object, embed")).isEmpty();
        for (Element e : page.getAllElements()) {
            for (String attribute : List.of("src", "href", "xlink:href", "data")) {
                assertThat(e.attr(attribute)).as(e.tagName() + " " + attribute)
                        .doesNotContain("http:").doesNotContain("https:").doesNotStartWith("//");
            }
        }
        assertThat(page.select("style").html()).doesNotContain("url(").doesNotContain("@import");
        List<String> ids = page.getAllElements().eachAttr("id");
        Set<String> unique = new HashSet<>(ids);
        assertThat(unique).as("element ids").hasSameSizeAs(ids);
    }

    /** {@code attune evaluate --save}: a real classification evaluation of the pretrained model, on the page. */
    @Test
    void evaluateSavesResultsTheReportShows() throws IOException {
        Path run = Files.createDirectories(dir.resolve("evaluated"));
        Files.copy(pretrained.resolve("metrics.jsonl"), run.resolve("metrics.jsonl"));
        Path task = Files.writeString(dir.resolve("moods.jsonl"), """
                {"text": "What a lovely day", "label": "happy"}
                {"text": "I lost my keys again", "label": "sad"}
                {"text": "We won the match", "label": "happy"}
                {"text": "The rain ruined it", "label": "sad"}
                {"text": "Best party ever", "label": "happy"}
                """);
        Cli evaluate = Cli.run("evaluate", "--model", pretrained.resolve("model").toString(), "--task",
                task.toString(), "--type", "cls", "--save", run.toString(), "--output", "json", "--no-progress");
        assertThat(evaluate.exitCode()).as(evaluate.err()).isZero();
        JsonNode printed = JSON.readTree(evaluate.out());
        Path file = run.resolve("evaluations/moods.jsonl-cls-0-shot.json");
        assertThat(evaluate.err()).contains("saved the results to " + file);

        EvaluationResults saved = EvaluationResults.read(file);
        double acc = printed.get("acc").asDouble();
        assertThat(saved.metrics()).containsEntry("acc", acc).containsEntry("n", 5.0);
        assertThat(saved.stderr()).containsEntry("acc", printed.get("acc_stderr").asDouble());
        assertThat(saved.labels()).startsWith("happy", "sad");
        long total = saved.confusion().stream().flatMap(List::stream).mapToLong(Long::longValue).sum();
        long correct = 0;
        for (int i = 0; i < saved.labels().size(); i++) {
            correct += saved.confusion().get(i).get(i);
        }
        assertThat(total).isEqualTo(5);
        assertThat(correct).isEqualTo(Math.round(acc * 5)); // the matrix agrees with the printed accuracy
        assertThat(saved.perClass()).extracting(EvaluationResults.ClassScores::support).startsWith(3L, 2L);

        Path out = dir.resolve("evaluated.html");
        assertThat(Cli.run("report", run.toString(), "--out", out.toString()).exitCode()).isZero();
        Element article = Jsoup.parse(out.toFile()).selectFirst("#evaluations article.evaluation");
        assertThat(article.selectFirst("h3").text()).isEqualTo("evaluated \u00b7 moods.jsonl (cls, 0-shot)");
        assertThat(article.select("table.per-class tbody tr th").eachText()).startsWith("happy", "sad");
        assertThat(article.select("figure.confusion svg")).hasSize(1);
    }

    @Test
    void badInputIsNamed() throws IOException {
        Cli missing = Cli.run("report", dir.resolve("nowhere").toString(), "--out", dir.resolve("x.html").toString());
        assertThat(missing.exitCode()).isNotZero();
        assertThat(missing.err()).contains("nowhere").contains("run directory not found");

        Path empty = Files.createDirectories(dir.resolve("empty"));
        Cli notARun = Cli.run("report", empty.toString(), "--out", dir.resolve("x.html").toString());
        assertThat(notARun.exitCode()).isNotZero();
        assertThat(notARun.err()).contains("metrics.jsonl").contains("not a training run directory");

        // a broken evaluation file is named on the page and on stderr; the rest of the page is still written
        Path run = Files.createDirectories(dir.resolve("broken-eval"));
        Files.copy(pretrained.resolve("metrics.jsonl"), run.resolve("metrics.jsonl"));
        Files.createDirectories(run.resolve("evaluations"));
        Files.writeString(run.resolve("evaluations/bad.json"), "{\"format\":\"attune-evaluation\",\"version\":1,"
                + "\"name\":\"x\",\"metrics\":{\"acc\":0.5},\"labels\":[\"a\",\"b\"],\"confusion\":[[1,2],[3]]}");
        Path out = dir.resolve("broken.html");
        Cli r = Cli.run("report", run.toString(), "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("bad.json: confusion row 1 has 1 counts, expected 2");
        assertThat(Jsoup.parse(out.toFile()).select("#problems li").text()).contains("bad.json");
    }

    @Test
    void evaluationFilesRoundTripAndAreValidated() throws IOException {
        Path run = Files.createDirectories(dir.resolve("round-trip"));
        EvaluationResults written = sentiment();
        EvaluationResults read = EvaluationResults.read(written.write(run));
        assertThat(read).isEqualTo(written);
        assertThat(read.perClass().get(1).recall()).isCloseTo(24 / 36.0, within(1e-12));

        // a class never predicted: precision is 0/0, shown as such, not as 0
        EvaluationResults never = new EvaluationResults("n", "", Map.of(), Map.of("acc", 0.5), Map.of(),
                List.of("a", "b"), List.of(List.of(1L, 0L), List.of(1L, 0L)));
        assertThat(never.perClass().get(1).precision()).isNaN();
        assertThat(never.perClass().get(1).recall()).isZero();

        Path bad = Files.writeString(run.resolve("bad.json"),
                "{\"format\":\"attune-evaluation\",\"version\":1,\"name\":\"x\",\"metrics\":{\"acc\":\"high\"}}");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> EvaluationResults.read(bad)))
                .hasMessageContaining("bad.json").hasMessageContaining("\"metrics\".acc must be a number");
        Path other = Files.writeString(run.resolve("other.json"), "{\"format\":\"something-else\"}");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> EvaluationResults.read(other)))
                .hasMessageContaining("other.json").hasMessageContaining("\"format\" must be \"attune-evaluation\"");
        assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> new EvaluationResults("", "", Map.of(),
                Map.of(), Map.of("acc", 0.1), List.of("a"), List.of(List.of(1L, 2L)))))
                .hasMessageContaining("\"name\" must not be empty")
                .hasMessageContaining("\"metrics\" must hold at least one number")
                .hasMessageContaining("\"stderr\" has \"acc\"")
                .hasMessageContaining("confusion row 0 has 2 counts, expected 1");
    }

    @Test
    void runsAreLabelledByDirectoryNameLengthenedUntilUnique() {
        assertThat(RunReport.Builder.labels(List.of(Path.of("/r/a/out"), Path.of("/r/b/out"), Path.of("/r/c"))))
                .containsExactly("a/out", "b/out", "r/c");
        assertThat(RunReport.Builder.labels(List.of(Path.of("/x/full"), Path.of("/x/lora"))))
                .containsExactly("full", "lora");
    }

    @Test
    void longRunsAreAveragedIntoAtMostAThousandPoints() {
        List<MetricsHistory.Step> steps = new ArrayList<>();
        for (int s = 1; s <= 2500; s++) {
            steps.add(new MetricsHistory.Step(s, s, 0, 0, false, 1, s, 0, 0));
        }
        var series = Charts.downsample("x", steps, MetricsHistory.Step::step, MetricsHistory.Step::loss);
        assertThat(series.getItemCount()).isEqualTo(Charts.MAX_POINTS);
        // buckets of 2 or 3 consecutive steps: the first holds steps 1 and 2, the last 2498 to 2500
        assertThat(series.getX(0).doubleValue()).isEqualTo(1.5);
        assertThat(series.getY(999).doubleValue()).isEqualTo(2499.0);
        double total = 0;
        for (int i = 0; i < series.getItemCount(); i++) {
            total += series.getY(i).doubleValue();
        }
        assertThat(total / Charts.MAX_POINTS).isCloseTo(1250.5, within(1.0));
    }
}
