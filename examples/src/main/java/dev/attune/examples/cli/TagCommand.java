package dev.attune.examples.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.finetune.tribuo.EntityReport;
import dev.attune.finetune.tribuo.LmTaggerModel;
import dev.attune.finetune.tribuo.LmTaggerTrainer;
import dev.attune.finetune.tribuo.TaggedDatasets;
import dev.attune.finetune.tribuo.TuningMethod;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.sequence.LabelSequenceEvaluation;
import org.tribuo.classification.sequence.LabelSequenceEvaluator;
import org.tribuo.sequence.MutableSequenceDataset;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code attune tag train|eval|predict}: token classification (BIO entity tags) with a fine-tuned language model,
 * trained and evaluated through Tribuo. Data are JSON Lines {@code {"tokens": [...], "tags": [...]}}. JSON keys of
 * {@code eval} ({@code precision}, {@code recall}, {@code f1} at entity level, {@code n}, {@code tokens},
 * {@code accuracy}, {@code labels}, {@code entities}) and {@code predict} ({@code tokens}, {@code tags},
 * {@code scores}) are a stable contract.
 */
@Command(name = "tag", mixinStandardHelpOptions = true,
        description = "Token classification (entity tagging): fine-tune a tagger, evaluate it, tag with it.",
        subcommands = {TagCommand.Train.class, TagCommand.Eval.class, TagCommand.Predict.class})
final class TagCommand {

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = {"Fine-tune a model with a token-classification head on tagged sentences (JSONL: tokens,",
                    "tags): every weight (full), the head alone (head), or an adapter with the base frozen",
                    "(lora|adalora|adapter|prefix|prompt|ia3). Writes a tagger directory."})
    static final class Train implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR", description = "base checkpoint (HF layout, with tokenizer)")
        private Path model;

        @Option(names = "--data", required = true, paramLabel = "FILE", description = "training sentences, JSONL {\"tokens\",\"tags\"}")
        private Path data;

        @Option(names = "--out", required = true, paramLabel = "DIR", description = "the tagger directory to write")
        private Path out;

        @Mixin
        private AdapterOptions.MethodOptions method;

        @Mixin
        private HeadTrainingOptions training;

        @Option(names = "--head-dropout", defaultValue = "0.1", paramLabel = "P",
                description = "dropout on the hidden states the head reads (transformers' default)")
        private double headDropout;

        @Mixin
        private OutputOption output;

        @Override
        public Integer call() throws IOException {
            MutableSequenceDataset<Label> dataset = TaggedDatasets.read(data); // bad lines fail before the model loads
            LmTaggerTrainer.Builder b = LmTaggerTrainer.builder(model)
                    .learningRate(training.learningRate).weightDecay(training.weightDecay).steps(training.steps)
                    .batchSize(training.batch).headDropout(headDropout).seed(training.seed)
                    .progress(!training.noProgress);
            if (method.method.equalsIgnoreCase("head")) {
                b.method(TuningMethod.HEAD);
            } else if (method.full()) {
                b.method(TuningMethod.FULL);
            } else {
                b.peft(method.config(training.steps, model));
            }
            LmTaggerModel tagger = b.build().train(dataset);
            tagger.save(out);
            PrintWriter w = spec.commandLine().getOut();
            if (output.json()) {
                ObjectNode o = OutputOption.object();
                o.put("out", out.toString());
                o.put("sentences", dataset.size());
                ArrayNode labels = o.putArray("labels");
                tagger.tagger().labels().forEach(labels::add);
                o.put("method", method.method.toLowerCase(Locale.ROOT));
                OutputOption.print(w, o);
            } else {
                w.println("trained on " + dataset.size() + " sentences, tags " + tagger.tagger().labels()
                        + "; tagger saved to " + out);
            }
            return 0;
        }
    }

    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = {"Evaluate a tagger on tagged sentences: entity-level precision, recall and F1 (as seqeval)",
                    "beside Tribuo's LabelSequenceEvaluator per-tag numbers."})
    static final class Eval implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR", description = "tagger directory (tag train --out)")
        private Path model;

        @Option(names = "--data", required = true, paramLabel = "FILE", description = "test sentences, JSONL {\"tokens\",\"tags\"}")
        private Path data;

        @Option(names = "--batch", defaultValue = "16", paramLabel = "B", description = "sentences per forward pass")
        private int batch;

        @Option(names = "--scheme", defaultValue = "conll", paramLabel = "conll|strict",
                description = "how entities are read off tags: seqeval's default (conll) or strict IOB2")
        private String scheme;

        @Mixin
        private OutputOption output;

        @Override
        public Integer call() throws IOException {
            EntityReport.Scheme s = switch (scheme.toLowerCase(Locale.ROOT)) {
                case "conll" -> EntityReport.Scheme.CONLL;
                case "strict" -> EntityReport.Scheme.STRICT_IOB2;
                default -> throw new IllegalArgumentException("--scheme must be conll or strict, got " + scheme);
            };
            MutableSequenceDataset<Label> dataset = TaggedDatasets.read(data);
            LmTaggerModel tagger = LmTaggerModel.load(model);
            tagger.setBatchSize(batch);
            LabelSequenceEvaluation e = new LabelSequenceEvaluator().evaluate(tagger, dataset);
            EntityReport entities = EntityReport.of(dataset, predictionsOf(e, dataset), s);
            PrintWriter w = spec.commandLine().getOut();
            if (output.json()) {
                OutputOption.print(w, evaluationJson(entities, e, tagger.tagger().labels(), dataset.size()));
            } else {
                w.println(entities);
                w.println(e);
            }
            return 0;
        }

        /** The evaluation's own predictions, regrouped by sentence (no second pass through the model). */
        private static List<List<Prediction<Label>>> predictionsOf(LabelSequenceEvaluation e,
                MutableSequenceDataset<Label> dataset) {
            List<Prediction<Label>> flat = e.getPredictions();
            List<List<Prediction<Label>>> out = new ArrayList<>();
            int k = 0;
            for (var sentence : dataset) {
                out.add(flat.subList(k, k + sentence.size()));
                k += sentence.size();
            }
            return out;
        }
    }

    /**
     * {@code precision}, {@code recall}, {@code f1} (entity level, micro-averaged), {@code n} (sentences),
     * {@code tokens}, {@code accuracy} (per token), {@code labels} (per tag: Tribuo's precision, recall, f1,
     * support), {@code entities} (per entity type: precision, recall, f1, support).
     */
    static ObjectNode evaluationJson(EntityReport entities, LabelSequenceEvaluation e, List<String> labels, int n) {
        ObjectNode o = OutputOption.object();
        o.put("precision", entities.precision());
        o.put("recall", entities.recall());
        o.put("f1", entities.f1());
        o.put("n", n);
        o.put("tokens", e.getPredictions().size());
        o.put("scheme", entities.scheme() == EntityReport.Scheme.CONLL ? "conll" : "strict");
        o.put("accuracy", e.accuracy());
        ObjectNode perLabel = o.putObject("labels");
        for (String l : labels) {
            Label label = new Label(l);
            ObjectNode r = perLabel.putObject(l);
            r.put("precision", e.precision(label));
            r.put("recall", e.recall(label));
            r.put("f1", e.f1(label));
            r.put("support", (long) (e.tp(label) + e.fn(label)));
        }
        ObjectNode perType = o.putObject("entities");
        entities.perType().forEach((type, r) -> {
            ObjectNode t = perType.putObject(type);
            t.put("precision", r.precision());
            t.put("recall", r.recall());
            t.put("f1", r.f1());
            t.put("support", r.actual());
        });
        return o;
    }

    @Command(name = "predict", mixinStandardHelpOptions = true,
            description = "Tag sentences: one JSON line per sentence with its tokens, tags and each tag's probability.")
    static final class Predict implements Callable<Integer> {
        @Spec
        private CommandSpec spec;

        @Option(names = "--model", required = true, paramLabel = "DIR", description = "tagger directory (tag train --out)")
        private Path model;

        @Mixin
        private PredictInput input;

        @Option(names = "--batch", defaultValue = "16", paramLabel = "B", description = "sentences per forward pass")
        private int batch;

        @Override
        public Integer call() throws IOException {
            // a text on the command line or stdin is a sentence split at whitespace; --data has "tokens" arrays
            List<List<String>> sentences = input.read(Predict::words, Predict::tokens, System.in);
            LmTaggerModel tagger = LmTaggerModel.load(model);
            tagger.setBatchSize(batch);
            List<List<Prediction<Label>>> predictions = tagger.predictWords(sentences);
            PrintWriter w = spec.commandLine().getOut();
            for (int i = 0; i < sentences.size(); i++) {
                ObjectNode o = OutputOption.object();
                ArrayNode tokens = o.putArray("tokens");
                sentences.get(i).forEach(tokens::add);
                ArrayNode tags = o.putArray("tags");
                ArrayNode scores = o.putArray("scores");
                for (Prediction<Label> p : predictions.get(i)) {
                    tags.add(p.getOutput().getLabel());
                    scores.add(p.getOutput().getScore());
                }
                OutputOption.print(w, o);
            }
            return 0;
        }

        private static List<String> words(String text) {
            String trimmed = text.strip();
            return trimmed.isEmpty() ? List.of() : Arrays.asList(trimmed.split("\\s+"));
        }

        private static List<String> tokens(Path file, int line, JsonNode record) throws IOException {
            JsonNode t = record.isObject() ? record.get("tokens") : null;
            if (t == null || !t.isArray()) {
                throw new IOException(file + ", line " + line + ": missing field \"tokens\" (an array of strings)");
            }
            List<String> words = new ArrayList<>();
            for (int i = 0; i < t.size(); i++) {
                if (!t.get(i).isTextual()) {
                    throw new IOException(file + ", line " + line + ": \"tokens\"[" + i + "] must be a string");
                }
                words.add(t.get(i).asText());
            }
            if (words.isEmpty()) {
                throw new IOException(file + ", line " + line + ": \"tokens\" is empty");
            }
            return words;
        }
    }
}
