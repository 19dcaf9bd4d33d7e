package dev.attune.examples.common;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.evaluation.ConfusionMetrics;
import org.tribuo.classification.evaluation.LabelConfusionMatrix;
import org.tribuo.evaluation.metrics.EvaluationMetric;
import org.tribuo.evaluation.metrics.MetricTarget;
import org.tribuo.impl.ArrayExample;
import org.tribuo.MutableOutputInfo;
import org.tribuo.ImmutableOutputInfo;

/**
 * One evaluation table for classifiers of any kind: each method's predictions go through Tribuo's
 * {@link LabelConfusionMatrix} and {@link ConfusionMetrics}, so a language model's answers and a Tribuo model's
 * are measured by the same code.
 */
public final class LabelTable {

    /** One method's scores on the test split. */
    public record Row(String method, double accuracy, double macroF1, Map<String, Double> f1PerLabel,
                      double seconds, LabelConfusionMatrix confusion) {
    }

    private final ImmutableOutputInfo<Label> domain;
    private final List<String> labels;
    private final List<Row> rows = new ArrayList<>();

    /** A table over these labels (every gold and predicted label must be one of them). */
    public LabelTable(List<String> labels) {
        LabelFactory factory = new LabelFactory();
        MutableOutputInfo<Label> info = factory.generateInfo();
        for (String l : labels) {
            info.observe(new Label(l));
        }
        this.domain = info.generateImmutableOutputInfo();
        this.labels = List.copyOf(labels);
    }

    /** Scores one method's predictions against the gold labels (same order) and adds its row. */
    public Row add(String method, List<String> gold, List<String> predicted, double seconds) {
        if (gold.size() != predicted.size() || gold.isEmpty()) {
            throw new IllegalArgumentException(method + ": " + predicted.size() + " predictions for " + gold.size()
                    + " gold labels");
        }
        List<Prediction<Label>> predictions = new ArrayList<>(gold.size());
        for (int i = 0; i < gold.size(); i++) {
            checkLabel(method, gold.get(i));
            checkLabel(method, predicted.get(i));
            ArrayExample<Label> example = new ArrayExample<>(new Label(gold.get(i)));
            predictions.add(new Prediction<>(new Label(predicted.get(i)), 0, example));
        }
        LabelConfusionMatrix cm = new LabelConfusionMatrix(domain, predictions);
        Map<String, Double> perLabel = new LinkedHashMap<>();
        for (String l : labels) {
            perLabel.put(l, ConfusionMetrics.f1(new MetricTarget<>(new Label(l)), cm));
        }
        double accuracy = ConfusionMetrics.accuracy(EvaluationMetric.Average.MICRO, cm);
        double macroF1 = ConfusionMetrics.f1(new MetricTarget<>(EvaluationMetric.Average.MACRO), cm);
        Row row = new Row(method, accuracy, macroF1, perLabel, seconds, cm);
        rows.add(row);
        return row;
    }

    private void checkLabel(String method, String label) {
        if (!labels.contains(label)) {
            throw new IllegalArgumentException(method + ": label \"" + label + "\" is not one of " + labels);
        }
    }

    public List<Row> rows() {
        return List.copyOf(rows);
    }

    /** Prints the table: accuracy, macro-F1, F1 per label and seconds per method. */
    public void print(PrintStream out) {
        StringBuilder header = new StringBuilder(String.format(Locale.ROOT, "%-28s %9s %9s", "method", "accuracy",
                "macro-F1"));
        for (String l : labels) {
            header.append(String.format(Locale.ROOT, " %10s", "F1 " + abbreviate(l)));
        }
        header.append(String.format(Locale.ROOT, " %9s", "seconds"));
        out.println(header);
        out.println("-".repeat(header.length()));
        for (Row r : rows) {
            out.printf(Locale.ROOT, "%-28s %9.3f %9.3f", r.method(), r.accuracy(), r.macroF1());
            for (String l : labels) {
                out.printf(Locale.ROOT, " %10.3f", r.f1PerLabel().get(l));
            }
            out.printf(Locale.ROOT, " %9.1f%n", r.seconds());
        }
    }

    private static String abbreviate(String label) {
        return label.length() <= 7 ? label : label.substring(0, 7);
    }
}
