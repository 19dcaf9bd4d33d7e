package dev.attune.finetune.peft.lora;

import dev.attune.core.config.GptConfig;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.finetune.peft.Adapter;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.AdapterTensors;
import dev.attune.finetune.peft.Target;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A LoRA adapter on a GPT-2: one {@link LoraLayer} per targeted projection, all weights in one flat buffer under
 * PEFT's key names ({@code base_model.model.transformer.h.0.attn.c_attn.lora_A.weight [r, in]},
 * {@code ...lora_B.weight [out, r]}). PEFT's tuners/lora/model.py, for Attune.
 */
public final class Lora implements Adapter {

    static final String PREFIX = "base_model.model.";

    private final LoraConfig config;
    private final GptConfig model;
    private final List<Target> targets;
    private final AdapterTensors tensors;
    private final List<LoraLayer> layers = new ArrayList<>();

    private Lora(LoraConfig config, GptConfig model, DataType dataType) {
        if (config.bias() == LoraConfig.Bias.ALL) {
            throw new IllegalArgumentException("LoRA bias \"all\" trains every bias of the base model, LayerNorms "
                    + "included, which Attune's adapters cannot reach; use bias none or lora_only");
        }
        this.config = config;
        this.model = model;
        this.targets = config.targets(model);
        AdapterTensors.Builder b = AdapterTensors.builder().dataType(dataType);
        for (Target t : targets) {
            String p = PREFIX + t.modulePath();
            b.add(p + ".lora_A.weight", config.rank(), t.projection().inputSize(model));
            b.add(p + ".lora_B.weight", t.projection().outputSize(model), config.rank());
            if (trainsBias()) {
                b.add(p + ".bias_delta", t.projection().outputSize(model));
            }
        }
        this.tensors = b.build();
        for (int i = 0; i < targets.size(); i++) {
            String p = PREFIX + targets.get(i).modulePath();
            layers.add(new LoraLayer(tensors.parameter(p + ".lora_A.weight"), tensors.parameter(p + ".lora_B.weight"),
                    trainsBias() ? tensors.parameter(p + ".bias_delta") : null,
                    tensors.gradient(p + ".lora_A.weight"), tensors.gradient(p + ".lora_B.weight"),
                    trainsBias() ? tensors.gradient(p + ".bias_delta") : null,
                    config.scaling(), config.dropout(), 0x10_0000L + i));
        }
    }

    /**
     * A new adapter initialised as PEFT does: A kaiming-uniform with a = sqrt(5) (uniform in +-1/sqrt(in)), B zero,
     * so the adapted model computes exactly what the base does until it trains.
     */
    static Lora create(LoraConfig config, GptConfig model, long seed, DataType dataType) {
        Lora lora = new Lora(config, model, dataType);
        for (int i = 0; i < lora.targets.size(); i++) {
            INDArray a = lora.layers.get(i).a;
            double bound = 1.0 / Math.sqrt(a.size(1));
            SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i);
            double[] v = new double[(int) a.length()];
            for (int k = 0; k < v.length; k++) {
                v[k] = (rng.nextDouble() * 2 - 1) * bound;
            }
            a.assign(Nd4j.createFromArray(v).reshape(a.shape()).castTo(dataType));
        }
        return lora;
    }

    private boolean trainsBias() {
        return config.bias() == LoraConfig.Bias.LORA_ONLY;
    }

    @Override
    public LoraConfig config() {
        return config;
    }

    @Override
    public AdapterTensors tensors() {
        return tensors;
    }

    /** The adapted projections, in layer order. */
    public List<Target> targets() {
        return targets;
    }

    @Override
    public void attach(GptModel base) {
        checkShape(base);
        Target.wrapAll(base, targets, layers);
    }

    @Override
    public void detach(GptModel base) {
        Target.unwrapAll(base, targets);
    }

    private void checkShape(GptModel base) {
        Adapter.requireShape("this LoRA adapter was", model, base);
    }

    @Override
    public Map<String, INDArray> stateDict(GptModel base) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Target t : targets) {
            String p = PREFIX + t.modulePath();
            out.put(p + ".lora_A.weight", tensors.parameter(p + ".lora_A.weight"));
            out.put(p + ".lora_B.weight", tensors.parameter(p + ".lora_B.weight"));
            if (trainsBias()) {
                // PEFT trains and saves the base layer's bias itself
                INDArray baseBias = base.parameter(t.biasName()).castTo(tensors.parameters().dataType());
                out.put(p + ".base_layer.bias", baseBias.add(tensors.parameter(p + ".bias_delta")));
            }
        }
        return out;
    }

    /** File key -> shape, for this config on this model. */
    Map<String, long[]> expectedShapes() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (Target t : targets) {
            String p = PREFIX + t.modulePath();
            shapes.put(p + ".lora_A.weight", new long[] {config.rank(), t.projection().inputSize(model)});
            shapes.put(p + ".lora_B.weight", new long[] {t.projection().outputSize(model), config.rank()});
            if (trainsBias()) {
                shapes.put(p + ".base_layer.bias", new long[] {t.projection().outputSize(model)});
            }
        }
        return shapes;
    }

    @Override
    public void load(SafeTensors file, GptModel base) throws IOException {
        checkShape(base);
        AdapterFiles.checkTensors(file, expectedShapes());
        for (Target t : targets) {
            String p = PREFIX + t.modulePath();
            file.readInto(p + ".lora_A.weight", tensors.parameter(p + ".lora_A.weight"));
            file.readInto(p + ".lora_B.weight", tensors.parameter(p + ".lora_B.weight"));
            if (trainsBias()) {
                INDArray delta = tensors.parameter(p + ".bias_delta");
                file.readInto(p + ".base_layer.bias", delta);
                delta.subi(base.parameter(t.biasName()).castTo(delta.dataType()));
            }
        }
    }

    @Override
    public boolean mergeable() {
        return true;
    }

    @Override
    public List<String> mergedWeights() {
        List<String> names = new ArrayList<>();
        for (Target t : targets) {
            names.add(t.weightName());
            if (trainsBias()) {
                names.add(t.biasName());
            }
        }
        return names;
    }

    @Override
    public void merge(GptModel base) {
        checkShape(base);
        for (int i = 0; i < targets.size(); i++) {
            Target t = targets.get(i);
            layers.get(i).merge(base.parameter(t.weightName()), base.parameter(t.biasName()));
        }
    }

    /** The layer of one target, for tests. */
    LoraLayer layer(int index) {
        return layers.get(index);
    }

    @Override
    public String toString() {
        return "LoRA r=" + config.rank() + " on " + targets.size() + " projections, " + tensors.size() + " weights";
    }
}
