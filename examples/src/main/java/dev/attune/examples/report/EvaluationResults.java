package dev.attune.examples.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The results of evaluating a model, as a small JSON file in the run directory that {@code attune report} shows:
 * {@code RUN_DIR/evaluations/NAME.json}. Commands that evaluate (classifiers, benchmarks on task files) write one;
 * anyone can write one by hand.
 *
 * <pre>
 * {
 *   "format": "attune-evaluation",       required, exactly this
 *   "version": 1,                         required
 *   "name": "sentiment test set",         required: the heading in the report
 *   "task": "classification",             optional, free text (classification, multiple-choice, generation, ...)
 *   "details": {"model": "runs/ft/model", "data": "test.jsonl"},     optional, strings shown as they are
 *   "metrics": {"accuracy": 0.91, "macro_f1": 0.90, "n": 200},       required, at least one number
 *   "stderr": {"accuracy": 0.02},         optional: standard errors of some of the metrics
 *   "labels": ["negative", "positive"],  optional, together with "confusion"
 *   "confusion": [[90, 10], [8, 92]]     rows = true label, columns = predicted label, both in "labels" order
 * }
 * </pre>
 *
 * The keys {@code accuracy}, {@code macro_f1}, {@code n}, {@code labels} and {@code confusion} are those
 * {@code attune classify eval --output json} prints. Per-class precision, recall and F1 are not stored: they follow
 * from the confusion matrix ({@link #perClass()}).
 *
 * @param name      the evaluation's name (also the file name, made safe)
 * @param task      what kind of evaluation, or empty
 * @param details   free-form provenance (model, data, date), in insertion order
 * @param metrics   metric name to value, in insertion order
 * @param stderr    standard errors for some metrics
 * @param labels    class labels, empty when there is no confusion matrix
 * @param confusion {@code [labels][labels]} counts, rows true and columns predicted; empty without labels
 */
public record EvaluationResults(String name, String task, Map<String, String> details, Map<String, Double> metrics,
                                Map<String, Double> stderr, List<String> labels, List<List<Long>> confusion) {

    /** The directory inside a run directory that holds evaluation files. */
    public static final String DIRECTORY = "evaluations";
    static final String FORMAT = "attune-evaluation";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    /** Validates; the message names every problem. */
    public EvaluationResults {
        task = task == null ? "" : task;
        details = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(details == null ? Map.of() : details));
        metrics = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metrics == null ? Map.of() : metrics));
        stderr = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(stderr == null ? Map.of() : stderr));
        labels = List.copyOf(labels == null ? List.of() : labels);
        confusion = confusion == null ? List.of() : confusion.stream().map(List::copyOf).toList();
        List<String> problems = new ArrayList<>();
        if (name == null || name.isBlank()) {
            problems.add("\"name\" must not be empty");
        }
        if (metrics.isEmpty()) {
            problems.add("\"metrics\" must hold at least one number");
        }
        for (String key : stderr.keySet()) {
            if (!metrics.containsKey(key)) {
                problems.add("\"stderr\" has \"" + key + "\", which is not in \"metrics\"");
            }
        }
        if (labels.size() != confusion.size()) {
            problems.add("\"confusion\" must have one row per label: " + labels.size() + " labels, "
                    + confusion.size() + " rows");
        }
        if (labels.stream().distinct().count() != labels.size()) {
            problems.add("\"labels\" has duplicates");
        }
        for (int i = 0; i < confusion.size(); i++) {
            List<Long> row = confusion.get(i);
            if (row.size() != labels.size()) {
                problems.add("confusion row " + i + " has " + row.size() + " counts, expected " + labels.size());
            }
            if (row.stream().anyMatch(c -> c == null || c < 0)) {
                problems.add("confusion row " + i + " has a negative or missing count");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(String.join("; ", problems));
        }
    }

    /**
     * The results of {@code attune evaluate} (or {@link dev.attune.prompting.eval.Evaluator}) on {@code items}: every
     * finite metric with its standard error and {@code n}; for a classification task also the labels and the
     * confusion matrix of gold label against prediction (gold labels in order of first appearance, then labels only
     * predicted).
     */
    public static EvaluationResults of(dev.attune.prompting.eval.EvalReport report,
                                       List<dev.attune.prompting.eval.TaskItem> items, Map<String, String> details) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        Map<String, Double> stderr = new LinkedHashMap<>();
        for (String m : report.metricNames()) {
            if (Double.isFinite(report.metric(m))) {
                metrics.put(m, report.metric(m));
                if (Double.isFinite(report.stderr(m))) {
                    stderr.put(m, report.stderr(m));
                }
            }
        }
        metrics.put("n", (double) report.itemCount());
        List<String> labels = new ArrayList<>();
        List<List<Long>> confusion = new ArrayList<>();
        if (report.type() == dev.attune.prompting.eval.TaskType.CLS) {
            Map<Integer, String> gold = new java.util.HashMap<>();
            items.forEach(i -> gold.put(i.line(), i.label()));
            java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>();
            items.forEach(i -> names.add(i.label()));
            report.items().forEach(r -> names.add(r.prediction()));
            labels.addAll(names);
            long[][] counts = new long[labels.size()][labels.size()];
            for (dev.attune.prompting.eval.EvalReport.ItemResult r : report.items()) {
                String truth = gold.get(r.line());
                if (truth == null) {
                    throw new IllegalArgumentException("the report has an item of line " + r.line()
                            + " that the task items do not");
                }
                counts[labels.indexOf(truth)][labels.indexOf(r.prediction())]++;
            }
            for (long[] row : counts) {
                confusion.add(java.util.Arrays.stream(row).boxed().toList());
            }
        }
        String name = Path.of(report.task()).getFileName() + " (" + report.type().cliName() + ", " + report.shots()
                + "-shot)";
        return new EvaluationResults(name, report.type().cliName(), details, metrics, stderr, labels, confusion);
    }

    /** Precision, recall and F1 of one class, from the confusion matrix; NaN where a ratio is 0/0. */
    public record ClassScores(String label, double precision, double recall, double f1, long support) {
    }

    /** Per-class scores in label order (empty without a confusion matrix). */
    public List<ClassScores> perClass() {
        List<ClassScores> out = new ArrayList<>();
        for (int c = 0; c < labels.size(); c++) {
            long truePositives = confusion.get(c).get(c);
            long actual = 0;
            long predicted = 0;
            for (int k = 0; k < labels.size(); k++) {
                actual += confusion.get(c).get(k);
                predicted += confusion.get(k).get(c);
            }
            double precision = predicted == 0 ? Double.NaN : (double) truePositives / predicted;
            double recall = actual == 0 ? Double.NaN : (double) truePositives / actual;
            double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall)
                    : (Double.isNaN(precision) || Double.isNaN(recall) ? Double.NaN : 0.0);
            out.add(new ClassScores(labels.get(c), precision, recall, f1, actual));
        }
        return out;
    }

    /**
     * Writes {@code runDirectory/evaluations/<name>.json} atomically (the name with runs of characters other than
     * letters, digits, dot, dash and underscore replaced by one '-', none at the ends) and returns the file.
     */
    public Path write(Path runDirectory) throws IOException {
        String file = name.strip().replaceAll("[^A-Za-z0-9._-]+", "-").replaceAll("^-+|-+$", "") + ".json";
        Path target = runDirectory.resolve(DIRECTORY).resolve(file);
        Files.createDirectories(target.getParent());
        AtomicFiles.write(target, (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(toJson()) + "\n")
                .getBytes(StandardCharsets.UTF_8));
        return target;
    }

    ObjectNode toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("version", 1);
        o.put("name", name);
        if (!task.isEmpty()) {
            o.put("task", task);
        }
        if (!details.isEmpty()) {
            ObjectNode d = o.putObject("details");
            details.forEach(d::put);
        }
        ObjectNode m = o.putObject("metrics");
        metrics.forEach(m::put);
        if (!stderr.isEmpty()) {
            ObjectNode s = o.putObject("stderr");
            stderr.forEach(s::put);
        }
        if (!labels.isEmpty()) {
            ArrayNode l = o.putArray("labels");
            labels.forEach(l::add);
            ArrayNode c = o.putArray("confusion");
            for (List<Long> row : confusion) {
                ArrayNode r = c.addArray();
                row.forEach(r::add);
            }
        }
        return o;
    }

    /** Reads one evaluation file; an error names the file and the field. */
    public static EvaluationResults read(Path file) throws IOException {
        JsonNode o;
        try {
            o = JSON.readTree(Files.readString(file, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        try {
            if (o == null || !o.isObject()) {
                throw new IllegalArgumentException("not a JSON object");
            }
            if (!FORMAT.equals(o.path("format").asText())) {
                throw new IllegalArgumentException("\"format\" must be \"" + FORMAT + "\"");
            }
            if (o.path("version").asInt(-1) != 1) {
                throw new IllegalArgumentException("\"version\" must be 1, got " + o.get("version"));
            }
            Map<String, String> details = new LinkedHashMap<>();
            fields(o, "details").forEachRemaining(e -> details.put(e.getKey(), e.getValue().isTextual()
                    ? e.getValue().asText() : e.getValue().toString()));
            List<String> labels = new ArrayList<>();
            for (JsonNode l : array(o, "labels")) {
                if (!l.isTextual()) {
                    throw new IllegalArgumentException("\"labels\" must hold strings, got " + l);
                }
                labels.add(l.asText());
            }
            List<List<Long>> confusion = new ArrayList<>();
            int r = 0;
            for (JsonNode row : array(o, "confusion")) {
                if (!row.isArray()) {
                    throw new IllegalArgumentException("confusion row " + r + " must be an array");
                }
                List<Long> counts = new ArrayList<>();
                for (JsonNode c : row) {
                    if (!c.isIntegralNumber()) {
                        throw new IllegalArgumentException("confusion row " + r + " must hold whole numbers, got "
                                + c);
                    }
                    counts.add(c.longValue());
                }
                confusion.add(counts);
                r++;
            }
            return new EvaluationResults(o.path("name").asText(""), o.path("task").asText(""), details,
                    numbers(o, "metrics"), numbers(o, "stderr"), labels, confusion);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Every {@code *.json} in {@code runDirectory/evaluations}, by file name; none when the directory is absent. */
    static List<Path> files(Path runDirectory) throws IOException {
        Path dir = runDirectory.resolve(DIRECTORY);
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".json"))
                    .filter(Files::isRegularFile).sorted().toList();
        }
    }

    private static Iterator<Map.Entry<String, JsonNode>> fields(JsonNode o, String key) {
        JsonNode n = o.get(key);
        if (n == null || n.isNull()) {
            return java.util.Collections.emptyIterator();
        }
        if (!n.isObject()) {
            throw new IllegalArgumentException("\"" + key + "\" must be an object");
        }
        return n.fields();
    }

    private static JsonNode array(JsonNode o, String key) {
        JsonNode n = o.get(key);
        if (n == null || n.isNull()) {
            return JSON.createArrayNode();
        }
        if (!n.isArray()) {
            throw new IllegalArgumentException("\"" + key + "\" must be an array");
        }
        return n;
    }

    private static Map<String, Double> numbers(JsonNode o, String key) {
        Map<String, Double> out = new LinkedHashMap<>();
        fields(o, key).forEachRemaining(e -> {
            if (!e.getValue().isNumber()) {
                throw new IllegalArgumentException("\"" + key + "\"." + e.getKey() + " must be a number, got "
                        + e.getValue());
            }
            out.put(e.getKey(), e.getValue().doubleValue());
        });
        return out;
    }
}
