package dev.attune.finetune.peft;

import dev.attune.core.io.ModelFileException;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.train.Trainable;
import dev.attune.core.train.TrainableTensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A LoRA-like adapter trained together with some modules of the base model, PEFT's {@code modules_to_save} for a
 * causal language model: the token embedding {@code wte} (GPT-2's output layer too, tied) and/or the LayerNorms
 * {@code ln_1}, {@code ln_2}, {@code ln_f} ({@link BaseModules}).
 *
 * <pre>{@code
 * PeftModel peft = Peft.lora().rank(8).alpha(16).targets("c_attn", "c_proj", "c_fc").build().apply(model, seed);
 * AdapterWithBaseModules trained = AdapterWithBaseModules.of(peft, "wte");
 * LmTraining.builder().trainable(trained)...run();
 * trained.save(dir);        // adapter_config.json (modules_to_save ["wte", "lm_head"]) + adapter_model.safetensors
 * PeftModel.load(freshBase, dir);  // or, in Python, PeftModel.from_pretrained(gpt2, dir)
 * }</pre>
 *
 * <p>Why: LoRA leaves the output layer frozen. A base model whose embeddings are short (a small model pretrained
 * for minutes) cannot give any token a high logit whatever LoRA does to the hidden states; training the output layer
 * (or the final LayerNorm's gain, which scales every logit) lifts that cap.
 *
 * <p>One flat buffer {@code [adapter | module tensors]} is the master copy: it is copied into the adapter and the
 * base model before every pass and the gradients are copied back after it, as {@code HeadTrainable} does. The base
 * model is unfrozen to get the modules' gradients, so a training pass computes every base weight's gradient (the
 * others are not updated; for a model of a few million weights that is a small extra cost).
 */
public final class AdapterWithBaseModules implements Trainable {

    private final PeftModel peft;
    private final GptModel model;
    private final List<String> modules;
    private final List<String> names;
    private final long adapterLength;
    private final INDArray parameters;
    private final INDArray gradients;
    private final List<TrainableTensor> tensors;

    private AdapterWithBaseModules(PeftModel peft, List<String> modules) {
        this.peft = peft;
        this.model = peft.model();
        this.modules = List.copyOf(modules);
        this.names = BaseModules.tensorNames(model, this.modules);
        if (names.isEmpty()) {
            throw new IllegalArgumentException("the base model has no tensors in modules " + modules);
        }
        this.adapterLength = peft.parameters().length();
        long length = adapterLength;
        List<TrainableTensor> list = new ArrayList<>(peft.tensors());
        for (String name : names) {
            list.add(new TrainableTensor(name, model.parameterShape(name), length));
            length += model.parameter(name).length();
        }
        this.tensors = List.copyOf(list);
        this.parameters = Nd4j.create(DataType.FLOAT, length);
        this.gradients = Nd4j.create(DataType.FLOAT, length);
        adapterView(parameters).assign(peft.parameters());
        for (TrainableTensor t : moduleTensors()) {
            view(parameters, t).assign(model.parameter(t.name()).reshape(t.length()));
        }
        model.unfreeze();
    }

    /**
     * Trains {@code peft}'s active adapter and the base modules named ({@code "wte"}, {@code "ln_f"}, ...; each
     * selects every module whose name ends in it). The base model is unfrozen.
     */
    public static AdapterWithBaseModules of(PeftModel peft, String... modules) {
        if (modules.length == 0) {
            throw new IllegalArgumentException("name at least one base module to train with the adapter");
        }
        if (!AdapterFiles.moduleKeyPrefix(peft.adapter(peft.activeAdapter()).config().peftType())
                .equals("base_model.model.")) {
            throw new IllegalArgumentException(peft.adapter(peft.activeAdapter()).config().peftType() + " adapters "
                    + "cannot train base modules (PEFT keeps modules_to_save beside LoRA-like adapters only)");
        }
        return new AdapterWithBaseModules(peft, List.of(modules));
    }

    /** The adapter (with the base model, whose modules hold the trained values after a pass or {@link #sync()}). */
    public PeftModel peft() {
        return peft;
    }

    /** The base modules trained, as listed in {@code modules_to_save}. */
    public List<String> modules() {
        return modules;
    }

    /** Trainable scalars (adapter and modules) against the base model's plus the adapter's. */
    public PeftModel.ParameterCount trainableParameters() {
        return new PeftModel.ParameterCount(parameters.length(), model.parameterCount() + adapterLength);
    }

    /** Copies the trained values into the adapter and the base model (done before every pass). */
    public void sync() {
        peft.parameters().assign(adapterView(parameters));
        for (TrainableTensor t : moduleTensors()) {
            INDArray target = model.parameter(t.name());
            target.assign(view(parameters, t).reshape(target.shape()));
        }
    }

    private List<TrainableTensor> moduleTensors() {
        return tensors.subList(tensors.size() - names.size(), tensors.size());
    }

    private INDArray adapterView(INDArray flat) {
        return flat.get(NDArrayIndex.interval(0, adapterLength));
    }

    private static INDArray view(INDArray flat, TrainableTensor t) {
        return flat.get(NDArrayIndex.interval(t.offset(), t.end()));
    }

    @Override
    public List<TrainableTensor> tensors() {
        return tensors;
    }

    @Override
    public INDArray parameters() {
        return parameters;
    }

    @Override
    public INDArray gradients() {
        return gradients;
    }

    @Override
    public double forwardBackward(TokenBatch batch, double lossDivisor, boolean accumulate, long dropoutSeed) {
        sync();
        double loss = peft.forwardBackward(batch, lossDivisor, accumulate, dropoutSeed);
        // the model accumulates its own gradients when asked to, so copying (not adding) is right either way
        adapterView(gradients).assign(peft.gradients());
        for (TrainableTensor t : moduleTensors()) {
            view(gradients, t).assign(model.gradient(t.name()).reshape(t.length()));
        }
        return loss;
    }

    @Override
    public double loss(TokenBatch batch) {
        sync();
        return peft.loss(batch);
    }

    @Override
    public int contextLength() {
        return peft.contextLength();
    }

    /**
     * Writes {@code adapter_config.json} and {@code adapter_model.safetensors} as PEFT does for a LoRA adapter with
     * {@code modules_to_save}: the modules' tensors under {@code base_model.model.transformer.<name>}.
     */
    @Override
    public void save(Path directory) throws IOException {
        sync();
        Map<String, INDArray> values = new LinkedHashMap<>();
        for (String name : names) {
            values.put(name, model.parameter(name));
        }
        AdapterFiles.writeWithBaseModules(directory, peft.adapter(peft.activeAdapter()), model, modules, values);
    }

    /** Reads back what {@link #save(Path)} wrote: the adapter's tensors and the same modules'. */
    @Override
    public void load(Path directory) throws IOException {
        Map<String, INDArray> saved = AdapterFiles.readBaseModules(directory, model);
        if (!saved.keySet().equals(new java.util.LinkedHashSet<>(names))) {
            throw new ModelFileException(directory, "holds base modules " + saved.keySet() + ", expected " + names);
        }
        Adapter adapter = peft.adapter(peft.activeAdapter());
        try (dev.attune.core.io.SafeTensors file = AdapterFiles.openWeights(directory)) {
            adapter.load(file, model);
        }
        adapterView(parameters).assign(peft.parameters());
        for (TrainableTensor t : moduleTensors()) {
            view(parameters, t).assign(saved.get(t.name()).reshape(t.length()));
        }
        sync();
    }

    @Override
    public String toString() {
        return "AdapterWithBaseModules[" + peft.adapter(peft.activeAdapter()).config().peftType() + " + " + modules
                + ", " + trainableParameters() + "]";
    }
}
