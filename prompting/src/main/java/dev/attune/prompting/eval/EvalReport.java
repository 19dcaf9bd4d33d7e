package dev.attune.prompting.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The result of evaluating one task: each metric with its bootstrap standard error, the number of items, how the
 * few-shot demonstrations were chosen and which ones each item got, and per item the prediction.
 *
 * <p>{@link #toJson()} uses lm-evaluation-harness's metric names ({@code acc}, {@code acc_norm},
 * {@code exact_match}, {@code f1}, {@code rouge1}, ..., {@code perplexity}), each followed by {@code NAME_stderr};
 * {@link #toTable()} is the same as a readable table.
 */
public final class EvalReport {

    /** One item's outcome. */
    public record ItemResult(int line, int[] demoLines, String prediction) {
    }

    private final String task;
    private final TaskType type;
    private final Map<String, double[]> metrics; // name -> {value, stderr}
    private final int shots;
    private final String sampler;
    private final List<ItemResult> items;
    private final double seconds;

    EvalReport(String task, TaskType type, Map<String, double[]> metrics, int shots, String sampler,
               List<ItemResult> items, double seconds) {
        this.task = task;
        this.type = type;
        this.metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
        this.shots = shots;
        this.sampler = sampler;
        this.items = List.copyOf(items);
        this.seconds = seconds;
    }

    public String task() {
        return task;
    }

    public TaskType type() {
        return type;
    }

    /** Number of items evaluated. */
    public int itemCount() {
        return items.size();
    }

    /** Metric names in report order. */
    public List<String> metricNames() {
        return new ArrayList<>(metrics.keySet());
    }

    /** A metric's value; throws for a metric this task type does not have. */
    public double metric(String name) {
        return entry(name)[0];
    }

    /** A metric's bootstrap standard error. */
    public double stderr(String name) {
        return entry(name)[1];
    }

    private double[] entry(String name) {
        double[] v = metrics.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no metric \"" + name + "\" in a " + type.cliName() + " report; it has "
                    + metrics.keySet());
        }
        return v;
    }

    public int shots() {
        return shots;
    }

    public List<ItemResult> items() {
        return items;
    }

    /** Wall-clock seconds the evaluation took. */
    public double seconds() {
        return seconds;
    }

    /**
     * The report as JSON: {@code task}, {@code type}, {@code items} (the count), every metric and its
     * {@code _stderr}, {@code shots}, and with shots a {@code fewshot} object (sampler, and per item its line
     * and the lines of its demonstrations).
     */
    public ObjectNode toJson() {
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("task", task);
        root.put("type", type.cliName());
        root.put("items", items.size());
        metrics.forEach((name, v) -> {
            put(root, name, v[0]);
            put(root, name + "_stderr", v[1]);
        });
        root.put("shots", shots);
        if (shots > 0) {
            ObjectNode f = root.putObject("fewshot");
            f.put("sampler", sampler);
            ArrayNode demos = f.putArray("demos");
            for (ItemResult r : items) {
                ObjectNode d = demos.addObject();
                d.put("line", r.line());
                ArrayNode lines = d.putArray("demo_lines");
                for (int l : r.demoLines()) {
                    lines.add(l);
                }
            }
        }
        root.put("seconds", Math.round(seconds * 1000) / 1000.0);
        return root;
    }

    private static void put(ObjectNode node, String name, double v) {
        if (Double.isFinite(v)) {
            node.put(name, v);
        } else {
            node.putNull(name); // JSON has no NaN
        }
    }

    public String toJsonString() {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(toJson());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A Markdown table in lm-eval's style: task, shots, metric, value, stderr. */
    public String toTable() {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"Task", "Type", "Shots", "Items", "Metric", "Value", "", "Stderr"});
        boolean first = true;
        for (Map.Entry<String, double[]> e : metrics.entrySet()) {
            rows.add(new String[] {first ? task : "", first ? type.cliName() : "", first ? Integer.toString(shots) : "",
                    first ? Integer.toString(items.size()) : "", e.getKey(), number(e.getValue()[0]), "±",
                    number(e.getValue()[1])});
            first = false;
        }
        int[] width = new int[rows.get(0).length];
        for (String[] r : rows) {
            for (int c = 0; c < r.length; c++) {
                width[c] = Math.max(width[c], r[c].length());
            }
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < rows.size(); i++) {
            out.append(line(rows.get(i), width));
            if (i == 0) {
                String[] rule = new String[width.length];
                for (int c = 0; c < width.length; c++) {
                    rule[c] = "-".repeat(width[c]);
                }
                out.append(line(rule, width));
            }
        }
        return out.toString();
    }

    private static String line(String[] cells, int[] width) {
        StringBuilder s = new StringBuilder("|");
        for (int c = 0; c < cells.length; c++) {
            boolean number = c == 2 || c == 3 || c == 5 || c == 7;
            s.append(' ').append(String.format(Locale.ROOT, number ? "%" + width[c] + "s" : "%-" + width[c] + "s",
                    cells[c])).append(" |");
        }
        return s.append('\n').toString();
    }

    private static String number(double v) {
        return Double.isNaN(v) ? "N/A" : String.format(Locale.ROOT, "%.4f", v);
    }

    @Override
    public String toString() {
        return "EvalReport[" + task + ", " + type.cliName() + ", " + items.size() + " items, " + metrics.keySet() + "]";
    }
}
