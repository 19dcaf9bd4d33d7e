package dev.attune.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.examples.report.EvaluationResults;
import dev.attune.finetune.tribuo.LmClassifierModel;
import dev.attune.finetune.tribuo.LmClassifierTrainer;
import dev.attune.finetune.tribuo.TextDatasets;
import dev.attune.finetune.tribuo.TuningMethod;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.evaluation.LabelEvaluation;
import org.tribuo.classification.evaluation.LabelEvaluator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code attune classify train|eval|predict}: text classification with a fine-tuned language model, trained and
 * evaluated through Tribuo. Data are JSON Lines {@code {"text": ..., "label": ...}} (or CSV with those columns).
 * JSON keys of {@code eval} ({@code accuracy}, {@code macro_f1}, {@code n}, {@code labels}, {@code confusion}) and
 * {@code predict} ({@code text}, {@code label}, {@code scores}) are a stable contract.
 */
@Command(name = "classify", mixinStandardHelpOptions = true,
        description = "Text classification: fine-tune a classifier, evaluate it, predict with it.",
        subcommands = {ClassifyCommand.Train.class, ClassifyCommand.Eval.class, ClassifyCommand.Predict.class})
final class ClassifyCommand {

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Fine-tune a model with a classification head on labelled texts; writes a classifier directory.")
    static final class Train implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR", description = "base checkpoint (HF layout, with tokenizer)")
        private Path model;

        @Option(names = "--data", required = true, paramLabel = "FILE", description = "training texts, JSONL {\"text\",\"label\"} or CSV")
        private Path data;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "the classifier directory to write")
        private Path out;

        @Mixin
        private AdapterOptions.MethodOptions method;

        @Mixin
        private HeadTrainingOptions training;

        @Mixin
        private OutputOption output;

        @Override
        public Integer call() throws IOException {
            MutableDataset<Label> dataset = TextDatasets.read(data); // bad lines fail before the model loads
            LmClassifierTrainer.Builder builder = LmClassifierTrainer.builder(model)
                    .learningRate(training.learningRate).weightDecay(training.weightDecay).steps(training.steps)
                    .batchSize(training.batch).seed(training.seed).progress(!training.noProgress);
            if (method.method.equalsIgnoreCase("head")) {
                builder.method(TuningMethod.HEAD);
            } else if (method.full()) {
                builder.method(TuningMethod.FULL);
            } else {
                // the head trains beside the adapter and is saved with it (PEFT's modules_to_save)
                builder.peft(method.config(training.steps, model));
            }
            LmClassifierTrainer trainer = builder.build();
            LmClassifierModel classifier = trainer.train(dataset);
            classifier.save(out);
            PrintWriter w = spec.commandLine().getOut();
            if (output.json()) {
                ObjectNode o = OutputOption.object();
                o.put("out", out.toString());
                o.put("examples", dataset.size());
                ArrayNode labels = o.putArray("labels");
                classifier.classifier().labels().forEach(labels::add);
                o.put("method", method.method.toLowerCase(Locale.ROOT));
                OutputOption.print(w, o);
            } else {
                w.println("trained on " + dataset.size() + " examples, labels " + classifier.classifier().labels()
                        + "; classifier saved to " + out);
            }
            return 0;
        }

    }

    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = "Evaluate a classifier on labelled texts with Tribuo's LabelEvaluator.")
    static final class Eval implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR", description = "classifier directory (classify train --out)")
        private Path model;

        @Option(names = "--data", required = true, paramLabel = "FILE", description = "test texts, JSONL {\"text\",\"label\"} or CSV")
        private Path data;

        @Option(names = "--batch", defaultValue = "16", paramLabel = "B", description = "texts per forward pass")
        private int batch;

        @Mixin
        private OutputOption output;

        @Option(names = "--save", paramLabel = "RUN_DIR",
                description = "also write the results to RUN_DIR/evaluations/, where attune report shows them")
        private Path save;

        @Override
        public Integer call() throws IOException {
            LmClassifierModel classifier = LmClassifierModel.load(model);
            classifier.setBatchSize(batch);
            MutableDataset<Label> dataset = TextDatasets.read(data);
            LabelEvaluation e = new LabelEvaluator().evaluate(classifier, dataset);
            List<String> labels = classifier.classifier().labels();
            PrintWriter w = spec.commandLine().getOut();
            ObjectNode json = evaluationJson(e, labels, dataset.size());
            if (save != null) {
                List<List<Long>> confusion = new java.util.ArrayList<>();
                json.get("confusion").forEach(row -> {
                    List<Long> counts = new java.util.ArrayList<>();
                    row.forEach(c -> counts.add(c.asLong()));
                    confusion.add(counts);
                });
                Map<String, Double> metrics = new java.util.LinkedHashMap<>();
                metrics.put("accuracy", e.accuracy());
                metrics.put("macro_f1", e.macroAveragedF1());
                metrics.put("n", (double) dataset.size());
                Path file = new EvaluationResults(data.getFileName() + " (classify eval)", "classification",
                        Map.of("model", model.toString(), "data", data.toString()), metrics, Map.of(), labels,
                        confusion).write(save);
                spec.commandLine().getErr().println("saved the results to " + file);
            }
            if (output.json()) {
                OutputOption.print(w, json);
            } else {
                w.println(e);
                w.println(e.getConfusionMatrix());
            }
            return 0;
        }
    }

    /** {@code accuracy}, {@code macro_f1}, {@code n}, {@code labels}, {@code confusion} (rows true, columns predicted). */
    static ObjectNode evaluationJson(LabelEvaluation e, List<String> labels, int n) {
        ObjectNode o = OutputOption.object();
        o.put("accuracy", e.accuracy());
        o.put("macro_f1", e.macroAveragedF1());
        o.put("n", n);
        ArrayNode l = o.putArray("labels");
        labels.forEach(l::add);
        ArrayNode confusion = o.putArray("confusion");
        var cm = e.getConfusionMatrix();
        for (String truth : labels) {
            ArrayNode row = confusion.addArray();
            for (String predicted : labels) {
                row.add((long) cm.confusion(new Label(predicted), new Label(truth)));
            }
        }
        return o;
    }

    @Command(name = "predict", mixinStandardHelpOptions = true,
            description = "Classify texts: one JSON line per text with the label and every label's probability.")
    static final class Predict implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR", description = "classifier directory (classify train --out)")
        private Path model;

        @Mixin
        private PredictInput input;

        @Option(names = "--batch", defaultValue = "16", paramLabel = "B", description = "texts per forward pass")
        private int batch;

        @Override
        public Integer call() throws IOException {
            List<String> all = input.read(text -> text, Predict::text, System.in);
            LmClassifierModel classifier = LmClassifierModel.load(model);
            classifier.setBatchSize(batch);
            List<Prediction<Label>> predictions = classifier.predictTexts(all);
            PrintWriter w = spec.commandLine().getOut();
            for (int i = 0; i < all.size(); i++) {
                Prediction<Label> p = predictions.get(i);
                ObjectNode o = OutputOption.object();
                o.put("text", all.get(i));
                o.put("label", p.getOutput().getLabel());
                ObjectNode scores = o.putObject("scores");
                for (String label : classifier.classifier().labels()) {
                    scores.put(label, p.getOutputScores().get(label).getScore());
                }
                OutputOption.print(w, o);
            }
            return 0;
        }

        private static String text(Path file, int line, JsonNode record) throws IOException {
            JsonNode t = record.isObject() ? record.get("text") : null;
            if (t == null || !t.isTextual()) {
                throw new IOException(file + ", line " + line + ": missing field \"text\" (a string)");
            }
            return t.asText();
        }
    }
}
