package dev.attune.finetune.peft.bottleneck;

import dev.attune.core.config.GptConfig;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.Branch;
import dev.attune.core.model.GptModel;
import dev.attune.finetune.peft.Adapter;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.AdapterTensors;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Bottleneck adapters on a GPT-2 (see {@link BottleneckConfig} for the file layout). Initialised near identity:
 * the down projection N(0, 0.01), the up projection and both biases zero, so the model starts unchanged.
 */
public final class Bottleneck implements Adapter {

    private static final String[] PARTS = {"down.weight", "down.bias", "up.weight", "up.bias"};

    /** One adapter site. */
    record Site(int layer, Branch branch) {
        String prefix() {
            return "transformer.h." + layer + "." + (branch == Branch.ATTENTION ? "attn" : "mlp") + ".adapter.";
        }
    }

    private final BottleneckConfig config;
    private final GptConfig model;
    private final List<Site> sites = new ArrayList<>();
    private final AdapterTensors tensors;
    private final List<BottleneckLayer> layers = new ArrayList<>();

    private Bottleneck(BottleneckConfig config, GptConfig model, DataType dataType) {
        this.config = config;
        this.model = model;
        for (int l : config.layers()) {
            if (l >= model.layers()) {
                throw new IllegalArgumentException("layers_to_transform has layer " + l + ", but the model has "
                        + model.layers() + " layers");
            }
        }
        for (int l = 0; l < model.layers(); l++) {
            if (config.layers().isEmpty() || config.layers().contains(l)) {
                for (Branch b : config.variant().branches()) {
                    sites.add(new Site(l, b));
                }
            }
        }
        AdapterTensors.Builder b = AdapterTensors.builder().dataType(dataType);
        for (Site s : sites) {
            expectedShapes(s).forEach(b::add);
        }
        this.tensors = b.build();
        for (Site s : sites) {
            INDArray[] w = new INDArray[4];
            INDArray[] g = new INDArray[4];
            for (int i = 0; i < 4; i++) {
                w[i] = tensors.parameter(s.prefix() + PARTS[i]);
                g[i] = tensors.gradient(s.prefix() + PARTS[i]);
            }
            layers.add(new BottleneckLayer(w, g, config.nonLinearity()));
        }
    }

    private Map<String, long[]> expectedShapes(Site s) {
        int c = model.embeddingSize();
        int m = config.width(model);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        shapes.put(s.prefix() + PARTS[0], new long[] {c, m});
        shapes.put(s.prefix() + PARTS[1], new long[] {m});
        shapes.put(s.prefix() + PARTS[2], new long[] {m, c});
        shapes.put(s.prefix() + PARTS[3], new long[] {c});
        return shapes;
    }

    static Bottleneck create(BottleneckConfig config, GptConfig model, long seed, DataType type) {
        Bottleneck b = new Bottleneck(config, model, type);
        for (int i = 0; i < b.sites.size(); i++) {
            INDArray down = b.layers.get(i).down;
            SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + i);
            double[] v = new double[(int) down.length()];
            for (int k = 0; k < v.length; k++) {
                v[k] = rng.nextGaussian() * 0.01;
            }
            down.assign(Nd4j.createFromArray(v).reshape(down.shape()).castTo(type));
        }
        return b;
    }

    @Override
    public BottleneckConfig config() {
        return config;
    }

    @Override
    public AdapterTensors tensors() {
        return tensors;
    }

    @Override
    public void attach(GptModel base) {
        checkShape(base);
        for (int i = 0; i < sites.size(); i++) {
            base.adapters().insert(sites.get(i).layer(), sites.get(i).branch(), layers.get(i));
        }
    }

    @Override
    public void detach(GptModel base) {
        for (Site s : sites) {
            base.adapters().remove(s.layer(), s.branch());
        }
    }

    private void checkShape(GptModel base) {
        Adapter.requireShape("these bottleneck adapters were", model, base);
    }

    @Override
    public Map<String, INDArray> stateDict(GptModel base) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (String name : tensors.names()) {
            out.put(name, tensors.parameter(name));
        }
        return out;
    }

    @Override
    public void load(SafeTensors file, GptModel base) throws IOException {
        checkShape(base);
        Map<String, long[]> expected = new LinkedHashMap<>();
        sites.forEach(s -> expected.putAll(expectedShapes(s)));
        AdapterFiles.checkTensors(file, expected);
        for (String name : tensors.names()) {
            file.readInto(name, tensors.parameter(name));
        }
    }

    BottleneckLayer layer(int index) {
        return layers.get(index);
    }

    @Override
    public String toString() {
        return config.variant().name().toLowerCase(Locale.ROOT) + " bottleneck adapters at " + sites.size()
                + " sites, " + tensors.size() + " weights";
    }
}
