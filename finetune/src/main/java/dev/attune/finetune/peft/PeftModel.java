package dev.attune.finetune.peft;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.train.Trainable;
import dev.attune.core.train.TrainableTensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A frozen base model with one or more named adapters, one of them active. It is the {@link Trainable} that
 * {@code LmTraining} trains: the parameters are the active adapter's flat buffer only, so the optimizer holds state
 * for nothing else and the base weights stay bit-identical.
 *
 * <pre>{@code
 * PeftModel peft = Peft.lora().rank(8).alpha(16).targets("c_attn").build().apply(model);
 * peft.trainableParameters();            // 294,912 of 124,734,720 (0.236%) for GPT-2 small
 * LmTraining.builder().trainable(peft)...run();
 * peft.save(dir);                        // adapter_config.json + adapter_model.safetensors, PEFT's layout
 * Generator.of(peft.model(), tokenizer); // the base with the active adapter in every forward path
 * }</pre>
 *
 * Not thread-safe, like the model it wraps.
 */
public final class PeftModel implements Trainable {

    /** The name an adapter gets when none is given (as in PEFT). */
    public static final String DEFAULT_ADAPTER = "default";

    /**
     * Trainable scalars against all scalars (base plus adapter), as PEFT's {@code print_trainable_parameters}.
     *
     * @param trainable the active adapter's scalars
     * @param total     base weights (the tied head counted once) plus those the active adapter adds (base biases it
     *                  trains are base weights, counted once, as PEFT does)
     */
    public record ParameterCount(long trainable, long total) {
        /**
         * The count for {@code config} on a model of shape {@code base}, without allocating the model (the
         * adapter's own buffers are allocated once to count them).
         */
        public static ParameterCount of(dev.attune.core.config.GptConfig base, AdapterConfig config) {
            Adapter adapter = config.create(base, 0);
            long trainable = adapter.tensors().size();
            long weights = 0;
            for (long[] shape : GptModel.parameterShapes(base).values()) {
                long n = 1;
                for (long d : shape) {
                    n *= d;
                }
                weights += n;
            }
            return new ParameterCount(trainable, weights + trainable - adapter.baseParametersTrained());
        }

        /** {@code 100 * trainable / total}. */
        public double percent() {
            return total == 0 ? 0 : 100.0 * trainable / total;
        }

        @Override
        public String toString() {
            return String.format("trainable params: %,d || all params: %,d || trainable%%: %.4f", trainable, total,
                    percent());
        }
    }

    private final GptModel base;
    private final Map<String, Adapter> adapters = new LinkedHashMap<>();
    /** Task heads read with adapters (PEFT's modules_to_save), by adapter name. */
    private final Map<String, ModulesToSave> savedModules = new LinkedHashMap<>();
    private String active;
    private boolean enabled = true;
    /** Base tensors as they were before {@link #merge()}, for an exact {@link #unmerge()}; null when not merged. */
    private Map<String, INDArray> beforeMerge;
    private long stepsStarted;
    private double lastRegularisation;

    private PeftModel(GptModel base) {
        this.base = base;
    }

    static PeftModel wrap(GptModel base, String name, AdapterConfig config, long seed) {
        if (!base.adapters().isEmpty()) {
            throw new IllegalStateException("the model already has adapters attached; wrap a model once and add "
                    + "further adapters with addAdapter");
        }
        PeftModel peft = new PeftModel(base);
        base.freeze();
        peft.addAdapter(name, config, seed);
        peft.setActiveAdapter(name);
        return peft;
    }

    /**
     * Loads the adapter in {@code directory} (PEFT's layout) onto {@code base}, named {@code default}; a task head
     * saved with it is then in {@link #modulesToSave()}.
     */
    public static PeftModel load(GptModel base, Path directory) throws IOException {
        AdapterConfig config = AdapterFiles.readConfig(directory);
        Map<String, INDArray> baseModules = AdapterFiles.readBaseModules(directory, base);
        PeftModel peft = wrap(base, DEFAULT_ADAPTER, config, 0);
        peft.readWeights(DEFAULT_ADAPTER, peft.adapters.get(DEFAULT_ADAPTER), directory);
        // base modules trained with the adapter (AdapterWithBaseModules) replace the base's own: the model then
        // computes what it computed in training, and disabling the adapter no longer gives the original base
        baseModules.forEach((name, tensor) -> base.parameter(name).assign(tensor));
        return peft;
    }

    /** The base model, with the active adapter in its forward paths (unless disabled or merged). */
    public GptModel model() {
        return base;
    }

    /** Adds a freshly initialised adapter; the active one stays active. */
    public PeftModel addAdapter(String name, AdapterConfig config, long seed) {
        checkNewName(name);
        adapters.put(name, config.create(base, seed));
        return this;
    }

    /** Adds the adapter saved in {@code directory}; the active one stays active. */
    public PeftModel loadAdapter(String name, Path directory) throws IOException {
        checkNewName(name);
        refuseBaseModules(directory);
        Adapter adapter = AdapterFiles.readConfig(directory).create(base, 0);
        readWeights(name, adapter, directory);
        adapters.put(name, adapter);
        return this;
    }

    private void checkNewName(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("an adapter needs a name");
        }
        if (adapters.containsKey(name)) {
            throw new IllegalArgumentException("an adapter named '" + name + "' exists already");
        }
    }

    /**
     * An adapter saved with base modules changes the base model itself: only {@link #load(GptModel, Path)} (which
     * puts them into the base) and {@link AdapterWithBaseModules#load(Path)} read one.
     */
    private void refuseBaseModules(Path directory) throws IOException {
        Map<String, INDArray> modules = AdapterFiles.readBaseModules(directory, base);
        if (!modules.isEmpty()) {
            throw new dev.attune.core.io.ModelFileException(directory, "the adapter was trained with base modules "
                    + "(modules_to_save " + modules.keySet() + "), which replace the base model's own; load it with "
                    + "PeftModel.load(base, directory) onto a fresh base");
        }
    }

    private void readWeights(String name, Adapter adapter, Path directory) throws IOException {
        java.util.Optional<ModulesToSave> modules = AdapterFiles.readModulesToSave(directory);
        try (SafeTensors file = AdapterFiles.openWeights(directory)) {
            adapter.load(file, base);
        }
        savedModules.remove(name);
        modules.ifPresent(m -> savedModules.put(name, m));
    }

    /**
     * The task head read with the active adapter (PEFT's {@code modules_to_save}: a sequence classifier's
     * {@code score.weight}, ...), or empty when it came without one. The head's owner takes its tensors from here.
     */
    public java.util.Optional<ModulesToSave> modulesToSave() {
        return java.util.Optional.ofNullable(savedModules.get(active));
    }

    /** Makes {@code name} the adapter that runs and trains. */
    public void setActiveAdapter(String name) {
        Adapter next = adapter(name);
        requireUnmerged("switch adapters");
        if (active != null && enabled) {
            adapters.get(active).detach(base);
        }
        active = name;
        if (enabled) {
            next.attach(base);
        }
    }

    public String activeAdapter() {
        return active;
    }

    public Set<String> adapterNames() {
        return java.util.Collections.unmodifiableSet(adapters.keySet());
    }

    /** The named adapter. */
    public Adapter adapter(String name) {
        Adapter a = adapters.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no adapter named '" + name + "'; this model has " + adapters.keySet());
        }
        return a;
    }

    /** Runs the base model alone until {@link #enableAdapters()}. */
    public void disableAdapters() {
        requireUnmerged("disable adapters");
        if (enabled) {
            adapters.get(active).detach(base);
            enabled = false;
        }
    }

    public void enableAdapters() {
        if (!enabled) {
            adapters.get(active).attach(base);
            enabled = true;
        }
    }

    public boolean adaptersEnabled() {
        return enabled;
    }

    /** The active adapter's scalars against all scalars. */
    public ParameterCount trainableParameters() {
        Adapter a = adapters.get(active);
        long trainable = a.tensors().size();
        return new ParameterCount(trainable, base.parameterCount() + trainable - a.baseParametersTrained());
    }

    // -------------------------------------------------------------------------------------------- merging

    /**
     * Folds the active adapter into the base weights (for LoRA {@code W += scaling * (B A)^T}), so inference runs at
     * the base model's speed. The touched base tensors are kept aside, so {@link #unmerge()} restores them exactly.
     */
    public void merge() {
        Adapter a = adapters.get(active);
        if (!a.mergeable()) {
            throw new UnsupportedOperationException(a.config().peftType() + " adapters cannot be merged");
        }
        requireUnmerged("merge again");
        if (!enabled) {
            throw new IllegalStateException("adapters are disabled; enable them before merging");
        }
        Map<String, INDArray> kept = new LinkedHashMap<>();
        for (String name : a.mergedWeights()) {
            kept.put(name, base.parameter(name).dup());
        }
        a.detach(base);
        a.merge(base);
        beforeMerge = kept;
    }

    /** Restores the base weights {@link #merge()} changed and puts the adapter back in the forward path. */
    public void unmerge() {
        if (beforeMerge == null) {
            throw new IllegalStateException("nothing is merged");
        }
        beforeMerge.forEach((name, original) -> base.parameter(name).assign(original));
        beforeMerge = null;
        adapters.get(active).attach(base);
    }

    public boolean merged() {
        return beforeMerge != null;
    }

    private void requireUnmerged(String action) {
        if (beforeMerge != null) {
            throw new IllegalStateException("the adapter is merged into the weights; unmerge before you " + action);
        }
    }

    /**
     * Writes the base model with the active adapter merged in as a plain Hugging Face checkpoint (what PEFT's
     * {@code merge_and_unload().save_pretrained} gives); this model is left as it was.
     */
    public void saveMerged(Path directory) throws IOException {
        boolean wasMerged = merged();
        if (!wasMerged) {
            merge();
        }
        try {
            HfCheckpoint.save(base, directory);
        } finally {
            if (!wasMerged) {
                unmerge();
            }
        }
    }

    // ------------------------------------------------------------------------------------------ Trainable

    private Adapter trained() {
        requireUnmerged("train");
        if (!enabled) {
            throw new IllegalStateException("adapters are disabled: there is nothing to train");
        }
        return adapters.get(active);
    }

    @Override
    public List<TrainableTensor> tensors() {
        return adapters.get(active).tensors().tensors();
    }

    @Override
    public INDArray parameters() {
        return adapters.get(active).tensors().parameters();
    }

    @Override
    public INDArray gradients() {
        return adapters.get(active).tensors().gradients();
    }

    /**
     * The summed cross-entropy, as for a full model; the gradients also hold the method's regulariser (AdaLoRA's
     * orthogonality term), whose value {@link #lastRegularisation()} reports.
     */
    @Override
    public double forwardBackward(TokenBatch batch, double lossDivisor, boolean accumulate, long dropoutSeed) {
        Adapter a = trained();
        if (!accumulate) {
            a.onStepStart(stepsStarted++);
        }
        double loss = base.forwardBackward(batch, lossDivisor, accumulate, dropoutSeed);
        a.afterBackward(accumulate);
        double reg = a.regularise(batch.validTargets() / lossDivisor);
        lastRegularisation = accumulate ? lastRegularisation + reg : reg;
        return loss;
    }

    /** The regulariser's contribution to the last step's objective (0 for methods without one). */
    public double lastRegularisation() {
        return lastRegularisation;
    }

    @Override
    public double loss(TokenBatch batch) {
        return base.loss(batch);
    }

    /** Tokens a training row may hold: the base's context, less the positions a prefix or soft prompt takes. */
    @Override
    public int contextLength() {
        return base.config().contextLength() - base.adapters().virtualPositions();
    }

    /** Writes the active adapter as PEFT does: {@code adapter_config.json} and {@code adapter_model.safetensors}. */
    @Override
    public void save(Path directory) throws IOException {
        AdapterFiles.write(directory, adapters.get(active), base);
    }

    /**
     * Writes the active adapter and a task head with it, as PEFT's {@code save_pretrained} does for a task model
     * with {@code modules_to_save}: the head's tensors beside the adapter's in {@code adapter_model.safetensors}
     * ({@code base_model.model.score.weight}), {@code modules_to_save} and the head's {@code task_type} in
     * {@code adapter_config.json}. PEFT loads it onto the matching task model ({@code GPT2ForSequenceClassification}
     * for {@code SEQ_CLS}).
     */
    public void save(Path directory, ModulesToSave modules) throws IOException {
        AdapterFiles.write(directory, adapters.get(active), base, java.util.Objects.requireNonNull(modules, "modules"));
    }

    /**
     * Reads the active adapter's weights back from a directory {@link #save(Path)} (or
     * {@link #save(Path, ModulesToSave)}) wrote; the saved config must equal the active one (its task type aside).
     */
    @Override
    public void load(Path directory) throws IOException {
        AdapterConfig saved = AdapterFiles.readConfig(directory);
        Adapter a = adapters.get(active);
        if (!withoutTaskType(saved).equals(withoutTaskType(a.config()))) {
            throw new IOException(directory + " holds a " + saved.peftType() + " adapter configured as " + saved
                    + ", but the active adapter is " + a.config());
        }
        refuseBaseModules(directory);
        readWeights(active, a, directory);
    }

    /** A config's JSON without {@code task_type}, which a saved task head sets (SEQ_CLS) and the method ignores. */
    private static com.fasterxml.jackson.databind.JsonNode withoutTaskType(AdapterConfig config) {
        com.fasterxml.jackson.databind.node.ObjectNode json = config.toJson();
        json.remove("task_type");
        return json;
    }

    @Override
    public String toString() {
        return "PeftModel[" + adapters.keySet() + ", active " + active + (enabled ? "" : " (disabled)")
                + (merged() ? " (merged)" : "") + ", " + trainableParameters() + "]";
    }
}
