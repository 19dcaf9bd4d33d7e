package dev.attune.finetune.tribuo;

import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.data.Seeds;
import dev.attune.core.train.AdamW;
import dev.attune.core.train.LearningRateSchedule;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.Trainable;
import dev.attune.finetune.heads.TokenClassifier;
import dev.attune.finetune.peft.AdapterConfig;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.Peft;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.tribuo.Example;
import org.tribuo.Trainer;
import org.tribuo.classification.Label;
import org.tribuo.provenance.ModelProvenance;
import org.tribuo.provenance.TrainerProvenance;
import org.tribuo.provenance.impl.TrainerProvenanceImpl;
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
 *         .peft(Peft.lora().rank(8).alpha(16).build())          // or .method(Method.FULL) / .method(Method.HEAD)
 *         .learningRate(1e-3).steps(300).batchSize(8).seed(1).build();
 * LmTaggerModel model = trainer.train(train);
 * LabelSequenceEvaluation e = new LabelSequenceEvaluator().evaluate(model, TaggedDatasets.read(Path.of("test.jsonl")));
 * EntityReport entities = model.entityReport(test);
 * }</pre>
 *
 * Training runs in {@link LmTraining} (AdamW, a constant learning rate after a linear warmup of a tenth of the
 * steps, gradient clipping at 1). The configuration fields are OLCUT {@code @Config}s, so the trained model's
 * provenance records every hyper-parameter, the method and the adapter's configuration (PEFT's
 * {@code adapter_config.json} text), the base checkpoint's path and SHA-256, and the dataset's provenance.
 */
public final class LmTaggerTrainer implements SequenceTrainer<Label> {

    /** What trains beside the head. */
    public enum Method {
        /** Every weight of the base model. */
        FULL,
        /** Only the head, on the unchanged base (a linear probe); the saved tagger refers to the base. */
        HEAD,
        /** A parameter-efficient adapter (any {@link Peft} method) with the base frozen. */
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
    @Config(description = "For method peft: the adapter's configuration, as PEFT's adapter_config.json.")
    private String adapterConfig = "";
    @Config(description = "Peak learning rate of AdamW.")
    private double learningRate = 5e-5;
    @Config(description = "AdamW weight decay.")
    private double weightDecay = 0.0;
    @Config(description = "Optimizer steps.")
    private int steps = 100;
    @Config(description = "Sentences per step.")
    private int batchSize = 8;
    @Config(description = "Dropout on the hidden states the head reads (transformers' default 0.1).")
    private double headDropout = TokenClassifier.DEFAULT_DROPOUT;
    @Config(description = "Seed of the head's and adapter's initialisation, the data order and dropout.")
    private long seed = Trainer.DEFAULT_SEED;
    @Config(description = "Show training progress on stderr.")
    private boolean progress = false;

    private transient AdapterConfig adapter;
    private int invocationCount = 0;

    /** For OLCUT's configuration system; use {@link #builder}. */
    private LmTaggerTrainer() {
    }

    public static Builder builder(Path baseModel) {
        return new Builder(baseModel);
    }

    @Override
    public void postConfig() {
        if (baseModel == null || baseModel.isBlank()) {
            throw new PropertyException("", "baseModel", "a base checkpoint directory is needed");
        }
        Method m;
        try {
            m = Method.parse(method);
        } catch (IllegalArgumentException e) {
            throw new PropertyException("", "method", e.getMessage());
        }
        if (m == Method.PEFT) {
            if (adapterConfig == null || adapterConfig.isBlank()) {
                throw new PropertyException("", "adapterConfig", "method peft needs the adapter's configuration");
            }
            adapter = parseAdapterConfig(adapterConfig);
        } else if (adapterConfig != null && !adapterConfig.isBlank()) {
            throw new PropertyException("", "adapterConfig", "an adapter configuration is given but the method is "
                    + method);
        }
        if (!(learningRate > 0) || steps <= 0 || batchSize <= 0 || weightDecay < 0) {
            throw new PropertyException("", "learningRate/steps/batchSize/weightDecay", "must be positive, got lr "
                    + learningRate + ", steps " + steps + ", batch size " + batchSize + ", weight decay " + weightDecay);
        }
        if (!(headDropout >= 0 && headDropout < 1)) {
            throw new PropertyException("", "headDropout", "must be in [0, 1), got " + headDropout);
        }
    }

    /** PEFT's reader is the one for {@code adapter_config.json} files, so the text goes through one. */
    static AdapterConfig parseAdapterConfig(String json) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("attune-adapter-config");
            Files.writeString(dir.resolve(AdapterFiles.CONFIG_FILE), json);
            return Peft.readConfig(dir);
        } catch (IOException e) {
            throw new IllegalArgumentException("not an adapter configuration: " + e.getMessage(), e);
        } finally {
            if (dir != null) {
                try {
                    Files.deleteIfExists(dir.resolve(AdapterFiles.CONFIG_FILE));
                    Files.deleteIfExists(dir);
                } catch (IOException ignored) {
                    // a temporary file left behind is harmless
                }
            }
        }
    }

    public Method method() {
        return Method.parse(method);
    }

    @Override
    public LmTaggerModel train(SequenceDataset<Label> dataset) {
        return train(dataset, Map.of());
    }

    @Override
    public synchronized LmTaggerModel train(SequenceDataset<Label> dataset, Map<String, Provenance> runProvenance) {
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
        TokenClassifier tagger = TokenClassifier.create(pretrained.model(), pretrained.tokenizer(), labels,
                headDropout, runSeed);
        Method m = method();
        Trainable trained = switch (m) {
            case FULL -> Trainable.of(pretrained.model());
            case HEAD -> null;
            case PEFT -> adapter.apply(pretrained.model(), runSeed);
        };
        String source = dataset.getProvenance().getSourceProvenance().toString();
        try {
            LmTraining.builder().trainable(tagger.trainable(trained)).data(tagger.data(sentences, tags, source))
                    .batchSize(batchSize).maxSteps(steps)
                    .optimizer(AdamW.builder().weightDecay(weightDecay).build())
                    .schedule(LearningRateSchedule.constant(learningRate).withWarmup(Math.max(1, steps / 10)))
                    .clipGradNorm(1.0).seed(runSeed).progress(progress).build().run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }

        Map<String, Provenance> instance = new HashMap<>(runProvenance);
        instance.put(LmClassifierModel.BASE_SHA256, new StringProvenance(LmClassifierModel.BASE_SHA256, baseHash));
        instance.put(LmClassifierModel.BASE_PATH, new StringProvenance(LmClassifierModel.BASE_PATH,
                base.toAbsolutePath().normalize().toString()));
        instance.put(LmTaggerModel.SENTENCES, new StringProvenance(LmTaggerModel.SENTENCES,
                Integer.toString(sentences.size())));
        ModelProvenance provenance = new ModelProvenance(LmTaggerModel.class.getName(), OffsetDateTime.now(),
                dataset.getProvenance(), trainerProvenance, instance);
        return new LmTaggerModel(provenance, tagger, m, m == Method.PEFT ? (dev.attune.finetune.peft.PeftModel) trained
                : null, base.toAbsolutePath().normalize(), baseHash);
    }

    @Override
    public int getInvocationCount() {
        return invocationCount;
    }

    @Override
    public TrainerProvenance getProvenance() {
        return new TrainerProvenanceImpl(this);
    }

    @Override
    public String toString() {
        return "LmTaggerTrainer(base=" + baseModel + ", method=" + method
                + (adapter == null ? "" : " " + adapter.peftType()) + ", lr=" + learningRate + ", steps=" + steps
                + ", batchSize=" + batchSize + ", seed=" + seed + ")";
    }

    /** Fluent configuration; {@link #build()} validates. */
    public static final class Builder {
        private final LmTaggerTrainer t = new LmTaggerTrainer();
        private boolean built;

        private Builder(Path baseModel) {
            t.baseModel = baseModel.toString();
        }

        /** {@link Method#FULL} or {@link Method#HEAD}; for {@link Method#PEFT} use {@link #peft}. */
        public Builder method(Method m) {
            t.method = m.name().toLowerCase(Locale.ROOT);
            t.adapterConfig = "";
            return this;
        }

        /** Trains {@code config}'s adapter (LoRA, AdaLoRA, IA3, prefix, prompt, bottleneck) and the head. */
        public Builder peft(AdapterConfig config) {
            t.method = "peft";
            t.adapterConfig = config.toJson().toString();
            return this;
        }

        public Builder learningRate(double lr) { t.learningRate = lr; return this; }
        public Builder weightDecay(double wd) { t.weightDecay = wd; return this; }
        public Builder steps(int n) { t.steps = n; return this; }
        public Builder batchSize(int n) { t.batchSize = n; return this; }
        public Builder headDropout(double p) { t.headDropout = p; return this; }
        public Builder seed(long s) { t.seed = s; return this; }
        public Builder progress(boolean show) { t.progress = show; return this; }

        public LmTaggerTrainer build() {
            if (built) {
                throw new IllegalStateException("build() was called already");
            }
            t.postConfig();
            built = true;
            return t;
        }
    }
}
