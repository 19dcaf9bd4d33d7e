package dev.attune.finetune.tribuo;

import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import dev.attune.core.data.Seeds;
import dev.attune.prompting.scoring.LoglikelihoodScorer;
import dev.attune.prompting.template.FewShotFormat;
import dev.attune.prompting.template.PromptTemplate;
import dev.attune.prompting.verbalizer.Verbalizer;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.tribuo.Dataset;
import org.tribuo.Example;
import org.tribuo.Trainer;
import org.tribuo.classification.Label;
import org.tribuo.provenance.ModelProvenance;
import org.tribuo.provenance.TrainerProvenance;
import org.tribuo.provenance.impl.TrainerProvenanceImpl;

/**
 * Zero- and few-shot classification without training, as a Tribuo {@link Trainer}: "training" only checks the
 * labels against the verbalizer and, for few-shot, draws {@code shots} solved examples from the dataset (seeded).
 * The model scores each label by the log-likelihood of its verbalizer words after the prompt:
 *
 * <pre>{@code
 * PromptClassifierModel zeroShot = PromptClassifierTrainer.builder(Path.of("gpt2"),
 *         "Review: {text}\nSentiment:", Map.of("pos", List.of("positive"), "neg", List.of("negative")))
 *         .shots(0).build().train(dataset);
 * }</pre>
 *
 * The template has one variable, {@code {text}}; demonstrations and the query are joined in lm-evaluation-harness's
 * few-shot format ({@link FewShotFormat#LM_EVAL}: target after a space, examples separated by a blank line).
 */
public final class PromptClassifierTrainer implements Trainer<Label> {

    @Config(mandatory = true, description = "Directory of the base checkpoint (Hugging Face layout, with tokenizer).")
    private String baseModel;
    @Config(mandatory = true, description = "Prompt template with one variable, {text}.")
    private String template;
    @Config(mandatory = true, description = "Verbalizer entries label=word1|word2, in label order.")
    private List<String> verbalizer;
    @Config(description = "Solved examples put before each query (0: zero-shot).")
    private int shots = 0;
    @Config(description = "Seed of the choice of demonstrations.")
    private long seed = Trainer.DEFAULT_SEED;
    @Config(description = "Rows per scoring batch.")
    private int batchSize = 16;

    private int invocationCount = 0;

    private PromptClassifierTrainer() {
    }

    /** A trainer for {@code template} (with {@code {text}}) and label words, in label order. */
    public static Builder builder(Path baseModel, String template, Map<String, List<String>> labelWords) {
        return new Builder(baseModel, template, labelWords);
    }

    @Override
    public void postConfig() {
        PromptTemplate t = PromptTemplate.of(template);
        if (!t.variables().equals(java.util.Set.of("text"))) {
            throw new PropertyException("", "template", "the template must use exactly one variable, {text}; it has "
                    + t.variables());
        }
        verbalizer();
        if (shots < 0 || batchSize <= 0) {
            throw new PropertyException("", "shots/batchSize", "shots must be >= 0 and batch size > 0, got " + shots
                    + " and " + batchSize);
        }
    }

    private Verbalizer verbalizer() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (String entry : verbalizer) {
            int eq = entry.indexOf('=');
            if (eq <= 0) {
                throw new PropertyException("", "verbalizer", "expected label=word1|word2, got '" + entry + "'");
            }
            m.put(entry.substring(0, eq), Arrays.asList(entry.substring(eq + 1).split("\\|")));
        }
        return Verbalizer.of(m);
    }

    @Override
    public PromptClassifierModel train(Dataset<Label> dataset) {
        return train(dataset, Map.of());
    }

    @Override
    public PromptClassifierModel train(Dataset<Label> dataset, Map<String, Provenance> runProvenance) {
        return train(dataset, runProvenance, INCREMENT_INVOCATION_COUNT);
    }

    @Override
    public synchronized PromptClassifierModel train(Dataset<Label> dataset, Map<String, Provenance> runProvenance,
            int invocation) {
        if (invocation != INCREMENT_INVOCATION_COUNT) {
            setInvocationCount(invocation);
        }
        SplittableRandom random = new SplittableRandom(Seeds.of(seed, invocationCount));
        TrainerProvenance trainerProvenance = getProvenance();
        invocationCount++;
        Verbalizer v = verbalizer();
        List<Example<Label>> examples = new ArrayList<>();
        dataset.forEach(examples::add);
        for (int i = 0; i < examples.size(); i++) {
            String label = examples.get(i).getOutput().getLabel();
            if (v.indexOf(label) < 0) {
                throw new IllegalArgumentException("example " + (i + 1) + " has the label '" + label
                        + "', which the verbalizer lacks; it has " + v.labels());
            }
        }
        if (shots > examples.size()) {
            throw new IllegalArgumentException(shots + " shots asked for, but the dataset has only " + examples.size()
                    + " examples");
        }
        PromptTemplate t = PromptTemplate.of(template);
        List<FewShotFormat.Demo> demos = new ArrayList<>();
        int[] order = random.ints(0, Integer.MAX_VALUE).limit(examples.size()).toArray();
        Integer[] index = new Integer[examples.size()];
        Arrays.setAll(index, i -> i);
        Arrays.sort(index, (a, b) -> Integer.compare(order[a], order[b]));
        for (int k = 0; k < shots; k++) {
            Example<Label> e = examples.get(index[k]);
            demos.add(new FewShotFormat.Demo(t.render("text", TextDatasets.text(e)), v.target(e.getOutput().getLabel())));
        }

        BaseCheckpoint base = BaseCheckpoint.load(baseModel);
        LoglikelihoodScorer scorer = LoglikelihoodScorer.builder(base.pretrained().model(),
                base.pretrained().tokenizer()).batchSize(batchSize).build();
        ModelProvenance provenance = new ModelProvenance(PromptClassifierModel.class.getName(), OffsetDateTime.now(),
                dataset.getProvenance(), trainerProvenance, base.instanceProvenance(runProvenance));
        return new PromptClassifierModel(provenance, scorer, t, v, FewShotFormat.LM_EVAL, demos);
    }

    @Override
    public int getInvocationCount() {
        return invocationCount;
    }

    @Override
    public synchronized void setInvocationCount(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("invocation count must be non-negative, got " + count);
        }
        invocationCount = count;
    }

    @Override
    public TrainerProvenance getProvenance() {
        return new TrainerProvenanceImpl(this);
    }

    @Override
    public String toString() {
        return "PromptClassifierTrainer(base=" + baseModel + ", template=" + template + ", verbalizer=" + verbalizer
                + ", shots=" + shots + ")";
    }

    /** Fluent configuration; {@link #build()} validates. */
    public static final class Builder {
        private final PromptClassifierTrainer t = new PromptClassifierTrainer();

        private Builder(Path baseModel, String template, Map<String, List<String>> labelWords) {
            t.baseModel = baseModel.toString();
            t.template = template;
            t.verbalizer = new ArrayList<>();
            labelWords.forEach((label, words) -> t.verbalizer.add(label + "=" + String.join("|", words)));
        }

        public Builder shots(int k) { t.shots = k; return this; }
        public Builder seed(long s) { t.seed = s; return this; }
        public Builder batchSize(int n) { t.batchSize = n; return this; }

        public PromptClassifierTrainer build() {
            t.postConfig();
            return t;
        }
    }
}
