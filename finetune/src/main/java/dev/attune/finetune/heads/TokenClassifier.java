package dev.attune.finetune.heads;

import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.Output;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.core.train.Trainable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A language model with a token-classification head, as Hugging Face's {@code GPT2ForTokenClassification}: dropout
 * and a linear layer {@code classifier.weight [numLabels, C]}, {@code classifier.bias [numLabels]} over every
 * position's final hidden state (after {@code ln_f}). Tags (BIO, or any label set) belong to words:
 *
 * <pre>{@code
 * TokenClassifier tagger = TokenClassifier.create(model, tokenizer, List.of("O", "B-PER", "I-PER"), 7);
 * LmTraining.builder().trainable(tagger.trainable(Trainable.of(model)))        // or a PeftModel, or null
 *         .data(tagger.data(sentences, tags, "train.jsonl")).maxSteps(200).build().run();
 * List<List<String>> predicted = tagger.predict(List.of(List.of("Ada", "met", "Alan")), 16);
 * }</pre>
 *
 * <p><b>How words meet the byte-level tokenizer.</b> A sentence's words are joined with single spaces, as GPT-2
 * sees running text: the first word is encoded as it is, every later word with a space in front ({@code " met"}),
 * which gives exactly the tokens of {@code String.join(" ", words)} because GPT-2's pre-tokenizer never lets a piece
 * cross a space. Words must therefore be non-empty and hold no whitespace. A word's <em>first</em> sub-token
 * carries its label; its other sub-tokens and the padding are ignored by the loss ({@link TokenBatch#IGNORE}, as
 * {@code -100} in transformers' examples), and predictions are read at the first sub-token too. In a causal model
 * that position has seen the words before it, not after it.
 *
 * <p>Trains beside whatever trains the model, as {@link SequenceClassifier} does: every weight
 * ({@code Trainable.of(model)}), an adapter (a {@code PeftModel} on this model), or nothing (a linear probe). Not
 * thread-safe, like the model.
 */
public final class TokenClassifier {

    /** The head's tensor names, as in {@code GPT2ForTokenClassification}'s state dict. */
    public static final String CLASSIFIER_WEIGHT = "classifier.weight";
    public static final String CLASSIFIER_BIAS = "classifier.bias";
    /** Transformers' default head dropout for GPT-2 ({@code classifier_dropout} unset). */
    public static final double DEFAULT_DROPOUT = 0.1;

    private final GptModel model;
    private final Tokenizer tokenizer;
    private final List<String> labels;
    private final Map<String, Integer> labelIndex = new HashMap<>();
    private final double dropout;
    private INDArray weight; // [L, C]
    private INDArray bias;   // [L]

    /**
     * A sentence's token ids and, per word, the position of its first sub-token.
     *
     * @param ids        token ids of the words joined with spaces
     * @param firstToken {@code firstToken[w]}: index in {@code ids} of word {@code w}'s first sub-token
     */
    public record Alignment(int[] ids, int[] firstToken) {
        public Alignment {
            ids = ids.clone();
            firstToken = firstToken.clone();
        }

        @Override
        public int[] ids() {
            return ids.clone();
        }

        @Override
        public int[] firstToken() {
            return firstToken.clone();
        }
    }

    private TokenClassifier(GptModel model, Tokenizer tokenizer, List<String> labels, double dropout,
            INDArray weight, INDArray bias) {
        if (labels.size() < 2) {
            throw new IllegalArgumentException("a tagger needs at least 2 labels, got " + labels);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
        }
        this.model = model;
        this.tokenizer = tokenizer;
        this.labels = List.copyOf(labels);
        for (int i = 0; i < labels.size(); i++) {
            if (labelIndex.put(labels.get(i), i) != null) {
                throw new IllegalArgumentException("label '" + labels.get(i) + "' is listed twice");
            }
        }
        long[] expected = {labels.size(), model.config().embeddingSize()};
        if (!Arrays.equals(weight.shape(), expected)) {
            throw new IllegalArgumentException(CLASSIFIER_WEIGHT + " has shape " + Arrays.toString(weight.shape())
                    + ", expected " + Arrays.toString(expected));
        }
        if (!Arrays.equals(bias.shape(), new long[] {labels.size()})) {
            throw new IllegalArgumentException(CLASSIFIER_BIAS + " has shape " + Arrays.toString(bias.shape())
                    + ", expected [" + labels.size() + "]");
        }
        this.dropout = dropout;
        this.weight = weight;
        this.bias = bias;
    }

    /** A fresh head with transformers' dropout (0.1) and initialisation (weight {@code N(0, 0.02)}, bias 0). */
    public static TokenClassifier create(GptModel model, Tokenizer tokenizer, List<String> labels, long seed) {
        return create(model, tokenizer, labels, DEFAULT_DROPOUT, seed);
    }

    /** A fresh head with the given dropout on the hidden states it reads (in training only). */
    public static TokenClassifier create(GptModel model, Tokenizer tokenizer, List<String> labels, double dropout,
            long seed) {
        int c = model.config().embeddingSize();
        float[] w = new float[labels.size() * c];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (0.02 * SequenceClassifier.gaussian(random));
        }
        return new TokenClassifier(model, tokenizer, labels, dropout,
                Nd4j.create(w, new long[] {labels.size(), c}, DataType.FLOAT), Nd4j.zeros(DataType.FLOAT, labels.size()));
    }

    public GptModel model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public List<String> labels() {
        return labels;
    }

    public double dropout() {
        return dropout;
    }

    /** {@code classifier.weight [numLabels, C]} (live: training updates it). */
    public INDArray classifierWeight() {
        return weight;
    }

    /** {@code classifier.bias [numLabels]} (live). */
    public INDArray classifierBias() {
        return bias;
    }

    /** The index of {@code label}; a label the tagger does not know is an error that lists those it knows. */
    public int labelIndex(String label) {
        Integer i = labelIndex.get(label);
        if (i == null) {
            throw new IllegalArgumentException("unknown tag '" + label + "' (unseen in training); the tagger knows "
                    + labels);
        }
        return i;
    }

    /** The tokens of {@code words} joined with spaces, and where each word starts (see the class comment). */
    public Alignment align(List<String> words) {
        if (words == null || words.isEmpty()) {
            throw new IllegalArgumentException("no tokens: a sentence needs at least one word");
        }
        List<int[]> pieces = new ArrayList<>(words.size());
        int[] first = new int[words.size()];
        int n = 0;
        for (int w = 0; w < words.size(); w++) {
            String word = words.get(w);
            if (word == null || word.isEmpty()) {
                throw new IllegalArgumentException("token " + (w + 1) + " is empty");
            }
            if (word.codePoints().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("token " + (w + 1) + " ('" + word + "') holds whitespace; words "
                        + "are joined with spaces, so a word cannot contain one");
            }
            int[] ids = tokenizer.encode(w == 0 ? word : " " + word);
            first[w] = n;
            n += ids.length;
            pieces.add(ids);
        }
        int[] ids = new int[n];
        int at = 0;
        for (int[] p : pieces) {
            System.arraycopy(p, 0, ids, at, p.length);
            at += p.length;
        }
        return new Alignment(ids, first);
    }

    private int padToken() {
        return tokenizer.padId().orElse(tokenizer.eosId().orElse(0));
    }

    /**
     * Tagged sentences as training data: each word's tag at its first sub-token, {@code IGNORE} elsewhere.
     * {@code description} names them in errors (which give the sentence and token) and logs.
     */
    public ClassificationData data(List<List<String>> sentences, List<List<String>> tags, String description) {
        if (sentences.size() != tags.size()) {
            throw new IllegalArgumentException(description + ": " + sentences.size() + " sentences but " + tags.size()
                    + " tag sequences");
        }
        List<int[]> rows = new ArrayList<>();
        List<int[]> targets = new ArrayList<>();
        for (int i = 0; i < sentences.size(); i++) {
            try {
                List<String> words = sentences.get(i);
                List<String> wordTags = tags.get(i);
                Alignment a = align(words);
                if (wordTags.size() != words.size()) {
                    throw new IllegalArgumentException(words.size() + " tokens but " + wordTags.size() + " tags");
                }
                int[] t = new int[a.ids.length];
                Arrays.fill(t, TokenBatch.IGNORE);
                for (int w = 0; w < words.size(); w++) {
                    try {
                        t[a.firstToken[w]] = labelIndex(wordTags.get(w));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("token " + (w + 1) + ": " + e.getMessage(), e);
                    }
                }
                rows.add(a.ids);
                targets.add(t);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(description + ", sentence " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return ClassificationData.perPosition(rows, targets, padToken(), description);
    }

    /**
     * The head's logits for each word of each sentence, {@code [sentences][words][labels]}: sentences go through the
     * model {@code batchSize} at a time, grouped by length so that little padding is computed. A sentence longer
     * than the model's context is an error (its last words would have no prediction).
     */
    public double[][][] logits(List<List<String>> sentences, int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        int maxLength = model.config().contextLength();
        Alignment[] aligned = new Alignment[sentences.size()];
        for (int i = 0; i < aligned.length; i++) {
            try {
                aligned[i] = align(sentences.get(i));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("sentence " + (i + 1) + ": " + e.getMessage(), e);
            }
            if (aligned[i].ids.length > maxLength) {
                throw new IllegalArgumentException("sentence " + (i + 1) + ": " + aligned[i].ids.length
                        + " tokens, more than the model's context of " + maxLength);
            }
        }
        Integer[] order = new Integer[aligned.length];
        Arrays.setAll(order, i -> i);
        Arrays.sort(order, Comparator.comparingInt(i -> aligned[i].ids.length));
        double[][][] out = new double[aligned.length][][];
        for (int start = 0; start < order.length; start += batchSize) {
            int n = Math.min(batchSize, order.length - start);
            int t = aligned[order[start + n - 1]].ids.length;
            int[] inputs = new int[n * t];
            Arrays.fill(inputs, padToken());
            List<Integer> positions = new ArrayList<>();
            for (int b = 0; b < n; b++) {
                Alignment a = aligned[order[start + b]];
                System.arraycopy(a.ids, 0, inputs, b * t, a.ids.length);
                for (int f : a.firstToken) {
                    positions.add(b * t + f);
                }
            }
            int[] targets = new int[n * t];
            Arrays.fill(targets, TokenBatch.IGNORE);
            INDArray hidden = model.forward(new TokenBatch(n, t, inputs, targets), Output.HIDDEN).hidden(); // [B, T, C]
            INDArray rows = SequenceClassifier.gather(hidden, positions.stream().mapToInt(Integer::intValue).toArray());
            INDArray z = rows.mmul(weight.transpose()).addiRowVector(bias);                            // [words, L]
            double[][] logits = z.castTo(DataType.DOUBLE).toDoubleMatrix();
            int k = 0;
            for (int b = 0; b < n; b++) {
                int words = aligned[order[start + b]].firstToken.length;
                out[order[start + b]] = Arrays.copyOfRange(logits, k, k + words);
                k += words;
            }
        }
        return out;
    }

    /** Tag probabilities of each word, {@code [sentences][words][labels]}. */
    public float[][][] probabilities(List<List<String>> sentences, int batchSize) {
        double[][][] logits = logits(sentences, batchSize);
        float[][][] p = new float[logits.length][][];
        for (int i = 0; i < logits.length; i++) {
            p[i] = new float[logits[i].length][];
            for (int w = 0; w < logits[i].length; w++) {
                double[] s = SequenceClassifier.softmax(logits[i][w]);
                p[i][w] = new float[s.length];
                for (int j = 0; j < s.length; j++) {
                    p[i][w][j] = (float) s[j];
                }
            }
        }
        return p;
    }

    /** The most probable tag of each word. */
    public List<List<String>> predict(List<List<String>> sentences, int batchSize) {
        List<List<String>> out = new ArrayList<>();
        for (double[][] sentence : logits(sentences, batchSize)) {
            List<String> tags = new ArrayList<>(sentence.length);
            for (double[] word : sentence) {
                int best = 0;
                for (int j = 1; j < word.length; j++) {
                    best = word[j] > word[best] ? j : best;
                }
                tags.add(labels.get(best));
            }
            out.add(List.copyOf(tags));
        }
        return out;
    }

    /**
     * What {@code LmTraining} trains: {@code base}'s tensors (every weight with {@code Trainable.of(model())}, an
     * adapter's with a {@code PeftModel} on {@link #model()}) followed by {@code classifier.weight} and
     * {@code classifier.bias}; {@code null} trains the head alone on the unchanged model. The loss is the
     * cross-entropy of the head's logits at every position a {@link #data} batch labels. From then on the head's
     * tensors live in the returned trainable's buffer.
     */
    public Trainable trainable(Trainable base) {
        return new HeadTrainable(head(), base);
    }

    private LinearHead head() {
        return new LinearHead() {
            @Override public GptModel model() { return model; }
            @Override public int numLabels() { return labels.size(); }
            @Override public String weightName() { return CLASSIFIER_WEIGHT; }
            @Override public String biasName() { return CLASSIFIER_BIAS; }
            @Override public INDArray weight() { return weight; }
            @Override public INDArray bias() { return bias; }
            @Override public double dropout() { return dropout; }
            @Override public String fileName() { return "classifier.safetensors"; }
            @Override public String taskType() { return "TOKEN_CLS"; }
            @Override public void save(Path file) throws IOException { saveHead(file); }
            @Override public void load(Path file) throws IOException { loadHead(file); }
            @Override public String description() { return "the token-classification head"; }

            @Override
            public void bind(INDArray w, INDArray b) {
                w.assign(weight);
                b.assign(bias);
                weight = w;
                bias = b;
            }
        };
    }

    /** Writes the head alone, {@code classifier.weight [L, C]} and {@code classifier.bias [L]}, to a safetensors file. */
    public void saveHead(Path file) throws IOException {
        SafeTensors.writer().add(CLASSIFIER_WEIGHT, weight).add(CLASSIFIER_BIAS, bias).write(file);
    }

    /** Reads a head {@link #saveHead} (or a {@code GPT2ForTokenClassification} state dict) holds; shapes must match. */
    public void loadHead(Path file) throws IOException {
        try (SafeTensors in = SafeTensors.open(file)) {
            weight.assign(Nd4j.create(in.readFloats(CLASSIFIER_WEIGHT, weight.shape()), weight.shape(), DataType.FLOAT));
            bias.assign(Nd4j.create(in.readFloats(CLASSIFIER_BIAS, bias.shape()), bias.shape(), DataType.FLOAT));
        }
    }
}
