package dev.attune.finetune.tribuo;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.oracle.labs.mlrg.olcut.util.Pair;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.io.AtomicFiles;
import dev.attune.finetune.heads.SequenceClassifier;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.PeftModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.tribuo.Example;
import org.tribuo.Excuse;
import org.tribuo.ImmutableFeatureMap;
import org.tribuo.Model;
import org.tribuo.MutableFeatureMap;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.provenance.ModelProvenance;

/**
 * A fine-tuned language model with a classification head, as a Tribuo {@code Model<Label>}: {@code predict} reads
 * each example's text from its metadata ({@link TextDatasets#TEXT}), runs the texts through the model in padded
 * batches, and gives every label its probability. {@code LabelEvaluator} evaluates it unchanged. An example whose
 * (true) label was not seen in training is refused with an error rather than silently counted wrong.
 *
 * <p>A saved classifier is a directory: {@code classifier.json} (labels, method, base checkpoint path and SHA-256),
 * {@code provenance.json} (the Tribuo provenance, OLCUT's JSON form), {@code score.safetensors} (the head,
 * {@code score.weight [labels, C]}), and for full fine-tuning {@code model/} (the fine-tuned checkpoint with its
 * tokenizer). With a PEFT method the head is saved with the adapter in {@code adapter/}, in PEFT's layout
 * ({@code adapter_config.json} with {@code modules_to_save: ["score"]} and {@code task_type: SEQ_CLS}, the head as
 * {@code base_model.model.score.weight}), which Python's PEFT loads onto {@code GPT2ForSequenceClassification}. A
 * head-only or adapter classifier refers to its base by path and refuses a base whose SHA-256 changed.
 *
 * <p>Java serialization is not supported (the weights live outside the JVM heap); use {@link #save} and
 * {@link #load}. Not thread-safe.
 */
public final class LmClassifierModel extends Model<Label> {

    private static final long serialVersionUID = 1L;

    /** Instance-provenance keys. */
    public static final String BASE_SHA256 = BaseCheckpoint.SHA256_KEY;
    public static final String BASE_PATH = BaseCheckpoint.PATH_KEY;
    public static final String EXAMPLES = "training-examples";

    static final String FORMAT = "attune-sequence-classifier";
    private static final String DESCRIPTOR_FILE = "classifier.json";
    private static final String HEAD_FILE = "score.safetensors";

    /** The adapter directory of a classifier trained with a PEFT method. */
    public static final String ADAPTER_DIRECTORY = ModelFiles.ADAPTER_DIRECTORY;

    private final transient SequenceClassifier classifier;
    private final transient PeftModel peft; // null unless the method is PEFT
    private final TuningMethod method;
    private final Path basePath;
    private final String baseSha256;
    private int batchSize = 16;

    LmClassifierModel(ModelProvenance provenance, SequenceClassifier classifier, TuningMethod method,
            PeftModel peft, Path basePath, String baseSha256) {
        super("lm-classifier", provenance, new ImmutableFeatureMap(new MutableFeatureMap()),
                new LabelFactory().constructInfoForExternalModel(ModelFiles.labelIds(classifier.labels())), true);
        if ((method == TuningMethod.PEFT) != (peft != null)) {
            throw new IllegalArgumentException("an adapter goes with method peft, and only with it (method " + method
                    + ")");
        }
        this.classifier = classifier;
        this.peft = peft;
        this.method = method;
        this.basePath = basePath;
        this.baseSha256 = baseSha256;
    }

    /** The head and model underneath. */
    public SequenceClassifier classifier() {
        return classifier;
    }

    public TuningMethod method() {
        return method;
    }

    /** Texts per forward pass when predicting (16 by default). */
    public void setBatchSize(int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        this.batchSize = batchSize;
    }

    @Override
    public Prediction<Label> predict(Example<Label> example) {
        return innerPredict(List.of(example)).get(0);
    }

    @Override
    protected List<Prediction<Label>> innerPredict(Iterable<Example<Label>> examples) {
        List<Example<Label>> list = new ArrayList<>();
        List<String> texts = new ArrayList<>();
        for (Example<Label> e : examples) {
            try {
                texts.add(TextDatasets.text(e));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("example " + (list.size() + 1) + ": " + ex.getMessage(), ex);
            }
            Label truth = e.getOutput();
            if (truth != null && !truth.equals(LabelFactory.UNKNOWN_LABEL)
                    && !classifier.labels().contains(truth.getLabel())) {
                // an evaluation would count it as an error the model can never avoid: say so instead
                throw new IllegalArgumentException("example " + (list.size() + 1) + " has the label '"
                        + truth.getLabel() + "', unseen in training; the classifier knows " + classifier.labels());
            }
            list.add(e);
        }
        float[][] p = classifier.probabilities(texts, batchSize);
        List<String> labels = classifier.labels();
        List<Prediction<Label>> out = new ArrayList<>();
        for (int i = 0; i < p.length; i++) {
            Map<String, Label> scores = new LinkedHashMap<>();
            int best = 0;
            for (int j = 0; j < labels.size(); j++) {
                scores.put(labels.get(j), new Label(labels.get(j), p[i][j]));
                best = p[i][j] > p[i][best] ? j : best;
            }
            out.add(new Prediction<>(new Label(labels.get(best), p[i][best]), scores, list.get(i).size(), list.get(i),
                    true));
        }
        return out;
    }

    /** Predicts plain texts. */
    public List<Prediction<Label>> predictTexts(List<String> texts) {
        return innerPredict(TextDatasets.unlabelled(texts));
    }

    @Override
    public Map<String, List<Pair<String, Double>>> getTopFeatures(int n) {
        return Map.of();
    }

    @Override
    public Optional<Excuse<Label>> getExcuse(Example<Label> example) {
        return Optional.empty();
    }

    @Override
    protected LmClassifierModel copy(String newName, ModelProvenance newProvenance) {
        LmClassifierModel copy = new LmClassifierModel(newProvenance, classifier, method, peft, basePath, baseSha256);
        copy.setName(newName);
        return copy;
    }

    // -------------------------------------------------------------------------------------------- save/load

    /** Writes the classifier into {@code directory}, atomically (a directory already there is replaced whole). */
    public void save(Path directory) throws IOException {
        ObjectNode o = new ModelFiles.Descriptor(FORMAT, classifier.labels(), method, basePath, baseSha256).toJson();
        AtomicFiles.writeDirectory(directory, dir -> {
            if (peft != null) {
                peft.save(Files.createDirectory(dir.resolve(ADAPTER_DIRECTORY)), classifier.modulesToSave());
            } else {
                classifier.saveHead(dir.resolve(HEAD_FILE));
            }
            ModelFiles.writeCommon(dir, DESCRIPTOR_FILE, o, provenance, method, classifier.model(),
                    classifier.tokenizer());
        });
    }

    /** Reads a classifier {@link #save} wrote. */
    public static LmClassifierModel load(Path directory) throws IOException {
        ModelFiles.Descriptor d = ModelFiles.Descriptor.read(directory, DESCRIPTOR_FILE, FORMAT, "classifier");
        Pretrained pretrained = d.loadModel(directory, DESCRIPTOR_FILE);
        PeftModel peft = null;
        SequenceClassifier classifier;
        if (d.method() == TuningMethod.PEFT) {
            peft = Peft.load(pretrained.model(), directory.resolve(ADAPTER_DIRECTORY));
            try {
                classifier = SequenceClassifier.fromAdapter(peft, pretrained.tokenizer(), d.labels());
            } catch (IllegalArgumentException e) {
                throw new IOException(directory.resolve(ADAPTER_DIRECTORY) + ": " + e.getMessage(), e);
            }
        } else {
            classifier = SequenceClassifier.create(pretrained.model(), pretrained.tokenizer(), d.labels(), 0);
            classifier.loadHead(directory.resolve(HEAD_FILE));
        }
        return new LmClassifierModel(ModelFiles.readProvenance(directory), classifier, d.method(), peft, d.base(),
                d.baseSha256());
    }

    /** A short model card from the provenance: what the model is, how and on what it was trained. */
    public String modelCard() {
        StringBuilder s = new StringBuilder();
        s.append("# Model card: ").append(getName()).append('\n');
        s.append("task: sequence classification (GPT2ForSequenceClassification head on the last token)\n");
        s.append("labels: ").append(classifier.labels()).append('\n');
        s.append("base checkpoint: ").append(basePath).append('\n');
        s.append("base sha256: ").append(baseSha256).append('\n');
        s.append("fine-tuning method: ").append(method.id())
                .append(peft == null ? "" : " (" + peft.adapter(peft.activeAdapter()).config().peftType() + ", "
                        + peft.trainableParameters() + ")").append('\n');
        ModelFiles.appendTraining(s, provenance);
        return s.toString();
    }

    @Override
    public String toString() {
        return "LmClassifierModel(" + classifier.labels() + ", " + method + ", base " + basePath + ")";
    }
}
