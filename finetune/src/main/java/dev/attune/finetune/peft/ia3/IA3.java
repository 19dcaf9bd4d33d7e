package dev.attune.finetune.peft.ia3;

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
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * An IA3 adapter: one rescaling vector per target, under PEFT's keys
 * ({@code base_model.model.transformer.h.0.attn.c_attn.ia3_l [out, 1]}, feed-forward {@code ... [1, in]}),
 * initialised to ones so the model starts unchanged.
 */
public final class IA3 implements Adapter {

    private static final String PREFIX = "base_model.model.";

    private final IA3Config config;
    private final GptConfig model;
    private final List<Target> targets;
    private final AdapterTensors tensors;
    private final List<IA3Layer> layers = new ArrayList<>();

    private IA3(IA3Config config, GptConfig model, DataType dataType) {
        this.config = config;
        this.model = model;
        this.targets = config.targets(model);
        AdapterTensors.Builder b = AdapterTensors.builder().dataType(dataType);
        for (Target t : targets) {
            b.add(key(t), shape(t));
        }
        this.tensors = b.build();
        for (Target t : targets) {
            INDArray p = tensors.parameter(key(t));
            INDArray g = tensors.gradient(key(t));
            layers.add(new IA3Layer(p.reshape(p.length()), g.reshape(g.length()), config.feedforward(t)));
        }
    }

    static IA3 create(IA3Config config, GptConfig model, DataType dataType) {
        IA3 ia3 = new IA3(config, model, dataType);
        ia3.tensors.parameters().assign(1.0);
        return ia3;
    }

    private static String key(Target t) {
        return PREFIX + t.modulePath() + ".ia3_l";
    }

    private long[] shape(Target t) {
        return config.feedforward(t) ? new long[] {1, t.projection().inputSize(model)}
                : new long[] {t.projection().outputSize(model), 1};
    }

    @Override
    public IA3Config config() {
        return config;
    }

    @Override
    public AdapterTensors tensors() {
        return tensors;
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
        Adapter.requireShape("this IA3 adapter was", model, base);
    }

    @Override
    public Map<String, INDArray> stateDict(GptModel base) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (Target t : targets) {
            out.put(key(t), tensors.parameter(key(t)));
        }
        return out;
    }

    @Override
    public void load(SafeTensors file, GptModel base) throws IOException {
        checkShape(base);
        Map<String, long[]> expected = new LinkedHashMap<>();
        for (Target t : targets) {
            expected.put(key(t), shape(t));
        }
        AdapterFiles.checkTensors(file, expected);
        for (Target t : targets) {
            file.readInto(key(t), tensors.parameter(key(t)));
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
            names.add(t.biasName());
        }
        return names;
    }

    @Override
    public void merge(GptModel base) {
        checkShape(base);
        for (int i = 0; i < targets.size(); i++) {
            layers.get(i).merge(base.parameter(targets.get(i).weightName()), base.parameter(targets.get(i).biasName()));
        }
    }

    /** The layer of one target, for tests. */
    IA3Layer layer(int index) {
        return layers.get(index);
    }

    /** The adapted modules. */
    public List<Target> targets() {
        return targets;
    }

    @Override
    public String toString() {
        return "IA3 on " + targets.size() + " projections, " + tensors.size() + " weights";
    }
}
