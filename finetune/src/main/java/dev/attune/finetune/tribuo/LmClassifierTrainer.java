package dev.attune.finetune.tribuo;

import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import dev.attune.core.train.Trainable;
import dev.attune.finetune.heads.SequenceClassifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.tribuo.Dataset;
import org.tribuo.Example;
import org.tribuo.Trainer;
import org.tribuo.classification.Label;

/**
 * A Tribuo {@link Trainer} that fine-tunes a language model checkpoint with a sequence-classification head on a
 * {@code Dataset<Label>} whose examples carry their text in metadata (see {@link TextDatasets}):
 *
 * <pre>{@code
 * MutableDataset<Label> train = TextDatasets.read(Path.of("train.jsonl"));
 * LmClassifierTrainer trainer = LmClassifierTrainer.builder(Path.of("gpt2"))
 *         .method(TuningMethod.FULL).learningRate(5e-5).steps(300).batchSize(8).seed(1).build();
 * LmClassifierModel model = trainer.train(train);
 * LabelEvaluation e = new LabelEvaluator().evaluate(model, TextDatasets.read(Path.of("test.jsonl")));
 * }</pre>
 *
 * Training runs in {@code LmTraining} (AdamW, a constant learning rate after a linear warmup of a tenth of the
 * steps, gradient clipping at 1). Its configuration fields are OLCUT {@code @Config}s, so the trained model's
 * provenance records every hyper-parameter, the base checkpoint's path and SHA-256, and the dataset's provenance.
 */
public final class LmClassifierTrainer extends LmHeadTrainer implements Trainer<Label> {

    /** For OLCUT's configuration system; use {@link #builder}. */
    private LmClassifierTrainer() {
    }

    public static Builder builder(Path baseModel) {
        return new Builder(baseModel);
    }

    @Override
    public LmClassifierModel train(Dataset<Label> dataset) {
        return train(dataset, Map.of());
    }

    @Override
    public LmClassifierModel train(Dataset<Label> dataset, Map<String, Provenance> runProvenance) {
        return train(dataset, runProvenance, INCREMENT_INVOCATION_COUNT);
    }

    @Override
    public synchronized LmClassifierModel train(Dataset<Label> dataset, Map<String, Provenance> runProvenance,
            int invocation) {
        if (invocation != INCREMENT_INVOCATION_COUNT) {
            setInvocationCount(invocation);
        }
        Run run = startRun();
        BaseCheckpoint base = BaseCheckpoint.load(baseModel);
        List<String> labels = new ArrayList<>();
        dataset.getOutputIDInfo().forEach(p -> labels.add(p.getB().getLabel()));
        List<String> texts = new ArrayList<>();
        List<String> textLabels = new ArrayList<>();
        int i = 0;
        for (Example<Label> e : dataset) {
            i++;
            try {
                texts.add(TextDatasets.text(e));
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("example " + i + ": " + ex.getMessage(), ex);
            }
            textLabels.add(e.getOutput().getLabel());
        }
        SequenceClassifier classifier = SequenceClassifier.create(base.pretrained().model(),
                base.pretrained().tokenizer(), labels, run.seed());
        Trainable trained = trainedPart(base, run.seed());
        String source = dataset.getProvenance().getSourceProvenance().toString();
        fit(classifier.trainable(trained), classifier.data(texts, textLabels, source), run.seed());
        return new LmClassifierModel(modelProvenance(LmClassifierModel.class, dataset.getProvenance(), run, base,
                runProvenance, LmClassifierModel.EXAMPLES, texts.size()), classifier, method(), adapterOf(trained),
                base.path(), base.sha256());
    }

    /** Fluent configuration; {@link #build()} validates. */
    public static final class Builder extends LmHeadTrainer.Settings<Builder, LmClassifierTrainer> {
        private Builder(Path baseModel) {
            super(new LmClassifierTrainer(), baseModel);
        }
    }
}
