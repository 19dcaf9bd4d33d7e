package dev.attune.finetune.tribuo;

import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import dev.attune.core.train.Trainable;
import dev.attune.finetune.heads.TokenClassifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tribuo.Example;
import org.tribuo.classification.Label;
import org.tribuo.sequence.SequenceDataset;
import org.tribuo.sequence.SequenceExample;
import org.tribuo.sequence.SequenceTrainer;

/**
 * A Tribuo {@link SequenceTrainer} that fine-tunes a language model checkpoint with a token-classification head
 * ({@link TokenClassifier}) on a {@code SequenceDataset<Label>} whose words carry themselves in metadata (see
 * {@link TaggedDatasets}):
 *
 * <pre>{@code
 * MutableSequenceDataset<Label> train = TaggedDatasets.read(Path.of("train.jsonl"));
 * LmTaggerTrainer trainer = LmTaggerTrainer.builder(Path.of("gpt2"))
 *         .peft(Peft.lora().rank(8).alpha(16).build())          // or .method(TuningMethod.FULL), or HEAD
 *         .learningRate(1e-3).steps(300).batchSize(8).seed(1).build();
 * LmTaggerModel model = trainer.train(train);
 * LabelSequenceEvaluation e = new LabelSequenceEvaluator().evaluate(model, TaggedDatasets.read(Path.of("test.jsonl")));
 * EntityReport entities = model.entityReport(test);
 * }</pre>
 *
 * Training runs in {@code LmTraining} (AdamW, a constant learning rate after a linear warmup of a tenth of the
 * steps, gradient clipping at 1). The configuration fields are OLCUT {@code @Config}s, so the trained model's
 * provenance records every hyper-parameter, the method and the adapter's configuration (PEFT's
 * {@code adapter_config.json} text), the base checkpoint's path and SHA-256, and the dataset's provenance.
 */
public final class LmTaggerTrainer extends LmHeadTrainer implements SequenceTrainer<Label> {

    @Config(description = "Dropout on the hidden states the head reads (transformers' default 0.1).")
    private double headDropout = TokenClassifier.DEFAULT_DROPOUT;

    /** For OLCUT's configuration system; use {@link #builder}. */
    private LmTaggerTrainer() {
    }

    public static Builder builder(Path baseModel) {
        return new Builder(baseModel);
    }

    @Override
    public void postConfig() {
        super.postConfig();
        if (!(headDropout >= 0 && headDropout < 1)) {
            throw new PropertyException("", "headDropout", "must be in [0, 1), got " + headDropout);
        }
    }

    @Override
    public LmTaggerModel train(SequenceDataset<Label> dataset) {
        return train(dataset, Map.of());
    }

    @Override
    public synchronized LmTaggerModel train(SequenceDataset<Label> dataset, Map<String, Provenance> runProvenance) {
        Run run = startRun();
        BaseCheckpoint base = BaseCheckpoint.load(baseModel);
        List<String> labels = new ArrayList<>();
        dataset.getOutputIDInfo().forEach(p -> labels.add(p.getB().getLabel()));
        List<List<String>> sentences = new ArrayList<>();
        List<List<String>> tags = new ArrayList<>();
        int i = 0;
        for (SequenceExample<Label> s : dataset) {
            i++;
            try {
                sentences.add(TaggedDatasets.words(s));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("sentence " + i + ": " + ex.getMessage(), ex);
            }
            List<String> t = new ArrayList<>();
            for (Example<Label> e : s) {
                t.add(e.getOutput().getLabel());
            }
            tags.add(t);
        }
        TokenClassifier tagger = TokenClassifier.create(base.pretrained().model(), base.pretrained().tokenizer(),
                labels, headDropout, run.seed());
        Trainable trained = trainedPart(base, run.seed());
        String source = dataset.getProvenance().getSourceProvenance().toString();
        fit(tagger.trainable(trained), tagger.data(sentences, tags, source), run.seed());
        return new LmTaggerModel(modelProvenance(LmTaggerModel.class, dataset.getProvenance(), run, base,
                runProvenance, LmTaggerModel.SENTENCES, sentences.size()), tagger, method(), adapterOf(trained),
                base.path(), base.sha256());
    }

    /** Fluent configuration; {@link #build()} validates. */
    public static final class Builder extends LmHeadTrainer.Settings<Builder, LmTaggerTrainer> {
        private Builder(Path baseModel) {
            super(new LmTaggerTrainer(), baseModel);
        }

        public Builder headDropout(double p) {
            t.headDropout = p;
            return this;
        }
    }
}
