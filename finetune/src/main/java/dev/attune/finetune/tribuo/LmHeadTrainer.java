package dev.attune.finetune.tribuo;

import com.oracle.labs.mlrg.olcut.config.Config;
import com.oracle.labs.mlrg.olcut.config.Configurable;
import com.oracle.labs.mlrg.olcut.config.PropertyException;
import com.oracle.labs.mlrg.olcut.provenance.Provenance;
import com.oracle.labs.mlrg.olcut.provenance.primitives.StringProvenance;
import dev.attune.core.data.Seeds;
import dev.attune.core.train.AdamW;
import dev.attune.core.train.LearningRateSchedule;
import dev.attune.core.data.TrainingData;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.Trainable;
import dev.attune.finetune.peft.AdapterConfig;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.PeftModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.Optional;
import org.tribuo.Trainer;
import org.tribuo.provenance.DatasetProvenance;
import org.tribuo.provenance.ModelProvenance;
import org.tribuo.provenance.TrainerProvenance;
import org.tribuo.provenance.impl.TrainerProvenanceImpl;
import org.tribuo.sequence.SequenceTrainer;

/**
 * What the trainers of a language model with a task head share: their OLCUT configuration (so every trained model's
 * provenance records it), its validation, the invocation count that varies the seed between runs, and the training
 * run itself (AdamW, a constant learning rate after a linear warmup of a tenth of the steps, clipping at 1).
 */
abstract class LmHeadTrainer implements Configurable {

    @Config(mandatory = true, description = "Directory of the base checkpoint (Hugging Face layout, with tokenizer).")
    String baseModel;
    @Config(description = "What trains beside the head: full, head or peft.")
    String method = "full";
    @Config(description = "For method peft: the adapter's configuration, as PEFT's adapter_config.json.")
    String adapterConfig = "";
    @Config(description = "Peak learning rate of AdamW.")
    double learningRate = 5e-5;
    @Config(description = "AdamW weight decay.")
    double weightDecay = 0.0;
    @Config(description = "Optimizer steps.")
    int steps = 100;
    @Config(description = "Training examples per step.")
    int batchSize = 8;
    @Config(description = "Seed of the head's and adapter's initialisation, the data order and dropout.")
    long seed = Trainer.DEFAULT_SEED;
    @Config(description = "Show training progress on stderr.")
    boolean progress = false;

    private int invocationCount = 0;

    @Override
    public void postConfig() {
        if (baseModel == null || baseModel.isBlank()) {
            throw new PropertyException("", "baseModel", "a base checkpoint directory is needed");
        }
        TuningMethod m;
        try {
            m = TuningMethod.parse(method);
        } catch (IllegalArgumentException e) {
            throw new PropertyException("", "method", e.getMessage());
        }
        boolean hasAdapter = adapterConfig != null && !adapterConfig.isBlank();
        if (m == TuningMethod.PEFT && !hasAdapter) {
            throw new PropertyException("", "adapterConfig", "method peft needs the adapter's configuration");
        } else if (m == TuningMethod.PEFT) {
            try {
                AdapterFiles.configFromJson(adapterConfig);
            } catch (IllegalArgumentException e) {
                throw new PropertyException("", "adapterConfig", e.getMessage());
            }
        } else if (hasAdapter) {
            throw new PropertyException("", "adapterConfig", "an adapter configuration is only used with method peft,"
                    + " not " + method);
        }
        if (!(learningRate > 0) || steps <= 0 || batchSize <= 0 || !(weightDecay >= 0)) {
            throw new PropertyException("", "learningRate/steps/batchSize/weightDecay", "must be positive, got lr "
                    + learningRate + ", steps " + steps + ", batch size " + batchSize + ", weight decay " + weightDecay);
        }
    }

    public TuningMethod method() {
        return TuningMethod.parse(method);
    }

    /** The adapter trained with method peft, else empty. */
    public Optional<AdapterConfig> adapterConfig() {
        return method() == TuningMethod.PEFT ? Optional.of(AdapterFiles.configFromJson(adapterConfig))
                : Optional.empty();
    }

    public int getInvocationCount() {
        return invocationCount;
    }

    public synchronized void setInvocationCount(int count) {
        if (count < 0) {
            throw new IllegalArgumentException("invocation count must be non-negative, got " + count);
        }
        invocationCount = count;
    }

    public TrainerProvenance getProvenance() {
        return this instanceof Trainer<?> t ? new TrainerProvenanceImpl(t)
                : new TrainerProvenanceImpl((SequenceTrainer<?>) this);
    }

    /** The start of one training run: its seed and the trainer's provenance, taken before the count moves on. */
    record Run(long seed, TrainerProvenance provenance) {
    }

    synchronized Run startRun() {
        Run run = new Run(Seeds.of(seed, invocationCount), getProvenance());
        invocationCount++;
        return run;
    }

    /** What trains beside the head: every weight, nothing (head only), or a fresh adapter on the frozen base. */
    Trainable trainedPart(BaseCheckpoint base, long runSeed) {
        return switch (method()) {
            case FULL -> Trainable.of(base.pretrained().model());
            case HEAD -> null;
            case PEFT -> adapterConfig().orElseThrow().apply(base.pretrained().model(), runSeed);
        };
    }

    /** Trains {@code trainable} (head and trained part together) on {@code data}. */
    void fit(Trainable trainable, TrainingData data, long runSeed) {
        try {
            LmTraining.builder().trainable(trainable).data(data).batchSize(batchSize).maxSteps(steps)
                    .optimizer(AdamW.builder().weightDecay(weightDecay).build())
                    .schedule(LearningRateSchedule.constant(learningRate).withWarmup(Math.max(1, steps / 10)))
                    .clipGradNorm(1.0).seed(runSeed).progress(progress).build().run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The trained model's provenance: the base checkpoint's identity and how many examples it saw beside the run's. */
    static ModelProvenance modelProvenance(Class<?> modelClass, DatasetProvenance data, Run run, BaseCheckpoint base,
            Map<String, Provenance> runProvenance, String countKey, int count) {
        Map<String, Provenance> instance = base.instanceProvenance(runProvenance);
        instance.put(countKey, new StringProvenance(countKey, Integer.toString(count)));
        return new ModelProvenance(modelClass.getName(), OffsetDateTime.now(), data, run.provenance(), instance);
    }

    /** The adapter of a PEFT run, else null. */
    static PeftModel adapterOf(Trainable trainedPart) {
        return trainedPart instanceof PeftModel peft ? peft : null;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "(base=" + baseModel + ", method=" + method
                + adapterConfig().map(a -> " " + a.peftType()).orElse("") + ", lr=" + learningRate + ", steps=" + steps
                + ", batchSize=" + batchSize + ", seed=" + seed + ")";
    }

    /** The fluent configuration both trainers share; {@link #build()} validates. */
    abstract static class Settings<B extends Settings<B, T>, T extends LmHeadTrainer> {
        final T t;
        private boolean built;

        Settings(T trainer, java.nio.file.Path baseModel) {
            this.t = trainer;
            trainer.baseModel = baseModel.toString();
        }

        @SuppressWarnings("unchecked")
        private B self() {
            return (B) this;
        }

        /**
         * {@link TuningMethod#FULL} or {@link TuningMethod#HEAD}; for an adapter use {@link #peft} (with both, build
         * refuses the mix).
         */
        public B method(TuningMethod m) {
            if (m == TuningMethod.PEFT) {
                throw new IllegalArgumentException("method PEFT needs the adapter: call peft(config) instead");
            }
            t.method = m.id();
            return self();
        }

        /** Trains {@code config}'s adapter (LoRA, AdaLoRA, IA3, prefix, prompt, bottleneck) beside the head. */
        public B peft(AdapterConfig config) {
            t.method = TuningMethod.PEFT.id();
            t.adapterConfig = config.toJson().toString();
            return self();
        }

        public B learningRate(double lr) { t.learningRate = lr; return self(); }
        public B weightDecay(double wd) { t.weightDecay = wd; return self(); }
        public B steps(int n) { t.steps = n; return self(); }
        public B batchSize(int n) { t.batchSize = n; return self(); }
        public B seed(long s) { t.seed = s; return self(); }
        public B progress(boolean show) { t.progress = show; return self(); }

        /** The configured trainer; throws OLCUT's PropertyException naming a setting that is out of range. */
        public T build() {
            if (built) {
                throw new IllegalStateException("build() was called already");
            }
            t.postConfig();
            built = true;
            return t;
        }
    }
}
