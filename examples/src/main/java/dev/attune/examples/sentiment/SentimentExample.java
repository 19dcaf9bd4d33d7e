package dev.attune.examples.sentiment;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.GptModel;
import dev.attune.core.train.Trainable;
import dev.attune.examples.common.ExampleFiles;
import dev.attune.examples.common.LabelTable;
import dev.attune.examples.common.Tuning;
import dev.attune.finetune.heads.SequenceClassifier;
import dev.attune.finetune.tribuo.LmClassifierModel;
import dev.attune.finetune.tribuo.LmClassifierTrainer;
import dev.attune.finetune.tribuo.TextDatasets;
import dev.attune.finetune.tribuo.TuningMethod;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import dev.attune.finetune.peft.PeftModel;
import dev.attune.prompting.scoring.Loglikelihood;
import dev.attune.prompting.scoring.LoglikelihoodScorer;
import dev.attune.prompting.scoring.Request;
import dev.attune.prompting.verbalizer.Verbalizer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Sentiment of financial news headlines (negative, neutral, positive), several ways on one test split: the majority
 * class, Tribuo's logistic regression on bag-of-words, the base model zero-shot and few-shot (label words scored by
 * log-likelihood), LoRA on the label words, LoRA with a classification head, and full fine-tuning of the base model
 * on the label words. One table, computed by Tribuo's confusion matrix, compares them.
 *
 * <pre>
 * ./attune sentiment                       # the full run
 * ./attune sentiment --reduced             # a smaller split and fewer steps (what the tests run)
 * </pre>
 */
public final class SentimentExample {

    /** The labels in the table's order. */
    public static final List<String> LABELS = List.of("negative", "neutral", "positive");

    /**
     * The word that stands for each label after the prompt. One token each in the base model's vocabulary: a
     * label's score is the summed log-likelihood of its tokens, so words of different lengths would favour the
     * shortest ("negative" is one token there, "neutral" three).
     */
    public static final Verbalizer WORDS = Verbalizer.of(Map.of("negative", List.of("bad"), "neutral",
            List.of("normal"), "positive", List.of("good")));

    /** The ways of classifying a headline, in the table's order. */
    public enum Method {
        /** The most frequent training label for every headline. */
        MAJORITY("majority class"),
        /** Tribuo's logistic regression on word and word-pair counts. */
        TRIBUO("Tribuo logistic regression"),
        /** The base model scores each label word after the prompt. */
        ZERO_SHOT("zero-shot"),
        /** The same, after one solved headline per label in the prompt (a row named after their number). */
        FEW_SHOT("few-shot"),
        /** LoRA trained to write the label word; scored like zero-shot. */
        LORA("LoRA, label words"),
        /** LoRA with a classification head on the last token's hidden state (PEFT's SEQ_CLS task). */
        LORA_HEAD("LoRA + classifier head"),
        /** Every weight and a classification head (Tribuo's {@code LmClassifierTrainer}, method FULL). */
        FULL("full fine-tuning + head");

        private final String row;

        Method(String row) {
            this.row = row;
        }

        /** The method's row in the table (few-shot's row says how many demonstrations). */
        public String row() {
            return row;
        }
    }

    /**
     * What to run.
     *
     * @param model      base model directory (Attune's small base model, or any GPT-2 directory)
     * @param data       folder with train.jsonl and test.jsonl
     * @param out        where the LoRA adapter is saved
     * @param trainItems training items used (0: all)
     * @param testItems  test items scored (0: all)
     * @param shots      demonstrations per label in the few-shot prompt
     * @param methods    the methods to run
     * @param lora       training of both LoRA methods
     * @param full       training of full fine-tuning
     */
    public record Settings(Path model, Path data, Path out, int trainItems, int testItems, int shots,
                           Set<Method> methods, Tuning.Settings lora, Tuning.Settings full) {

        public Settings {
            methods = methods.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(methods));
        }

        /** The full run on the shipped base model and data. */
        public static Settings defaults() {
            return new Settings(ExampleFiles.BASE_MODEL, ExampleFiles.DATA.resolve("sentiment"),
                    Path.of("runs", "sentiment"), 0, 0, 1, EnumSet.allOf(Method.class),
                    new Tuning.Settings(LORA_STEPS, 16, LORA_LR, 7, true),
                    new Tuning.Settings(FULL_STEPS, 16, FULL_LR, 7, true));
        }

        /**
         * Fewer items and steps, and without LoRA on the label words (at 40 steps it has not moved off the majority
         * class): the tests' mode.
         */
        public Settings reduced() {
            Set<Method> fewer = EnumSet.copyOf(methods);
            fewer.remove(Method.LORA);
            return new Settings(model, data, out, 300, 90, shots, fewer, lora.withSteps(REDUCED_STEPS),
                    full.withSteps(REDUCED_STEPS));
        }

        public Settings withPaths(Path modelDir, Path dataDir, Path outDir) {
            return new Settings(modelDir, dataDir, outDir, trainItems, testItems, shots, methods, lora, full);
        }

        public Settings withMethods(Set<Method> chosen) {
            return new Settings(model, data, out, trainItems, testItems, shots, chosen, lora, full);
        }

        public Settings withLora(Tuning.Settings training) {
            return new Settings(model, data, out, trainItems, testItems, shots, methods, training, full);
        }

        /** LoRA's and full fine-tuning's steps. */
        public Settings withSteps(int n) {
            return new Settings(model, data, out, trainItems, testItems, shots, methods, lora.withSteps(n),
                    full.withSteps(n));
        }

        public Settings withTestItems(int n) {
            return new Settings(model, data, out, trainItems, n, shots, methods, lora, full);
        }

        public Settings withProgress(boolean show) {
            return new Settings(model, data, out, trainItems, testItems, shots, methods, lora.withProgress(show),
                    full.withProgress(show));
        }
    }

    /** Where under {@code out} the classifier's LoRA adapter and head go. */
    public static final String CLASSIFIER_ADAPTER = "classifier-adapter";
    /** The head's file in that directory ({@code score.weight [labels, C]}). */
    public static final String HEAD_FILE = "score.safetensors";

    static final int LORA_STEPS = 150;
    static final double LORA_LR = 3e-3;
    static final int FULL_STEPS = 150;
    static final double FULL_LR = 5e-4;
    static final int REDUCED_STEPS = 40;

    /** A headline and its label. */
    public record Item(String text, String label) {
    }

    /**
     * The table and what the LoRA methods saved.
     *
     * @param table             one row per method
     * @param adapter           the label-word LoRA adapter's directory (null when that method did not run)
     * @param classifierAdapter the classifier's LoRA adapter and head (null when that method did not run)
     * @param sampleHeadline    the first test headline
     * @param sampleGeneration  what the label-word LoRA model writes after it (null without that method)
     * @param lora              the trained LoRA model (label words, else classifier; null without LoRA)
     * @param loraBase          the model and tokenizer {@code lora} is attached to
     */
    public record Result(LabelTable table, Path adapter, Path classifierAdapter, String sampleHeadline,
                         String sampleGeneration, PeftModel lora, Pretrained loraBase) {
        public LabelTable.Row row(String method) {
            return table.rows().stream().filter(r -> r.method().equals(method)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no row " + method));
        }

        public LabelTable.Row row(Method method) {
            return table.rows().stream().filter(r -> r.method().startsWith(method.row())
                    || method == Method.FEW_SHOT && r.method().endsWith("-shot") && !r.method().startsWith("zero"))
                    .findFirst().orElseThrow(() -> new IllegalArgumentException("no row " + method.row()));
        }
    }

    private SentimentExample() {
    }

    public static void main(String[] args) throws IOException {
        boolean reduced = List.of(args).contains("--reduced");
        Settings s = Settings.defaults();
        run(reduced ? s.reduced() : s, System.out);
    }

    /** Runs the chosen methods and prints the table to {@code console}. */
    public static Result run(Settings s, PrintStream console) throws IOException {
        List<Item> train = ExampleFiles.head(read(s.data().resolve("train.jsonl")), s.trainItems());
        List<Item> test = ExampleFiles.head(read(s.data().resolve("test.jsonl")), s.testItems());
        List<String> gold = test.stream().map(Item::label).toList();
        console.printf(Locale.ROOT, "Sentiment of financial headlines: %d training, %d test items (%s)%n",
                train.size(), test.size(), s.data());
        LabelTable table = new LabelTable(LABELS);
        Steps steps = new Steps(console, s.methods());

        if (s.methods().contains(Method.MAJORITY)) {
            String majority = majority(train);
            table.add(Method.MAJORITY.row(), gold, Collections.nCopies(test.size(), majority), 0);
        }
        if (s.methods().contains(Method.TRIBUO)) {
            steps.next("Tribuo logistic regression on bag-of-words");
            long t = System.nanoTime();
            table.add(Method.TRIBUO.row(), gold, BagOfWords.trainAndPredict(train, test, 7), seconds(t));
        }

        Pretrained base = Pretrained.load(s.model());
        if (s.methods().contains(Method.ZERO_SHOT)) {
            steps.next(String.format(Locale.ROOT, "Base model %s (%,d parameters): zero-shot", s.model(),
                    base.model().parameterCount()));
            long t = System.nanoTime();
            table.add(Method.ZERO_SHOT.row(), gold, classify(base, "", test), seconds(t));
        }
        if (s.methods().contains(Method.FEW_SHOT)) {
            int n = s.shots() * LABELS.size();
            steps.next(String.format(Locale.ROOT, "Few-shot: %d solved headlines in the prompt", n));
            long t = System.nanoTime();
            table.add(n + "-shot", gold, classify(base, demonstrations(train, s.shots(), 11), test), seconds(t));
        }

        List<Tuning.Pair> pairs = train.stream().map(i -> new Tuning.Pair(prompt(i.text()), answer(i.label())))
                .toList();
        Path adapter = null;
        PeftModel peft = null;
        Item sample = test.get(0);
        String generated = null;
        if (s.methods().contains(Method.LORA)) {
            steps.next(String.format(Locale.ROOT, "LoRA on the label words: %d steps of %d, learning rate %.0e",
                    s.lora().steps(), s.lora().batchSize(), s.lora().lr()));
            long t = System.nanoTime();
            peft = Tuning.lora(base.model(), s.lora().seed());
            console.println("      " + peft.trainableParameters());
            Tuning.train(peft, Tuning.withoutEndOfSequence(Tuning.data(base.tokenizer(), pairs)), s.lora());
            table.add(Method.LORA.row(), gold, classify(base, "", test), seconds(t));
            adapter = s.out().resolve("adapter");
            peft.save(adapter);
            generated = Generator.of(base.model(), base.tokenizer())
                    .generate(prompt(sample.text()), GenerationConfig.greedy(3)).text();
        }
        Path classifierAdapter = null;
        if (s.methods().contains(Method.LORA_HEAD)) {
            steps.next(String.format(Locale.ROOT, "LoRA + classifier head: %d steps of %d, learning rate %.0e",
                    s.lora().steps(), s.lora().batchSize(), s.lora().lr()));
            long t = System.nanoTime();
            Pretrained fresh = Pretrained.load(s.model());
            PeftModel headLora = Tuning.lora(fresh.model(), s.lora().seed());
            SequenceClassifier classifier = SequenceClassifier.create(fresh.model(), fresh.tokenizer(), LABELS,
                    s.lora().seed());
            List<String> texts = train.stream().map(i -> prompt(i.text())).toList();
            Tuning.train(classifier.trainable(headLora), classifier.data(texts,
                    train.stream().map(Item::label).toList(), "sentiment training items"), s.lora());
            table.add(Method.LORA_HEAD.row(), gold, predict(classifier, test), seconds(t));
            classifierAdapter = s.out().resolve(CLASSIFIER_ADAPTER);
            headLora.save(classifierAdapter);
            classifier.saveHead(classifierAdapter.resolve(HEAD_FILE));
            if (peft == null) {
                peft = headLora;
                base = fresh;
            }
        }
        if (s.methods().contains(Method.FULL)) {
            steps.next(String.format(Locale.ROOT, "Full fine-tuning + classifier head (Tribuo's LmClassifierTrainer): "
                    + "%d steps of %d, learning rate %.0e", s.full().steps(), s.full().batchSize(), s.full().lr()));
            long t = System.nanoTime();
            LmClassifierModel full = LmClassifierTrainer.builder(s.model()).method(TuningMethod.FULL)
                    .learningRate(s.full().lr()).steps(s.full().steps()).batchSize(s.full().batchSize())
                    .seed(s.full().seed()).progress(s.full().progress()).build().train(dataset(train));
            List<String> predicted = full.predictTexts(test.stream().map(i -> prompt(i.text())).toList()).stream()
                    .map(p -> p.getOutput().getLabel()).toList();
            table.add(Method.FULL.row(), gold, predicted, seconds(t));
        }

        console.println();
        table.print(console);
        console.println("(accuracy and F1 from Tribuo's LabelConfusionMatrix; seconds: training plus scoring the test "
                + "split)");
        console.println();
        if (adapter != null) {
            console.printf("LoRA adapter (label words) saved to %s (adapter_config.json + adapter_model.safetensors)%n",
                    adapter);
            console.printf("Generated after \"%s\": \"%s\" (gold: %s)%n", prompt(sample.text()).replace("\n", "\\n"),
                    generated.strip(), sample.label());
        }
        if (classifierAdapter != null) {
            console.printf("LoRA adapter with classifier head saved to %s (PEFT's adapter files + %s)%n",
                    classifierAdapter, HEAD_FILE);
        }
        return new Result(table, adapter, classifierAdapter, sample.text(), generated, peft, base);
    }

    /** Numbered progress lines, "[2/5] ...". */
    private static final class Steps {
        private final PrintStream console;
        private final int total;
        private int done;

        Steps(PrintStream console, Set<Method> methods) {
            this.console = console;
            this.total = (int) methods.stream().filter(m -> m != Method.MAJORITY).count();
        }

        void next(String what) {
            console.printf(Locale.ROOT, "[%d/%d] %s ...%n", ++done, total, what);
            console.flush();
        }
    }

    /** Items as a Tribuo dataset whose texts are the prompts (what the language-model methods read). */
    static MutableDataset<Label> dataset(List<Item> items) {
        LabelFactory factory = new LabelFactory();
        MutableDataset<Label> data = new MutableDataset<>(new SimpleDataSourceProvenance("sentiment training items ("
                + items.size() + ")", factory), factory);
        for (Item i : items) {
            data.add(TextDatasets.example(prompt(i.text()), new Label(i.label())));
        }
        return data;
    }

    /** The classifier's most probable label for each item's prompt. */
    static List<String> predict(SequenceClassifier classifier, List<Item> items) {
        float[][] p = classifier.probabilities(items.stream().map(i -> prompt(i.text())).toList(), 16);
        List<String> predicted = new ArrayList<>(items.size());
        for (float[] row : p) {
            int best = 0;
            for (int j = 1; j < row.length; j++) {
                best = row[j] > row[best] ? j : best;
            }
            predicted.add(classifier.labels().get(best));
        }
        return predicted;
    }

    /** The prompt every language-model method completes with a label word. */
    static String prompt(String headline) {
        return "Headline: " + headline + "\nThis news is";
    }

    /** The completion that stands for {@code label}: its word, after a space. */
    static String answer(String label) {
        return " " + WORDS.target(label);
    }

    /** For each item, the label whose word (" bad", " normal", " good") is most likely after {@code prefix + prompt}. */
    static List<String> classify(Pretrained lm, String prefix, List<Item> items) {
        LoglikelihoodScorer scorer = LoglikelihoodScorer.builder(lm.model(), lm.tokenizer()).batchSize(16).build();
        List<Request> requests = new ArrayList<>(items.size() * LABELS.size());
        for (Item item : items) {
            for (String label : LABELS) {
                requests.add(new Request(prefix + prompt(item.text()), answer(label)));
            }
        }
        List<Loglikelihood> scores = scorer.loglikelihood(requests);
        List<String> predicted = new ArrayList<>(items.size());
        for (int i = 0; i < items.size(); i++) {
            int best = 0;
            for (int j = 1; j < LABELS.size(); j++) {
                if (scores.get(i * LABELS.size() + j).logLikelihood()
                        > scores.get(i * LABELS.size() + best).logLikelihood()) {
                    best = j;
                }
            }
            predicted.add(LABELS.get(best));
        }
        return predicted;
    }

    /** {@code shots} training items per label, interleaved, each a prompt with its answer. */
    static String demonstrations(List<Item> train, int shots, long seed) {
        List<Item> shuffled = new ArrayList<>(train);
        Collections.shuffle(shuffled, new Random(seed));
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < shots; k++) {
            for (String label : LABELS) {
                Item demo = shuffled.stream().filter(i -> i.label().equals(label)).skip(k).findFirst()
                        .orElseThrow(() -> new IllegalArgumentException("fewer than " + shots + " training items "
                                + "labelled " + label));
                sb.append(prompt(demo.text())).append(answer(label)).append("\n\n");
            }
        }
        return sb.toString();
    }

    static String majority(List<Item> train) {
        Map<String, Integer> counts = new HashMap<>();
        for (Item i : train) {
            counts.merge(i.label(), 1, Integer::sum);
        }
        return LABELS.stream().max((a, b) -> Integer.compare(counts.getOrDefault(a, 0), counts.getOrDefault(b, 0)))
                .orElseThrow();
    }

    static List<Item> read(Path file) throws IOException {
        List<JsonNode> nodes = ExampleFiles.readJsonl(file);
        List<Item> items = new ArrayList<>(nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            String label = ExampleFiles.text(nodes.get(i), "label", file, i);
            if (!LABELS.contains(label)) {
                throw new IOException(file + ", item " + (i + 1) + ": label \"" + label + "\" is not one of " + LABELS);
            }
            items.add(new Item(ExampleFiles.text(nodes.get(i), "text", file, i), label));
        }
        return items;
    }

    private static double seconds(long startNanos) {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
