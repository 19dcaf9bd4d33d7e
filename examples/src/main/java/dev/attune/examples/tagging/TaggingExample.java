package dev.attune.examples.tagging;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.model.ForwardResult;
import dev.attune.core.model.Output;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.examples.common.ExampleFiles;
import dev.attune.examples.common.LabelTable;
import dev.attune.examples.common.QuietTribuo;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.sgd.crf.CRFModel;
import org.tribuo.classification.sgd.crf.CRFTrainer;
import org.tribuo.classification.sgd.linear.LogisticRegressionTrainer;
import org.tribuo.impl.ArrayExample;
import org.tribuo.math.optimisers.AdaGrad;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuo.sequence.MutableSequenceDataset;
import org.tribuo.sequence.SequenceExample;

/**
 * Entity tagging (BIO tags for people, organisations and places) in short texts, two ways on one test split:
 * Tribuo's linear-chain CRF on hand-made word features, and a linear head (Tribuo's logistic regression) on the
 * frozen base model's hidden states, read at each word's last token and at the next word's (a causal model's state
 * for a word has not seen the words after it). One per-tag F1 report for both.
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
     */
    public record Settings(Path model, Path data, int trainItems, int testItems, int crfEpochs) {

        public static Settings defaults() {
            return new Settings(ExampleFiles.BASE_MODEL, ExampleFiles.DATA.resolve("tagging"), 0, 0, 5);
        }

        /** Fewer items: the tests' mode. */
        public Settings reduced() {
            return new Settings(model, data, 300, 80, 3);
        }

        public Settings withPaths(Path modelDir, Path dataDir) {
            return new Settings(modelDir, dataDir, trainItems, testItems, crfEpochs);
        }
    }

    /** A sentence's words and their tags. */
    public record Sentence(List<String> words, List<String> tags) {
    }

    static final String CRF = "Tribuo CRF (word features)";
    static final String HEAD = "Attune states + linear head";

    private TaggingExample() {
    }

    public static void main(String[] args) throws IOException {
        Settings s = Settings.defaults();
        run(List.of(args).contains("--reduced") ? s.reduced() : s, System.out);
    }

    /** Trains both taggers and prints the per-tag table. */
    public static LabelTable run(Settings s, PrintStream console) throws IOException {
        QuietTribuo.apply();
        List<Sentence> train = ExampleFiles.head(read(s.data().resolve("train.jsonl")), s.trainItems());
        List<Sentence> test = ExampleFiles.head(read(s.data().resolve("test.jsonl")), s.testItems());
        console.printf(Locale.ROOT, "Entity tagging (BIO): %d training, %d test sentences (%s)%n", train.size(),
                test.size(), s.data());
        List<String> gold = test.stream().flatMap(x -> x.tags().stream()).toList();
        LabelTable table = new LabelTable(TAGS);

        console.printf(Locale.ROOT, "[1/2] Tribuo CRF, %d epochs ...%n", s.crfEpochs());
        long t = System.nanoTime();
        table.add(CRF, gold, crf(train, test, s.crfEpochs()), (System.nanoTime() - t) / 1e9);

        Pretrained base = Pretrained.load(s.model());
        console.printf(Locale.ROOT, "[2/2] Hidden states of %s (%,d parameters) + Tribuo logistic regression ...%n",
                s.model(), base.model().parameterCount());
        t = System.nanoTime();
        table.add(HEAD, gold, head(base, train, test), (System.nanoTime() - t) / 1e9);

        console.println();
        table.print(console);
        console.println("(per-token scores on the test split; seconds include feature extraction and training)");
        return table;
    }

    static List<String> crf(List<Sentence> train, List<Sentence> test, int epochs) {
        LabelFactory factory = new LabelFactory();
        MutableSequenceDataset<Label> data = new MutableSequenceDataset<>(
                new SimpleDataSourceProvenance("tagging train.jsonl", factory), factory);
        for (Sentence sentence : train) {
            data.add(sequence(sentence, false));
        }
        CRFModel model = new CRFTrainer(new AdaGrad(0.1, 0.1), epochs, 1000, 1).train(data, java.util.Map.of());
        List<String> predicted = new ArrayList<>();
        for (Sentence sentence : test) {
            for (Prediction<Label> p : model.predict(sequence(sentence, true))) {
                predicted.add(p.getOutput().getLabel());
            }
        }
        return predicted;
    }

    private static SequenceExample<Label> sequence(Sentence s, boolean unknown) {
        List<Example<Label>> words = new ArrayList<>();
        for (int i = 0; i < s.words().size(); i++) {
            ArrayExample<Label> e = new ArrayExample<>(unknown ? LabelFactory.UNKNOWN_LABEL : new Label(s.tags().get(i)));
            for (String f : wordFeatures(s.words(), i)) {
                e.add(f, 1.0);
            }
            words.add(e);
        }
        return new SequenceExample<>(words);
    }

    /** The CRF's features of word {@code i}: the word, its shape and suffix, and its neighbours. */
    static List<String> wordFeatures(List<String> words, int i) {
        String w = words.get(i);
        List<String> f = new ArrayList<>(List.of("w=" + w.toLowerCase(Locale.ROOT),
                "cap=" + Character.isUpperCase(w.charAt(0)), "suf=" + w.substring(Math.max(0, w.length() - 3)),
                "first=" + (i == 0)));
        f.add("prev=" + (i > 0 ? words.get(i - 1).toLowerCase(Locale.ROOT) : "<s>"));
        f.add("next=" + (i + 1 < words.size() ? words.get(i + 1).toLowerCase(Locale.ROOT) : "</s>"));
        f.add("prevcap=" + (i > 0 && Character.isUpperCase(words.get(i - 1).charAt(0))));
        return f;
    }

    static List<String> head(Pretrained lm, List<Sentence> train, List<Sentence> test) {
        LabelFactory factory = new LabelFactory();
        MutableDataset<Label> data = new MutableDataset<>(
                new SimpleDataSourceProvenance("tagging train.jsonl (hidden states)", factory), factory);
        for (Sentence s : train) {
            float[][] features = wordStates(lm, s.words());
            for (int i = 0; i < features.length; i++) {
                data.add(dense(features[i], new Label(s.tags().get(i))));
            }
        }
        LogisticRegressionTrainer trainer = new LogisticRegressionTrainer();
        Model<Label> model = trainer.train(data);
        List<String> predicted = new ArrayList<>();
        for (Sentence s : test) {
            for (float[] f : wordStates(lm, s.words())) {
                predicted.add(model.predict(dense(f, LabelFactory.UNKNOWN_LABEL)).getOutput().getLabel());
            }
        }
        return predicted;
    }

    private static ArrayExample<Label> dense(float[] features, Label label) {
        String[] names = new String[features.length];
        double[] values = new double[features.length];
        for (int i = 0; i < features.length; i++) {
            names[i] = FEATURE_NAMES[i];
            values[i] = features[i];
        }
        return new ArrayExample<>(label, names, values);
    }

    private static final String[] FEATURE_NAMES = new String[4096];

    static {
        for (int i = 0; i < FEATURE_NAMES.length; i++) {
            FEATURE_NAMES[i] = String.format(Locale.ROOT, "h%04d", i);
        }
    }

    /**
     * Per word, the final hidden state at its last token and at the next word's last token (zeros after the last
     * word): [words, 2C].
     */
    static float[][] wordStates(Pretrained lm, List<String> words) {
        Tokenizer tok = lm.tokenizer();
        List<Integer> ids = new ArrayList<>();
        int[] lastToken = new int[words.size()];
        for (int i = 0; i < words.size(); i++) {
            for (int id : tok.encode(i == 0 ? words.get(i) : " " + words.get(i))) {
                ids.add(id);
            }
            lastToken[i] = ids.size() - 1;
        }
        int[] input = ids.stream().mapToInt(Integer::intValue).toArray();
        int[] targets = new int[input.length];
        Arrays.fill(targets, TokenBatch.IGNORE);
        ForwardResult r = lm.model().forward(TokenBatch.of(new int[][] {input}, new int[][] {targets}), Output.HIDDEN);
        INDArray hidden = r.hidden(); // [1, T, C]
        int c = (int) hidden.size(2);
        if (2 * c > FEATURE_NAMES.length) {
            throw new IllegalArgumentException("hidden size " + c + " is larger than this example supports ("
                    + FEATURE_NAMES.length / 2 + ")");
        }
        float[][] out = new float[words.size()][2 * c];
        for (int i = 0; i < words.size(); i++) {
            for (int j = 0; j < c; j++) {
                out[i][j] = hidden.getFloat(0, lastToken[i], j);
                if (i + 1 < words.size()) {
                    out[i][c + j] = hidden.getFloat(0, lastToken[i + 1], j);
                }
            }
        }
        return out;
    }

    static List<Sentence> read(Path file) throws IOException {
        List<JsonNode> nodes = ExampleFiles.readJsonl(file);
        List<Sentence> items = new ArrayList<>(nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            List<String> words = strings(nodes.get(i), "tokens", file, i);
            List<String> tags = strings(nodes.get(i), "tags", file, i);
            if (words.size() != tags.size() || words.isEmpty()) {
                throw new IOException(file + ", item " + (i + 1) + ": " + words.size() + " tokens but " + tags.size()
                        + " tags");
            }
            for (String tag : tags) {
                if (!TAGS.contains(tag)) {
                    throw new IOException(file + ", item " + (i + 1) + ": tag \"" + tag + "\" is not one of " + TAGS);
                }
            }
            items.add(new Sentence(words, tags));
        }
        return items;
    }

    private static List<String> strings(JsonNode item, String key, Path file, int index) throws IOException {
        JsonNode array = item.get(key);
        if (array == null || !array.isArray()) {
            throw new IOException(file + ", item " + (index + 1) + ": expected an array \"" + key + "\"");
        }
        List<String> out = new ArrayList<>();
        for (JsonNode v : array) {
            if (!v.isTextual() || v.asText().isEmpty()) {
                throw new IOException(file + ", item " + (index + 1) + ": \"" + key + "\" must hold non-empty strings");
            }
            out.add(v.asText());
        }
        return out;
    }
}
