package dev.attune.finetune.tribuo;

import com.oracle.labs.mlrg.olcut.util.Pair;
import dev.attune.prompting.scoring.Loglikelihood;
import dev.attune.prompting.scoring.LoglikelihoodScorer;
import dev.attune.prompting.scoring.Request;
import dev.attune.prompting.template.FewShotFormat;
import dev.attune.prompting.template.PromptTemplate;
import dev.attune.prompting.verbalizer.Verbalizer;
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
 * A prompt-based classifier as a Tribuo {@code Model<Label>}: for each example (text in metadata, see
 * {@link TextDatasets}), every label's score is the best log-likelihood of its verbalizer words after the prompt
 * (demonstrations, then the rendered template), all requests of a call scored in batches. The label scores are
 * turned into probabilities by a softmax over the labels. Made by {@link PromptClassifierTrainer}; not
 * serializable (the scorer holds the model's weights outside the heap).
 */
public final class PromptClassifierModel extends Model<Label> {

    private static final long serialVersionUID = 1L;

    private final transient LoglikelihoodScorer scorer;
    private final transient PromptTemplate template;
    private final transient Verbalizer verbalizer;
    private final transient FewShotFormat format;
    private final transient List<FewShotFormat.Demo> demos;

    PromptClassifierModel(ModelProvenance provenance, LoglikelihoodScorer scorer, PromptTemplate template,
            Verbalizer verbalizer, FewShotFormat format, List<FewShotFormat.Demo> demos) {
        super("prompt-classifier", provenance, new ImmutableFeatureMap(new MutableFeatureMap()),
                new LabelFactory().constructInfoForExternalModel(ModelFiles.labelIds(verbalizer.labels())), true);
        this.scorer = scorer;
        this.template = template;
        this.verbalizer = verbalizer;
        this.format = format;
        this.demos = List.copyOf(demos);
    }

    /** The demonstrations put before every query (empty for zero-shot). */
    public List<FewShotFormat.Demo> demonstrations() {
        return demos;
    }

    /** The context the model sees for {@code text}. */
    public String context(String text) {
        return format.context(demos, template.render("text", text));
    }

    @Override
    public Prediction<Label> predict(Example<Label> example) {
        return innerPredict(List.of(example)).get(0);
    }

    @Override
    protected List<Prediction<Label>> innerPredict(Iterable<Example<Label>> examples) {
        List<Example<Label>> list = new ArrayList<>();
        List<Request> requests = new ArrayList<>();
        List<String> labels = verbalizer.labels();
        for (Example<Label> e : examples) {
            String text;
            try {
                text = TextDatasets.text(e);
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("example " + (list.size() + 1) + ": " + ex.getMessage(), ex);
            }
            if (text.isEmpty()) {
                throw new IllegalArgumentException("example " + (list.size() + 1) + ": the text is empty");
            }
            String context = context(text);
            for (String label : labels) {
                for (String word : verbalizer.words(label)) {
                    requests.add(new Request(context, format.continuation(word)));
                }
            }
            list.add(e);
        }
        List<Loglikelihood> scores = scorer.loglikelihood(requests);
        List<Prediction<Label>> out = new ArrayList<>();
        int k = 0;
        for (Example<Label> e : list) {
            double[] labelScore = new double[labels.size()];
            for (int j = 0; j < labels.size(); j++) {
                double[] words = new double[verbalizer.words(labels.get(j)).size()];
                for (int w = 0; w < words.length; w++) {
                    words[w] = scores.get(k++).logLikelihood();
                }
                labelScore[j] = Verbalizer.combine(words);
            }
            double max = Double.NEGATIVE_INFINITY;
            for (double s : labelScore) {
                max = Math.max(max, s);
            }
            double sum = 0;
            for (double s : labelScore) {
                sum += Math.exp(s - max);
            }
            Map<String, Label> byName = new LinkedHashMap<>();
            int best = 0;
            for (int j = 0; j < labels.size(); j++) {
                byName.put(labels.get(j), new Label(labels.get(j), Math.exp(labelScore[j] - max) / sum));
                best = labelScore[j] > labelScore[best] ? j : best;
            }
            out.add(new Prediction<>(byName.get(labels.get(best)), byName, e.size(), e, true));
        }
        return out;
    }

    /** Predicts one plain text. */
    public Prediction<Label> predictTexts(String text) {
        return innerPredict(TextDatasets.unlabelled(List.of(text))).get(0);
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
    protected PromptClassifierModel copy(String newName, ModelProvenance newProvenance) {
        PromptClassifierModel copy = new PromptClassifierModel(newProvenance, scorer, template, verbalizer, format, demos);
        copy.setName(newName);
        return copy;
    }

    @Override
    public String toString() {
        return "PromptClassifierModel(" + verbalizer + ", " + demos.size() + " shots)";
    }
}
