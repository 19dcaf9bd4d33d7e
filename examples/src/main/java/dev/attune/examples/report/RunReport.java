package dev.attune.examples.report;

import dev.attune.core.io.AtomicFiles;
import dev.attune.core.train.MetricsHistory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jfree.chart.JFreeChart;

/**
 * A report on one or more training runs: one self-contained HTML page (charts inline as SVG, styles inline, no
 * script and nothing fetched from the network) with the training curves of every run overlaid, a summary, the
 * configuration and provenance of each run side by side, and the evaluation results the runs hold. The same charts
 * can be written as PNG files.
 *
 * <pre>{@code
 * RunReport report = RunReport.builder().run(Path.of("runs/full")).run(Path.of("runs/lora")).build();
 * report.write(Path.of("report.html"));
 * report.writePngs(Path.of("figures"));      // loss-by-step.png, ...
 * report.problems();                          // skipped metrics lines, unreadable files
 * }</pre>
 *
 * <p>A run directory is what {@code LmTraining} writes ({@code metrics.jsonl}, {@code checkpoint-N/},
 * {@code model/}), plus the {@code run.json} the {@code attune} training commands record ({@link RunRecord}) and
 * any evaluation files ({@link EvaluationResults}). Runs are read when the report is built.
 */
public final class RunReport {

    private final List<RunData> runs;
    private final String title;
    private final int refreshSeconds;

    private RunReport(List<RunData> runs, String title, int refreshSeconds) {
        this.runs = runs;
        this.title = title;
        this.refreshSeconds = refreshSeconds;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** What could not be read (skipped metrics lines, broken evaluation files), one message per problem. */
    public List<String> problems() {
        return runs.stream().flatMap(r -> r.problems().stream()).toList();
    }

    /** Lines of {@code metrics.jsonl} skipped over all runs. */
    public int skippedLines() {
        return runs.stream().mapToInt(r -> r.metrics().skippedLines()).sum();
    }

    /** Writes the page to {@code file} atomically (a browser reloading it never sees half a page). */
    public void write(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        AtomicFiles.write(file, html().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Writes every chart of the page as a PNG file into {@code directory} (drawn at twice the page's size, sharp on
     * slides): {@code loss-by-step.png}, {@code loss-by-tokens.png}, {@code learning-rate.png},
     * {@code gradient-norm.png}, {@code throughput.png}, and {@code confusion-RUN-NAME.png} per confusion matrix.
     */
    public List<Path> writePngs(Path directory) throws IOException {
        Files.createDirectories(directory);
        List<Path> written = new ArrayList<>();
        for (Charts.Curve curve : Charts.Curve.values()) {
            written.add(png(directory.resolve(curve.file + ".png"), Charts.curve(curve, runs), Charts.WIDTH,
                    Charts.HEIGHT));
        }
        for (RunData run : runs) {
            for (EvaluationResults e : run.evaluations()) {
                if (!e.labels().isEmpty()) {
                    int size = Charts.confusionSize(e);
                    written.add(png(directory.resolve("confusion-" + safe(run.label()) + "-" + safe(e.name()) + ".png"),
                            Charts.confusion(e), size, size));
                }
            }
        }
        return written;
    }

    private static Path png(Path file, JFreeChart chart, int width, int height) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Charts.png(chart, width, height, 2, bytes);
        AtomicFiles.write(file, bytes.toByteArray());
        return file;
    }

    private static String safe(String s) {
        return s.strip().replaceAll("[^A-Za-z0-9._-]+", "-");
    }

    // ------------------------------------------------------------------------------------------------ the page

    /** The page as a string. */
    public String html() {
        StringBuilder h = new StringBuilder(256 * 1024);
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        h.append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        if (refreshSeconds > 0) {
            h.append("<meta http-equiv=\"refresh\" content=\"").append(refreshSeconds).append("\">\n");
        }
        h.append("<meta name=\"generator\" content=\"attune report\">\n");
        h.append("<title>").append(esc(title)).append("</title>\n<style>\n").append(CSS).append("</style>\n</head>\n");
        h.append("<body>\n<header>\n<h1>").append(esc(title)).append("</h1>\n<p class=\"meta\">")
                .append(runs.size()).append(runs.size() == 1 ? " run" : " runs").append(" &middot; written ")
                .append(Instant.now().truncatedTo(ChronoUnit.SECONDS))
                .append(refreshSeconds > 0 ? " &middot; training in progress: this page reloads every "
                        + refreshSeconds + " s" : "")
                .append("</p>\n</header>\n<main>\n");
        summary(h);
        problems(h);
        curves(h);
        configuration(h);
        evaluations(h);
        h.append("</main>\n<footer>Made by <code>attune report</code> from ");
        h.append(String.join(", ", runs.stream().map(r -> "<code>" + esc(r.directory().toString()) + "</code>")
                .toList()));
        h.append(". Training curves with more than ").append(Charts.MAX_POINTS)
                .append(" steps are drawn as the means of ").append(Charts.MAX_POINTS)
                .append(" equal groups of consecutive steps.</footer>\n</body>\n</html>\n");
        return h.toString();
    }

    private void summary(StringBuilder h) {
        h.append("<section id=\"runs\">\n<h2>Runs</h2>\n<table class=\"summary\">\n<thead><tr><th>run</th>"
                + "<th>method</th><th>status</th><th class=\"num\">steps</th><th class=\"num\">last loss</th>"
                + "<th class=\"num\">best validation loss</th><th class=\"num\">tokens seen</th>"
                + "<th class=\"num\">tokens/s</th><th class=\"num\">training time</th></tr></thead>\n<tbody>\n");
        for (int r = 0; r < runs.size(); r++) {
            RunData run = runs.get(r);
            MetricsHistory m = run.metrics();
            Optional<MetricsHistory.Step> last = m.lastStep();
            Optional<MetricsHistory.Evaluation> best = m.bestEvaluation();
            h.append("<tr><td class=\"run\"><span class=\"swatch\" style=\"background:").append(hex(Charts.colour(r)))
                    .append("\"></span>").append(esc(run.label())).append("</td><td>")
                    .append(esc(run.configuration().getOrDefault("method", "\u2014"))).append("</td><td>")
                    .append(esc(run.status())).append("</td><td class=\"num\">")
                    .append(last.map(s -> String.format(Locale.ROOT, "%,d", s.step())).orElse("0"))
                    .append(run.plannedSteps() > 0 ? String.format(Locale.ROOT, " / %,d", run.plannedSteps()) : "")
                    .append("</td><td class=\"num\">").append(last.map(s -> fixed(s.loss())).orElse("\u2014"))
                    .append("</td><td class=\"num\">")
                    .append(best.map(e -> fixed(e.loss()) + " <span class=\"sub\">at step "
                            + String.format(Locale.ROOT, "%,d", e.step()) + "</span>").orElse("\u2014"))
                    .append("</td><td class=\"num\">")
                    .append(last.map(s -> String.format(Locale.ROOT, "%,d", s.tokensSeen())).orElse("\u2014"))
                    .append("</td><td class=\"num\">")
                    .append(last.map(s -> String.format(Locale.ROOT, "%,.0f", s.tokensPerSecond())).orElse("\u2014"))
                    .append("</td><td class=\"num\">").append(last.map(s -> duration(s.elapsedSeconds())).orElse("\u2014"))
                    .append("</td></tr>\n");
        }
        h.append("</tbody>\n</table>\n</section>\n");
    }

    private void problems(StringBuilder h) {
        List<String> all = problems();
        if (all.isEmpty()) {
            return;
        }
        h.append("<section id=\"problems\" class=\"problems\">\n<h2>Not shown</h2>\n<ul>\n");
        for (String p : all) {
            h.append("<li>").append(esc(p)).append("</li>\n");
        }
        h.append("</ul>\n</section>\n");
    }

    private void curves(StringBuilder h) {
        h.append("<section id=\"curves\">\n<h2>Training curves</h2>\n<div class=\"grid\">\n");
        for (Charts.Curve curve : Charts.Curve.values()) {
            h.append("<figure class=\"chart\" id=\"chart-").append(curve.file).append("\">\n")
                    .append(Charts.svg(Charts.curve(curve, runs), Charts.WIDTH, Charts.HEIGHT, "svg-" + curve.file))
                    .append("\n</figure>\n");
        }
        h.append("</div>\n</section>\n");
    }

    private void configuration(StringBuilder h) {
        List<Map<String, String>> rows = runs.stream().map(RunData::configuration).toList();
        List<Map<String, String>> options = runs.stream().map(RunData::options).toList();
        h.append("<section id=\"configuration\">\n<h2>Configuration and provenance</h2>\n");
        table(h, "config", rows);
        if (options.stream().anyMatch(o -> !o.isEmpty())) {
            h.append("<details>\n<summary>Every option of the command, as it ran</summary>\n");
            table(h, "options", options);
            h.append("</details>\n");
        }
        h.append("</section>\n");
    }

    /** Keys down, runs across; rows whose values differ between runs are marked. */
    private void table(StringBuilder h, String cssClass, List<Map<String, String>> columns) {
        Set<String> keys = new LinkedHashSet<>();
        columns.forEach(c -> keys.addAll(c.keySet()));
        h.append("<table class=\"").append(cssClass).append("\">\n<thead><tr><th></th>");
        for (int r = 0; r < runs.size(); r++) {
            h.append("<th><span class=\"swatch\" style=\"background:").append(hex(Charts.colour(r)))
                    .append("\"></span>").append(esc(runs.get(r).label())).append("</th>");
        }
        h.append("</tr></thead>\n<tbody>\n");
        for (String key : keys) {
            Set<String> values = new HashSet<>();
            columns.forEach(c -> values.add(Objects.requireNonNullElse(c.get(key), "")));
            // start times always differ; marking them would hide the differences that matter
            boolean differs = runs.size() > 1 && values.size() > 1 && !key.equals("started");
            h.append(differs ? "<tr class=\"differs\">" : "<tr>").append("<th>").append(esc(key)).append("</th>");
            for (Map<String, String> c : columns) {
                String v = c.get(key);
                h.append("<td>").append(v == null ? "<span class=\"sub\">\u2014</span>" : esc(v)).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</tbody>\n</table>\n");
    }

    private void evaluations(StringBuilder h) {
        if (runs.stream().allMatch(r -> r.evaluations().isEmpty())) {
            return;
        }
        h.append("<section id=\"evaluations\">\n<h2>Evaluation results</h2>\n");
        int chart = 0;
        for (int r = 0; r < runs.size(); r++) {
            RunData run = runs.get(r);
            for (EvaluationResults e : run.evaluations()) {
                h.append("<article class=\"evaluation\">\n<h3><span class=\"swatch\" style=\"background:")
                        .append(hex(Charts.colour(r))).append("\"></span>").append(esc(run.label()))
                        .append(" &middot; ").append(esc(e.name())).append("</h3>\n");
                Map<String, String> about = new LinkedHashMap<>();
                if (!e.task().isEmpty()) {
                    about.put("task", e.task());
                }
                about.putAll(e.details());
                if (!about.isEmpty()) {
                    h.append("<p class=\"meta\">");
                    h.append(String.join(" &middot; ", about.entrySet().stream()
                            .map(x -> esc(x.getKey()) + ": " + esc(x.getValue())).toList()));
                    h.append("</p>\n");
                }
                h.append("<div class=\"evaluation-body\">\n<div>\n<table class=\"metrics\">\n<thead><tr><th>metric</th>"
                        + "<th class=\"num\">value</th>").append(e.stderr().isEmpty() ? "" : "<th class=\"num\">stderr</th>")
                        .append("</tr></thead>\n<tbody>\n");
                e.metrics().forEach((k, v) -> {
                    h.append("<tr><th>").append(esc(k)).append("</th><td class=\"num\">").append(RunData.number(v))
                            .append("</td>");
                    if (!e.stderr().isEmpty()) {
                        Double se = e.stderr().get(k);
                        h.append("<td class=\"num\">").append(se == null ? "" : "&plusmn; " + RunData.number(se))
                                .append("</td>");
                    }
                    h.append("</tr>\n");
                });
                h.append("</tbody>\n</table>\n");
                if (!e.labels().isEmpty()) {
                    h.append("<table class=\"per-class\">\n<thead><tr><th>class</th><th class=\"num\">precision</th>"
                            + "<th class=\"num\">recall</th><th class=\"num\">F1</th><th class=\"num\">support</th>"
                            + "</tr></thead>\n<tbody>\n");
                    for (EvaluationResults.ClassScores c : e.perClass()) {
                        h.append("<tr><th>").append(esc(c.label())).append("</th><td class=\"num\">")
                                .append(fixed(c.precision())).append("</td><td class=\"num\">").append(fixed(c.recall()))
                                .append("</td><td class=\"num\">").append(fixed(c.f1())).append("</td><td class=\"num\">")
                                .append(String.format(Locale.ROOT, "%,d", c.support())).append("</td></tr>\n");
                    }
                    h.append("</tbody>\n</table>\n");
                }
                h.append("</div>\n");
                if (!e.labels().isEmpty()) {
                    int size = Charts.confusionSize(e);
                    h.append("<figure class=\"confusion\" style=\"max-width:").append(size).append("px\">\n")
                            .append(Charts.svg(Charts.confusion(e), size, size, "svg-confusion-" + chart++))
                            .append("\n<figcaption>Confusion matrix</figcaption>\n</figure>\n");
                }
                h.append("</div>\n</article>\n");
            }
        }
        h.append("</section>\n");
    }

    private static String fixed(double v) {
        return Double.isNaN(v) ? "\u2014" : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", s / 3600, s / 60 % 60)
                : s >= 60 ? String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60)
                : String.format(Locale.ROOT, "%.1fs", seconds);
    }

    private static String hex(java.awt.Color c) {
        return String.format(Locale.ROOT, "#%02x%02x%02x", c.getRed(), c.getGreen(), c.getBlue());
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    private static final String CSS = """
            :root { color-scheme: light; }
            body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
                   color: #222; background: #f6f7f9; margin: 0; }
            header { background: #fff; border-bottom: 1px solid #e2e4e8; padding: 14px 28px 10px; }
            h1 { font-size: 21px; margin: 0 0 2px; }
            h2 { font-size: 16px; margin: 0 0 10px; }
            h3 { font-size: 14px; margin: 0 0 6px; }
            main { padding: 16px 28px; max-width: 1560px; }
            section { background: #fff; border: 1px solid #e2e4e8; border-radius: 6px; padding: 14px 16px;
                      margin-bottom: 16px; overflow-x: auto; }
            .meta, .sub, footer { color: #6a6f78; }
            .meta { margin: 0 0 8px; font-size: 13px; }
            .sub { font-size: 12px; }
            table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
            th, td { text-align: left; padding: 4px 12px 4px 0; border-bottom: 1px solid #eef0f3; vertical-align: top; }
            thead th { font-weight: 600; color: #555; border-bottom: 1px solid #d5d8de; white-space: nowrap; }
            tbody th { font-weight: 500; color: #444; white-space: nowrap; }
            .num { text-align: right; }
            tr.differs td { background: #fff8e1; }
            .swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 7px;
                      vertical-align: -1px; }
            .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(480px, 1fr)); gap: 12px; }
            figure { margin: 0; }
            figure svg { width: 100%; height: auto; display: block; }
            figcaption { text-align: center; color: #6a6f78; font-size: 12px; }
            details { margin-top: 12px; }
            summary { cursor: pointer; color: #445; }
            .problems { border-color: #f0c36d; background: #fffbef; }
            .problems li { font-family: ui-monospace, monospace; font-size: 12px; }
            article.evaluation { border-top: 1px solid #eef0f3; padding-top: 12px; margin-top: 12px; }
            article.evaluation:first-of-type { border-top: none; margin-top: 0; padding-top: 0; }
            .evaluation-body { display: flex; flex-wrap: wrap; gap: 28px; align-items: flex-start; }
            .evaluation-body table { margin-bottom: 14px; }
            figure.confusion { flex: 1 1 300px; }
            footer { padding: 0 28px 24px; font-size: 12px; }
            code { font-family: ui-monospace, monospace; font-size: 12px; }
            """;

    /** Runs to report on, a title, and whether the page reloads itself while a run is going. */
    public static final class Builder {
        private final List<Path> directories = new ArrayList<>();
        private String title;
        private int refreshSeconds;

        private Builder() {
        }

        /** Adds a run directory; the legend names it by its directory name (with its parent when two clash). */
        public Builder run(Path directory) {
            directories.add(directory);
            return this;
        }

        public Builder runs(List<Path> directories) {
            this.directories.addAll(directories);
            return this;
        }

        /** The page's heading (default: "Attune run report"). */
        public Builder title(String title) {
            this.title = title;
            return this;
        }

        /** Makes the page reload itself every {@code seconds} (0, the default: never), for a run in progress. */
        public Builder refreshSeconds(int seconds) {
            this.refreshSeconds = seconds;
            return this;
        }

        /** Reads the runs. A missing directory or one without {@code metrics.jsonl} is an error naming it. */
        public RunReport build() throws IOException {
            if (directories.isEmpty()) {
                throw new IllegalArgumentException("no run directories to report on");
            }
            if (refreshSeconds < 0) {
                throw new IllegalArgumentException("refreshSeconds must not be negative, got " + refreshSeconds);
            }
            List<String> labels = labels(directories);
            List<RunData> runs = new ArrayList<>();
            for (int i = 0; i < directories.size(); i++) {
                runs.add(RunData.load(directories.get(i), labels.get(i)));
            }
            return new RunReport(List.copyOf(runs), title == null || title.isBlank() ? "Attune run report" : title,
                    refreshSeconds);
        }

        /** Directory names, lengthened by parents until they are unique. */
        static List<String> labels(List<Path> directories) {
            List<Path> absolute = directories.stream().map(p -> p.toAbsolutePath().normalize()).toList();
            for (int depth = 1; ; depth++) {
                List<String> labels = new ArrayList<>();
                boolean deepest = true;
                for (Path p : absolute) {
                    int n = p.getNameCount();
                    labels.add(n == 0 ? p.toString() : p.subpath(Math.max(0, n - depth), n).toString());
                    deepest &= n <= depth;
                }
                if (new HashSet<>(labels).size() == labels.size() || deepest) {
                    return labels;
                }
            }
        }
    }
}
