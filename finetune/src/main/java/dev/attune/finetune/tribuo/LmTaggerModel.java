package dev.attune.finetune.tribuo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.oracle.labs.mlrg.olcut.util.Pair;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.io.AtomicFiles;
import dev.attune.finetune.heads.TokenClassifier;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.PeftModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tribuo.Example;
import org.tribuo.ImmutableFeatureMap;
import org.tribuo.MutableFeatureMap;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.provenance.ModelProvenance;
import org.tribuo.sequence.SequenceDataset;
import org.tribuo.sequence.SequenceExample;
import org.tribuo.sequence.SequenceModel;

/**
 * A fine-tuned language model with a token-classification head, as a Tribuo {@code SequenceModel<Label>}:
 * {@code predict} reads each word from its example's metadata ({@link TaggedDatasets#WORD}), runs the sentences
 * through the model in padded batches, and gives every word every tag's probability (read at the word's first
 * sub-token, see {@link TokenClassifier}). {@code LabelSequenceEvaluator} evaluates it unchanged (per-tag numbers);
 * {@link #entityReport} adds seqeval's entity-level precision, recall and F1. A word whose (true) tag was not seen
 * in training is refused with an error rather than silently counted wrong.
 *
 * <p>A saved tagger is a directory: {@code tagger.json} (tags, method, head dropout, base checkpoint path and
 * SHA-256), {@code provenance.json} (the Tribuo provenance, OLCUT's JSON form), {@code classifier.safetensors}
 * (the head: {@code classifier.weight [tags, C]}, {@code classifier.bias [tags]}), and for full fine-tuning
 * {@code model/} (the fine-tuned checkpoint with its tokenizer), for a PEFT method {@code adapter/} (PEFT's files).
 * A head-only or PEFT tagger refers to its base by path and refuses a base whose SHA-256 changed.
 *
 * <p>Java serialization is not supported (the weights live outside the JVM heap); use {@link #save} and
 * {@link #load}. Not thread-safe.
 */
public final class LmTaggerModel extends SequenceModel<Label> {

    private static final long serialVersionUID = 1L;

    /** Instance-provenance key: sentences trained on. */
    public static final String SENTENCES = "training-sentences";

    static final String FORMAT = "attune-token-classifier";
    static final String ADAPTER_DIRECTORY = ModelFiles.ADAPTER_DIRECTORY;
    private static final String DESCRIPTOR_FILE = "tagger.json";
    private static final String HEAD_FILE = "classifier.safetensors";

    private final transient TokenClassifier tagger;
    private final transient PeftModel peft; // the adapter of a PEFT tagger, else null
    private final TuningMethod method;
    private final String basePath;
    private final String baseSha256;
    private int batchSize = 16;

    LmTaggerModel(ModelProvenance provenance, TokenClassifier tagger, TuningMethod method, PeftModel peft,
            Path basePath, String baseSha256) {
        super("lm-tagger", provenance, new ImmutableFeatureMap(new MutableFeatureMap()),
                new LabelFactory().constructInfoForExternalModel(ModelFiles.labelIds(tagger.labels())));
        this.tagger = tagger;
        this.method = method;
        this.peft = peft;
        this.basePath = basePath.toString();
        this.baseSha256 = baseSha256;
    }

    /** The head and model underneath. */
    public TokenClassifier tagger() {
        return tagger;
    }

    public TuningMethod method() {
        return method;
    }

    /** Sentences per forward pass when predicting (16 by default). */
    public void setBatchSize(int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        this.batchSize = batchSize;
    }

    @Override
    public List<Prediction<Label>> predict(SequenceExample<Label> example) {
        return predict(List.of(example)).get(0);
    }

    @Override
    public List<List<Prediction<Label>>> predict(SequenceDataset<Label> dataset) {
        return predict((Iterable<SequenceExample<Label>>) dataset);
    }

    /** All sentences in padded batches of {@link #setBatchSize}. */
    @Override
    public List<List<Prediction<Label>>> predict(Iterable<SequenceExample<Label>> examples) {
        List<SequenceExample<Label>> list = new ArrayList<>();
        List<List<String>> sentences = new ArrayList<>();
        for (SequenceExample<Label> s : examples) {
            int n = list.size() + 1;
            try {
                sentences.add(TaggedDatasets.words(s));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("sentence " + n + ": " + ex.getMessage(), ex);
            }
            int w = 0;
            for (Example<Label> e : s) {
                w++;
                Label truth = e.getOutput();
                if (truth != null && !truth.equals(LabelFactory.UNKNOWN_LABEL)
                        && !tagger.labels().contains(truth.getLabel())) {
                    // an evaluation would count it as an error the model can never avoid: say so instead
                    throw new IllegalArgumentException("sentence " + n + ", token " + w + " has the tag '"
                            + truth.getLabel() + "', unseen in training; the tagger knows " + tagger.labels());
                }
            }
            list.add(s);
        }
        float[][][] p = tagger.probabilities(sentences, batchSize);
        List<String> labels = tagger.labels();
        List<List<Prediction<Label>>> out = new ArrayList<>();
        for (int i = 0; i < p.length; i++) {
            List<Prediction<Label>> sentence = new ArrayList<>(p[i].length);
            for (int w = 0; w < p[i].length; w++) {
                Map<String, Label> scores = new LinkedHashMap<>();
                int best = 0;
                for (int j = 0; j < labels.size(); j++) {
                    scores.put(labels.get(j), new Label(labels.get(j), p[i][w][j]));
                    best = p[i][w][j] > p[i][w][best] ? j : best;
                }
                Example<Label> word = list.get(i).get(w);
                sentence.add(new Prediction<>(new Label(labels.get(best), p[i][w][best]), scores, word.size(), word,
                        true));
            }
            out.add(sentence);
        }
        return out;
    }

    /** Tags plain sentences (lists of words). */
    public List<List<Prediction<Label>>> predictWords(List<List<String>> sentences) {
        return predict(TaggedDatasets.unlabelled(sentences));
    }

    /** Seqeval's entity-level report of this tagger on {@code dataset}, with the default (conlleval) reading. */
    public EntityReport entityReport(SequenceDataset<Label> dataset) {
        return EntityReport.of(dataset, predict(dataset), EntityReport.Scheme.CONLL);
    }

    @Override
    public Map<String, List<Pair<String, Double>>> getTopFeatures(int n) {
        return Map.of();
    }

    // -------------------------------------------------------------------------------------------- save/load

    /** Writes the tagger into {@code directory}, atomically (a directory already there is replaced whole). */
    public void save(Path directory) throws IOException {
        ObjectNode o = new ModelFiles.Descriptor(FORMAT, tagger.labels(), method, Path.of(basePath), baseSha256)
                .toJson();
        o.put("head_dropout", tagger.dropout());
        AtomicFiles.writeDirectory(directory, dir -> {
            if (peft != null) {
                peft.save(Files.createDirectory(dir.resolve(ADAPTER_DIRECTORY)));
            }
            tagger.saveHead(dir.resolve(HEAD_FILE));
            ModelFiles.writeCommon(dir, DESCRIPTOR_FILE, o, getProvenance(), method, tagger.model(),
                    tagger.tokenizer());
        });
    }

    /** Reads a tagger {@link #save} wrote. */
    public static LmTaggerModel load(Path directory) throws IOException {
        JsonNode json = ModelFiles.readJson(directory, DESCRIPTOR_FILE, FORMAT, "tagger");
        ModelFiles.Descriptor d = ModelFiles.Descriptor.of(json, directory.resolve(DESCRIPTOR_FILE));
        double headDropout = json.path("head_dropout").asDouble(TokenClassifier.DEFAULT_DROPOUT);
        Pretrained pretrained = d.loadModel(directory, DESCRIPTOR_FILE);
        PeftModel peft = d.method() == TuningMethod.PEFT
                ? Peft.load(pretrained.model(), directory.resolve(ADAPTER_DIRECTORY)) : null;
        TokenClassifier tagger = TokenClassifier.create(pretrained.model(), pretrained.tokenizer(), d.labels(),
                headDropout, 0);
        tagger.loadHead(directory.resolve(HEAD_FILE));
        return new LmTaggerModel(ModelFiles.readProvenance(directory), tagger, d.method(), peft, d.base(),
                d.baseSha256());
    }

    /** A short model card from the provenance: what the model is, how and on what it was trained. */
    public String modelCard() {
        StringBuilder s = new StringBuilder();
        s.append("# Model card: ").append(getName()).append('\n');
        s.append("task: token classification (GPT2ForTokenClassification head, tags at each word's first sub-token)\n");
        s.append("tags: ").append(tagger.labels()).append('\n');
        s.append("base checkpoint: ").append(basePath).append('\n');
        s.append("base sha256: ").append(baseSha256).append('\n');
        s.append("fine-tuning method: ").append(method.id()).append('\n');
        ModelFiles.appendTraining(s, getProvenance());
        return s.toString();
    }

    @Override
    public String toString() {
        return "LmTaggerModel(" + tagger.labels() + ", " + method + ", base " + basePath + ")";
    }
}
