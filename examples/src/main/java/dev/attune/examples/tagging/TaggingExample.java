package dev.attune.examples.tagging;

import dev.attune.examples.common.ExampleFiles;
import dev.attune.examples.common.LabelTable;
import dev.attune.examples.common.QuietTribuo;
import dev.attune.finetune.tribuo.EntityReport;
import dev.attune.finetune.tribuo.LmTaggerModel;
import dev.attune.finetune.tribuo.LmTaggerTrainer;
import dev.attune.finetune.tribuo.TaggedDatasets;
import dev.attune.finetune.tribuo.TuningMethod;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tribuo.Example;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.sgd.crf.CRFTrainer;
import org.tribuo.math.optimisers.AdaGrad;
import org.tribuo.sequence.MutableSequenceDataset;
import org.tribuo.sequence.SequenceExample;

/**
 * Entity tagging (BIO tags for people, organisations and places) in short texts, two ways on one test split, both
 * trained on the same Tribuo sequence dataset ({@link TaggedDatasets}): Tribuo's linear-chain CRF on the words'
 * hand-made features, and Attune's tagger ({@link LmTaggerTrainer}: the base model fine-tuned with a
 * token-classification head). One per-tag F1 table (Tribuo's confusion metrics) and one entity-level report (as
 * seqeval) for both.
 *
 * <pre>
 * ./attune tagging [--reduced]
 * </pre>
 */
public final class TaggingExample {

    /** The tags, in the report's order. */
    public static final List<String> TAGS = List.of("B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "O");

    /**
     * What to run.
     *
     * @param model      base model directory
     * @param data       folder with train.jsonl and test.jsonl ({tokens, tags})
     * @param trainItems training sentences used (0: all)
     * @param testItems  test sentences tagged (0: all)
     * @param crfEpochs  passes of the CRF's training
     * @param tuneSteps  optimizer steps of the language model's fine-tuning (16 sentences a step)
     */
    public record Settings(Path model, Path data, int trainItems, int testItems, int crfEpochs, int tuneSteps) {

        public static Settings defaults() {
            return new Settings(ExampleFiles.BASE_MODEL, ExampleFiles.DATA.resolve("tagging"), 0, 0, 5, 300);
        }

        /** Fewer items and steps: the tests' mode. */
        public Settings reduced() {
            return new Settings(model, data, 300, 80, 3, 40);
        }

        public Settings withPaths(Path modelDir, Path dataDir) {
            return new Settings(modelDir, dataDir, trainItems, testItems, crfEpochs, tuneSteps);
        }
    }

    /** The per-tag table and each method's entity-level report. */
    public record Result(LabelTable table, Map<String, EntityReport> entities) {
    }

    static final String CRF = "Tribuo CRF (word features)";
    static final String TAGGER = "Attune tagger (full fine-tuning)";

    private TaggingExample() {
    }

    public static void main(String[] args) throws IOException {
        Settings s = Settings.defaults();
        run(List.of(args).contains("--reduced") ? s.reduced() : s, System.out);
    }

    /** Trains both taggers and prints the tables. */
    public static Result run(Settings s, PrintStream console) throws IOException {
        QuietTribuo.apply();
        MutableSequenceDataset<Label> train = head(TaggedDatasets.read(s.data().resolve("train.jsonl")), s.trainItems());
        MutableSequenceDataset<Label> test = head(TaggedDatasets.read(s.data().resolve("test.jsonl")), s.testItems());
        console.printf(Locale.ROOT, "Entity tagging (BIO): %d training, %d test sentences (%s)%n", train.size(),
                test.size(), s.data());
        List<String> gold = new ArrayList<>();
        for (SequenceExample<Label> sentence : test) {
            for (Example<Label> word : sentence) {
                gold.add(word.getOutput().getLabel());
            }
        }
        LabelTable table = new LabelTable(TAGS);
        Map<String, EntityReport> entities = new LinkedHashMap<>();

        console.printf(Locale.ROOT, "[1/2] Tribuo CRF, %d epochs ...%n", s.crfEpochs());
        long t = System.nanoTime();
        List<List<Prediction<Label>>> crf = new CRFTrainer(new AdaGrad(0.1, 0.1), s.crfEpochs(), 1000, 1)
                .train(train, Map.of()).predict(test);
        table.add(CRF, gold, flat(crf), (System.nanoTime() - t) / 1e9);
        entities.put(CRF, EntityReport.of(test, crf, EntityReport.Scheme.CONLL));

        console.printf(Locale.ROOT, "[2/2] Fine-tuning %s with a token-classification head, %d steps ...%n",
                s.model(), s.tuneSteps());
        t = System.nanoTime();
        LmTaggerModel tagger = LmTaggerTrainer.builder(s.model()).method(TuningMethod.FULL)
                .learningRate(3e-3).steps(s.tuneSteps()).batchSize(16).seed(1).build().train(train);
        List<List<Prediction<Label>>> lm = tagger.predict(test);
        table.add(TAGGER, gold, flat(lm), (System.nanoTime() - t) / 1e9);
        entities.put(TAGGER, EntityReport.of(test, lm, EntityReport.Scheme.CONLL));

        console.println();
        table.print(console);
        console.println("(per-token scores on the test split; seconds include training)");
        console.println();
        console.printf(Locale.ROOT, "%-36s %9s %9s %9s%n", "entities (as seqeval)", "precision", "recall", "f1");
        entities.forEach((method, r) -> console.printf(Locale.ROOT, "%-36s %9.3f %9.3f %9.3f%n", method,
                r.precision(), r.recall(), r.f1()));
        console.println("(the language model tags each word at its first sub-token, before it has seen the words after"
                + " it; the CRF's features include the next word)");
        return new Result(table, entities);
    }

    private static List<String> flat(List<List<Prediction<Label>>> predictions) {
        List<String> out = new ArrayList<>();
        predictions.forEach(s -> s.forEach(p -> out.add(p.getOutput().getLabel())));
        return out;
    }

    /** The first {@code limit} sentences (0: all), with the file's provenance. */
    private static MutableSequenceDataset<Label> head(MutableSequenceDataset<Label> all, int limit) {
        List<SequenceExample<Label>> items = new ArrayList<>();
        all.forEach(items::add);
        return new MutableSequenceDataset<>(ExampleFiles.head(items, limit), all.getSourceProvenance(),
                new LabelFactory());
    }
}
