package dev.attune.finetune.heads;

import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.Output;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.core.train.Trainable;
import dev.attune.finetune.peft.ModulesToSave;
import dev.attune.finetune.peft.PeftModel;
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
 * A language model with a sequence-classification head, as Hugging Face's {@code GPT2ForSequenceClassification}: a
 * linear layer without bias, {@code score.weight [numLabels, C]}, applied to the final hidden state (after
 * {@code ln_f}) of each row's last real token.
 *
 * <pre>{@code
 * SequenceClassifier clf = SequenceClassifier.create(model, tokenizer, List.of("neg", "pos"), 7);
 * LmTraining.builder().trainable(clf.trainable(Trainable.of(model)))      // full fine-tuning
 *         .data(clf.data(texts, labels, "train.jsonl")).maxSteps(200).build().run();
 * float[][] p = clf.probabilities(List.of("great film"), 32);           // [texts][labels]
 * }</pre>
 *
 * The head trains beside whatever trains the model: every weight ({@code Trainable.of(model)}), an adapter (a
 * {@code PeftModel} on this model), or nothing (a frozen model: a linear probe). Not thread-safe, like the model.
 */
public final class SequenceClassifier {

    /** The head's tensor name, as in {@code GPT2ForSequenceClassification}'s state dict. */
    public static final String SCORE_WEIGHT = "score.weight";

    /** PEFT's {@code task_type} of a sequence classifier, written with the head beside an adapter. */
    public static final String TASK_TYPE = "SEQ_CLS";

    private final GptModel model;
    private final Tokenizer tokenizer;
    private final List<String> labels;
    private final Map<String, Integer> labelIndex = new HashMap<>();
    private INDArray score; // [L, C]

    private SequenceClassifier(GptModel model, Tokenizer tokenizer, List<String> labels, INDArray score) {
        if (labels.size() < 2) {
            throw new IllegalArgumentException("a classifier needs at least 2 labels, got " + labels);
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
        if (!Arrays.equals(score.shape(), expected)) {
            throw new IllegalArgumentException(SCORE_WEIGHT + " has shape " + Arrays.toString(score.shape())
                    + ", expected " + Arrays.toString(expected));
        }
        this.score = score;
    }

    /** A fresh head, initialised as transformers does ({@code N(0, 0.02)}). */
    public static SequenceClassifier create(GptModel model, Tokenizer tokenizer, List<String> labels, long seed) {
        int c = model.config().embeddingSize();
        float[] w = new float[labels.size() * c];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (0.02 * gaussian(random));
        }
        return new SequenceClassifier(model, tokenizer, labels, Nd4j.create(w, new long[] {labels.size(), c}, DataType.FLOAT));
    }

    /**
     * The classifier an adapter directory holds with its head ({@code score} in {@code modules_to_save}, as PEFT
     * saves a {@code GPT2ForSequenceClassification} adapter): the head from {@code peft.modulesToSave()} on
     * {@code peft.model()}. An adapter saved without a head, or a head with another number of labels, is an error.
     */
    public static SequenceClassifier fromAdapter(PeftModel peft, Tokenizer tokenizer, List<String> labels) {
        ModulesToSave modules = peft.modulesToSave().orElseThrow(() -> new IllegalArgumentException("the adapter "
                + "was saved without a task head (no modules_to_save); a classifier needs its " + SCORE_WEIGHT));
        return of(peft.model(), tokenizer, labels, modules.tensor(SCORE_WEIGHT));
    }

    /** A head with the given weight {@code [numLabels, C]}. */
    public static SequenceClassifier of(GptModel model, Tokenizer tokenizer, List<String> labels, INDArray score) {
        return new SequenceClassifier(model, tokenizer, labels, score.castTo(DataType.FLOAT).dup());
    }

    /** A standard normal draw (Box-Muller), for transformers' {@code N(0, 0.02)} head initialisation. */
    static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
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

    /** The head's weight, {@code [numLabels, C]} (live: training updates it). */
    public INDArray scoreWeight() {
        return score;
    }

    /** The {@code score} layer as {@link HeadTrainable} trains it. */
    private LinearHead head() {
        return new LinearHead() {
            @Override public GptModel model() { return model; }
            @Override public int numLabels() { return labels.size(); }
            @Override public String weightName() { return SCORE_WEIGHT; }
            @Override public String biasName() { return null; }
            @Override public INDArray weight() { return score; }
            @Override public INDArray bias() { return null; }
            @Override public double dropout() { return 0; } // GPT2ForSequenceClassification has none
            @Override public String fileName() { return "score.safetensors"; }
            @Override public String taskType() { return TASK_TYPE; }
            @Override public void save(Path file) throws IOException { saveHead(file); }
            @Override public void load(Path file) throws IOException { loadHead(file); }
            @Override public String description() { return "the classification head"; }

            @Override
            public void bind(INDArray weight, INDArray bias) {
                weight.assign(score);
                score = weight;
            }
        };
    }

    /** The index of {@code label}; a label the classifier does not know is an error that lists those it knows. */
    public int labelIndex(String label) {
        Integer i = labelIndex.get(label);
        if (i == null) {
            throw new IllegalArgumentException("unknown label '" + label + "'; the classifier knows " + labels);
        }
        return i;
    }

    /** Token ids of {@code text}; an empty text (no tokens) is an error. */
    public int[] encode(String text) {
        if (text == null) {
            throw new IllegalArgumentException("no text");
        }
        int[] ids = tokenizer.encode(text);
        if (ids.length == 0) {
            throw new IllegalArgumentException("the text is empty: a classifier needs at least one token");
        }
        return ids;
    }

    private int padToken() {
        return tokenizer.padId().orElse(tokenizer.eosId().orElse(0));
    }

    /** Labelled texts as training data; {@code description} names them in errors and logs. */
    public ClassificationData data(List<String> texts, List<String> textLabels, String description) {
        if (texts.size() != textLabels.size()) {
            throw new IllegalArgumentException(texts.size() + " texts but " + textLabels.size() + " labels");
        }
        List<int[]> rows = new ArrayList<>();
        int[] y = new int[texts.size()];
        for (int i = 0; i < texts.size(); i++) {
            try {
                rows.add(encode(texts.get(i)));
                y[i] = labelIndex(textLabels.get(i));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(description + ", example " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return new ClassificationData(rows, y, padToken(), description);
    }

    /**
     * Class probabilities of each text, {@code [texts][labels]}: texts go through the model {@code batchSize} at a
     * time, grouped by length so that little padding is computed, and the head reads each row's last real token.
     * Texts longer than the model's context keep their first tokens.
     */
    public float[][] probabilities(List<String> texts, int batchSize) {
        double[][] logits = logits(texts, batchSize);
        float[][] p = new float[logits.length][];
        for (int i = 0; i < logits.length; i++) {
            double[] s = softmax(logits[i]);
            p[i] = new float[s.length];
            for (int j = 0; j < s.length; j++) {
                p[i][j] = (float) s[j];
            }
        }
        return p;
    }

    /** The head's logits for each text, {@code [texts][labels]}. */
    public double[][] logits(List<String> texts, int batchSize) {
        int[][] ids = new int[texts.size()][];
        for (int i = 0; i < ids.length; i++) {
            try {
                ids[i] = encode(texts.get(i));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("text " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return logits(ids, batchSize);
    }

    /**
     * The head's logits for rows of token ids, {@code [rows][labels]}, {@code batchSize} rows per forward pass;
     * rows longer than the model's context (less any virtual positions of its adapters) keep their first tokens.
     */
    public double[][] logits(int[][] tokenIds, int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        int maxLength = model.config().contextLength() - model.adapters().virtualPositions();
        int[][] ids = new int[tokenIds.length][];
        for (int i = 0; i < ids.length; i++) {
            if (tokenIds[i].length == 0) {
                throw new IllegalArgumentException("row " + i + " is empty: a classifier needs at least one token");
            }
            ids[i] = tokenIds[i].length > maxLength ? Arrays.copyOf(tokenIds[i], maxLength) : tokenIds[i];
        }
        Integer[] order = new Integer[ids.length];
        Arrays.setAll(order, i -> i);
        // Longest first, so the first forward pass sizes the model's buffers for every later one.
        Arrays.sort(order, Comparator.comparingInt((Integer i) -> ids[i].length).reversed());
        double[][] out = new double[ids.length][];
        for (int start = 0; start < order.length; start += batchSize) {
            int n = Math.min(batchSize, order.length - start);
            int[][] batch = new int[n][];
            for (int b = 0; b < n; b++) {
                batch[b] = ids[order[start + b]];
            }
            INDArray rows = model.lastHidden(batch);                                                // [B, C]
            double[][] logits = rows.mmul(score.transpose()).castTo(DataType.DOUBLE).toDoubleMatrix();   // [B, L]
            for (int b = 0; b < n; b++) {
                out[order[start + b]] = logits[b];
            }
        }
        return out;
    }

    static INDArray gather(INDArray hidden, int[] flatPositions) {
        long c = hidden.size(2);
        INDArray flat = hidden.reshape(hidden.size(0) * hidden.size(1), c);
        return flat.getRows(flatPositions);
    }

    static double[] softmax(double[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        double[] p = new double[logits.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = Math.exp(logits[i] - max);
            sum += p[i];
        }
        for (int i = 0; i < p.length; i++) {
            p[i] /= sum;
        }
        return p;
    }

    /**
     * What {@code LmTraining} trains: {@code base}'s tensors (every weight with {@code Trainable.of(model())}, an
     * adapter's with a {@code PeftModel} on {@link #model()}) followed by {@code score.weight}; {@code null} trains
     * the head alone on the unchanged model. The loss is the cross-entropy of the head's logits at the positions
     * where a {@link ClassificationData} batch carries the class index. From then on the head's weight lives in the
     * returned trainable's buffer.
     */
    public Trainable trainable(Trainable base) {
        return new HeadTrainable(head(), base);
    }

    /**
     * The head as PEFT's {@code modules_to_save} of a {@code SEQ_CLS} model ({@code score.weight}), to save with an
     * adapter: {@code peft.save(dir, classifier.modulesToSave())}.
     */
    public ModulesToSave modulesToSave() {
        return HeadTrainable.modulesToSave(head());
    }

    /** Takes the head's weight from saved modules; the shape must match. */
    public void loadHead(ModulesToSave modules) {
        INDArray w = modules.tensor(SCORE_WEIGHT);
        if (!Arrays.equals(w.shape(), score.shape())) {
            throw new IllegalArgumentException("saved " + SCORE_WEIGHT + " has shape " + Arrays.toString(w.shape())
                    + ", expected " + Arrays.toString(score.shape()) + " (" + labels.size() + " labels)");
        }
        score.assign(w.castTo(score.dataType()));
    }

    /** Writes the head alone, {@code {"score.weight": [L, C]}}, to a safetensors file. */
    public void saveHead(Path file) throws IOException {
        SafeTensors.writer().add(SCORE_WEIGHT, score).write(file);
    }

    /** Reads a head {@link #saveHead} wrote; the shape must match. */
    public void loadHead(Path file) throws IOException {
        try (SafeTensors in = SafeTensors.open(file)) {
            score.assign(Nd4j.create(in.readFloats(SCORE_WEIGHT, score.shape()), score.shape(), DataType.FLOAT));
        }
    }
}
