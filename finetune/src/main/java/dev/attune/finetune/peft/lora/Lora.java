package dev.attune.finetune.peft.lora;

import dev.attune.core.config.GptConfig;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.Branch;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.Projection;
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
 *
 * <p>Trained biases (bias modes {@code lora_only} and {@code all}) are {@link BiasShift}s: the adapter holds each
 * bias's change from the base, so the base stays bit-identical and the adapter can be detached, disabled or switched
 * without trace. PEFT trains the base biases themselves and saves them whole; so does {@link #stateDict} (base plus
 * shift), and {@link #load} takes the base's value off again. Keys: a targeted projection's bias is
 * {@code ...c_attn.base_layer.bias}, any other {@code ...h.0.attn.c_proj.bias}, {@code ...h.0.ln_1.bias},
 * {@code ...transformer.ln_f.bias}.
 */
public final class Lora implements Adapter {

    static final String PREFIX = "base_model.model.";

    private final LoraConfig config;
    private final GptConfig model;
    private final List<Target> targets;
    private final AdapterTensors tensors;
    private final List<LoraLayer> layers = new ArrayList<>();
    /** Bias mode all: the base's other biases (LayerNorms, untargeted projections), in model order. */
    private final List<OtherBias> otherBiases = new ArrayList<>();
    private final List<BiasShift> otherShifts = new ArrayList<>();

    /**
     * A trained bias of the base outside the targeted projections: the module ({@code h.0.ln_1},
     * {@code h.0.attn.c_proj}, {@code ln_f}) and where its shift attaches.
     *
     * @param projection the projection whose output it shifts, or null for a LayerNorm
     * @param norm       the branch whose LayerNorm it shifts (ATTENTION: ln_1, MLP: ln_2), null for ln_f or a
     *                   projection
     */
    private record OtherBias(String module, int layer, Projection projection, Branch norm, long size) {

        static List<OtherBias> of(GptConfig model, List<Target> targets) {
            List<OtherBias> found = new ArrayList<>();
            for (int l = 0; l < model.layers(); l++) {
                found.add(new OtherBias("h." + l + ".ln_1", l, null, Branch.ATTENTION, model.embeddingSize()));
                for (Projection p : Projection.values()) {
                    if (p == Projection.C_FC) {
                        found.add(new OtherBias("h." + l + ".ln_2", l, null, Branch.MLP, model.embeddingSize()));
                    }
                    if (!targets.contains(new Target(l, p))) {
                        found.add(new OtherBias("h." + l + "." + p.moduleName(), l, p, null, p.outputSize(model)));
                    }
                }
            }
            found.add(new OtherBias("ln_f", -1, null, null, model.embeddingSize()));
            return found;
        }

        /** The base tensor's name, e.g. {@code h.0.ln_1.bias}. */
        String baseName() {
            return module + ".bias";
        }

        /** The key PEFT saves it under, e.g. {@code base_model.model.transformer.h.0.ln_1.bias}. */
        String fileKey() {
            return PREFIX + "transformer." + baseName();
        }

        /** The adapter tensor holding its shift from the base. */
        String shiftName() {
            return PREFIX + "transformer." + module + ".bias_delta";
        }

        void attach(GptModel base, BiasShift shift) {
            if (projection != null) {
                base.adapters().wrap(layer, projection, shift);
            } else if (norm != null) {
                base.adapters().afterNorm(layer, norm, shift);
            } else {
                base.adapters().afterFinalNorm(shift);
            }
        }

        void detach(GptModel base) {
            if (projection != null) {
                base.adapters().unwrap(layer, projection);
            } else if (norm != null) {
                base.adapters().afterNorm(layer, norm, null);
            } else {
                base.adapters().afterFinalNorm(null);
            }
        }
    }

    private Lora(LoraConfig config, GptConfig model, DataType dataType) {
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
        if (config.bias() == LoraConfig.Bias.ALL) {
            otherBiases.addAll(OtherBias.of(model, targets));
            for (OtherBias o : otherBiases) {
                b.add(o.shiftName(), o.size());
            }
        }
        this.tensors = b.build();
        for (int i = 0; i < targets.size(); i++) {
            String p = PREFIX + targets.get(i).modulePath();
            layers.add(new LoraLayer(tensors.parameter(p + ".lora_A.weight"), tensors.parameter(p + ".lora_B.weight"),
                    trainsBias() ? shift(p + ".bias_delta") : null,
                    tensors.gradient(p + ".lora_A.weight"), tensors.gradient(p + ".lora_B.weight"),
                    config.scaling(), config.dropout(), 0x10_0000L + i));
        }
        for (OtherBias o : otherBiases) {
            otherShifts.add(shift(o.shiftName()));
        }
    }

    private BiasShift shift(String name) {
        return new BiasShift(tensors.parameter(name), tensors.gradient(name));
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

    /** Whether the targeted projections' biases train (bias modes lora_only and all). */
    private boolean trainsBias() {
        return config.bias() != LoraConfig.Bias.NONE;
    }

    /**
     * Scalars of the base the adapter trains as shifts of its own (the biases of bias modes lora_only and all):
     * PEFT counts them as base parameters that train, not as added ones.
     */
    @Override
    public long baseParametersTrained() {
        long n = 0;
        if (trainsBias()) {
            for (Target t : targets) {
                n += t.projection().outputSize(model);
            }
        }
        for (OtherBias o : otherBiases) {
            n += o.size();
        }
        return n;
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
        for (int i = 0; i < otherBiases.size(); i++) {
            otherBiases.get(i).attach(base, otherShifts.get(i));
        }
    }

    @Override
    public void detach(GptModel base) {
        Target.unwrapAll(base, targets);
        for (OtherBias o : otherBiases) {
            o.detach(base);
        }
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
        for (OtherBias o : otherBiases) {
            INDArray shift = tensors.parameter(o.shiftName());
            out.put(o.fileKey(), base.parameter(o.baseName()).castTo(shift.dataType()).add(shift));
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
        for (OtherBias o : otherBiases) {
            shapes.put(o.fileKey(), new long[] {o.size()});
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
        for (OtherBias o : otherBiases) {
            INDArray shift = tensors.parameter(o.shiftName());
            file.readInto(o.fileKey(), shift);
            shift.subi(base.parameter(o.baseName()).castTo(shift.dataType()));
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
        for (OtherBias o : otherBiases) {
            names.add(o.baseName());
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
        for (int i = 0; i < otherBiases.size(); i++) {
            otherShifts.get(i).merge(base.parameter(otherBiases.get(i).baseName()));
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
