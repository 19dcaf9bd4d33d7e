package dev.attune.finetune.tribuo;

import dev.attune.finetune.peft.AdapterConfig;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.PeftModel;
import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.data.Seeds;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.Trainable;
import dev.attune.finetune.heads.SequenceClassifier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tribuo.Dataset;
import org.tribuo.Example;
import org.tribuo.Model;
import org.tribuo.Trainer;
import org.tribuo.classification.Label;
import org.tribuo.provenance.ModelProvenance;
import org.tribuo.provenance.TrainerProvenance;
import org.tribuo.provenance.impl.TrainerProvenanceImpl;

/**
 * A Tribuo {@link Trainer} that fine-tunes a language model checkpoint with a sequence-classification head on a
 * {@code Dataset<Label>} whose examples carry their text in metadata (see {@link TextDatasets}):
 *
 * <pre>{@code
 * MutableDataset<Label> train = TextDatasets.read(Path.of("train.jsonl"));
 * LmClassifierTrainer trainer = LmClassifierTrainer.builder(Path.of("gpt2"))
 *         .method(LmClassifierTrainer.Method.FULL).learningRate(5e-5).steps(300).batchSize(8).seed(1).build();
 * LmClassifierModel model = trainer.train(train);
 * LabelEvaluation e = new LabelEvaluator().evaluate(model, TextDatasets.read(Path.of("test.jsonl")));
 * }</pre>
 *
 * Training runs in {@link LmTraining} (AdamW, a constant learning rate after a linear warmup of a tenth of the
 * steps, gradient clipping at 1). Its configuration fields are OLCUT {@code @Config}s, so the trained model's
 * provenance records every hyper-parameter, the base checkpoint's path and SHA-256, and the dataset's provenance.
 */
public final class LmClassifierTrainer implements Trainer<Label> {

    /** What trains beside the head. */
    public enum Method {
        /** Every weight of the base model. */
        FULL,
        /** Only the head, on the unchanged base (a linear probe); the saved classifier refers to the base. */
        HEAD,
        /**
         * A parameter-efficient adapter (LoRA, AdaLoRA, IA3, prefix, prompt, bottleneck: the trainer's adapter config)
         * beside the head, on the frozen base; the saved classifier holds adapter and head in PEFT's layout (the head
         * as {@code modules_to_save}) and refers to the base.
         */
        PEFT;

        static Method parse(String s) {
            try {
                return valueOf(s.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown method '" + s + "'; use one of full, head, peft");
            }
        }
    }

    @Config(mandatory = true, description = "Directory of the base checkpoint (Hugging Face layout, with tokenizer).")
    private String baseModel;
    @Config(description = "What trains beside the head: full, head or peft.")
    private String method = "full";
    @Config(description = "With method peft: the adapter's adapter_config.json (PEFT's schema), e.g. a LoRA config.")
    private String adapterConfig;
    @Config(description = "Peak learning rate of AdamW.")
    private double learningRate = 5e-5;
    @Config(description = "AdamW weight decay.")
    private double weightDecay = 0.0;
    @Config(description = "Optimizer steps.")
    private int steps = 100;
    @Config(description = "Examples per step.")
    private int batchSize = 8;
    @Config(description = "Seed of the head's initialisation, the data order and dropout.")
    private long seed = Trainer.DEFAULT_SEED;
    @Config(description = "Show training progress on stderr.")
    private boolean progress = false;

    private int invocationCount = 0;

    /** For OLCUT's configuration system; use {@link #builder}. */
    private LmClassifierTrainer() {
    }

    public static Builder builder(Path baseModel) {
        return new Builder(baseModel);
    }

    @Override
    public void postConfig() {
        if (baseModel == null || baseModel.isBlank()) {
            throw new PropertyException("", "baseModel", "a base checkpoint directory is needed");
        }
        Method m = Method.parse(method);
        if (m == Method.PEFT) {
            if (adapterConfig == null || adapterConfig.isBlank()) {
                throw new PropertyException("", "adapterConfig", "method peft needs an adapter config");
            }
            try {
                AdapterFiles.configFromJson(adapterConfig);
            } catch (IllegalArgumentException e) {
                throw new PropertyException("", "adapterConfig", e.getMessage());
            }
        } else if (adapterConfig != null) {
            throw new PropertyException("", "adapterConfig", "an adapter config is only used with method peft, not "
                    + method);
        }
        if (!(learningRate > 0) || steps <= 0 || batchSize <= 0 || weightDecay < 0) {
            throw new PropertyException("", "learningRate/steps/batchSize/weightDecay", "must be positive, got lr "
                    + learningRate + ", steps " + steps + ", batch size " + batchSize + ", weight decay " + weightDecay);
        }
    }

    public Method method() {
        return Method.parse(method);
    }

    /** The adapter trained with method peft, else empty. */
    public java.util.Optional<AdapterConfig> adapterConfig() {
        return adapterConfig == null ? java.util.Optional.empty()
                : java.util.Optional.of(AdapterFiles.configFromJson(adapterConfig));
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
        long runSeed = Seeds.of(seed, invocationCount);
        TrainerProvenance trainerProvenance = getProvenance();
        invocationCount++;

        Path base = Path.of(baseModel);
        Pretrained pretrained;
        String baseHash;
        try {
            pretrained = Pretrained.load(base);
            baseHash = Checkpoints.sha256(base);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the base checkpoint " + base + ": " + e.getMessage(), e);
        }
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
        SequenceClassifier classifier = SequenceClassifier.create(pretrained.model(), pretrained.tokenizer(), labels,
                runSeed);
        Method m = method();
        PeftModel peft = m == Method.PEFT ? adapterConfig().orElseThrow().apply(pretrained.model(), runSeed) : null;
        Trainable trainable = classifier.trainable(m == Method.FULL ? Trainable.of(pretrained.model()) : peft);
        try {
            LmTraining.builder().trainable(trainable)
                    .data(classifier.data(texts, textLabels, dataset.getProvenance().getSourceProvenance().toString()))
                    .batchSize(batchSize).maxSteps(steps)
                    .optimizer(dev.attune.core.train.AdamW.builder().weightDecay(weightDecay).build())
                    .schedule(dev.attune.core.train.LearningRateSchedule.constant(learningRate)
                            .withWarmup(Math.max(1, steps / 10)))
                    .clipGradNorm(1.0).seed(runSeed).progress(progress).build().run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }

        Map<String, Provenance> instance = new HashMap<>(runProvenance);
        instance.put(LmClassifierModel.BASE_SHA256, new StringProvenance(LmClassifierModel.BASE_SHA256, baseHash));
        instance.put(LmClassifierModel.BASE_PATH, new StringProvenance(LmClassifierModel.BASE_PATH,
                base.toAbsolutePath().normalize().toString()));
        instance.put(LmClassifierModel.EXAMPLES, new StringProvenance(LmClassifierModel.EXAMPLES,
                Integer.toString(texts.size())));
        ModelProvenance provenance = new ModelProvenance(LmClassifierModel.class.getName(), OffsetDateTime.now(),
                dataset.getProvenance(), trainerProvenance, instance);
        return new LmClassifierModel(provenance, classifier, m, peft, base.toAbsolutePath().normalize(), baseHash);
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
        return "LmClassifierTrainer(base=" + baseModel + ", method=" + method + ", lr=" + learningRate + ", steps="
                + steps + ", batchSize=" + batchSize + ", seed=" + seed + ")";
    }

    /** Fluent configuration; {@link #build()} validates. */
    public static final class Builder {
        private final LmClassifierTrainer t = new LmClassifierTrainer();
        private boolean built;

        private Builder(Path baseModel) {
            t.baseModel = baseModel.toString();
        }

        /** Full or head; {@link #peft} for an adapter. */
        public Builder method(Method m) { t.method = m.name().toLowerCase(Locale.ROOT); return this; }
        /** Trains this adapter beside the head (method peft); the base stays frozen. */
        public Builder peft(AdapterConfig config) {
            t.method = "peft";
            t.adapterConfig = config.toJson().toString();
            return this;
        }
        public Builder learningRate(double lr) { t.learningRate = lr; return this; }
        public Builder weightDecay(double wd) { t.weightDecay = wd; return this; }
        public Builder steps(int n) { t.steps = n; return this; }
        public Builder batchSize(int n) { t.batchSize = n; return this; }
        public Builder seed(long s) { t.seed = s; return this; }
        public Builder progress(boolean show) { t.progress = show; return this; }

        public LmClassifierTrainer build() {
            if (built) {
                throw new IllegalStateException("build() was called already");
            }
            t.postConfig();
            built = true;
            return t;
        }
    }
}
