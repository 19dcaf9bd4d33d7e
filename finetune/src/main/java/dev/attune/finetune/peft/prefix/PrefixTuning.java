package dev.attune.finetune.peft.prefix;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.config.GptConfig;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.KvPrefix;
import dev.attune.core.model.Step;
import dev.attune.finetune.peft.Adapter;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.AdapterTensors;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Prefix tuning: {@code P} learned key and value vectors in front of every row in every layer, attended by every
 * query, pre-filled into the KV cache for generation. PEFT's layout: {@code prompt_embeddings [P, 2 L C]}, where
 * layer {@code l}'s keys are columns {@code [2l C, (2l+1) C)} and its values the next {@code C} columns, heads side
 * by side as in {@code c_attn}'s output.
 */
public final class PrefixTuning implements Adapter, KvPrefix {

    static final String KEY = "prompt_embeddings";

    private final PrefixTuningConfig config;
    private final GptConfig model;
    private final AdapterTensors tensors;

    private PrefixTuning(PrefixTuningConfig config, GptConfig model, DataType dataType) {
        this.config = config;
        this.model = model;
        this.tensors = AdapterTensors.builder().dataType(dataType)
                .add(KEY, config.numVirtualTokens(), 2L * model.layers() * model.embeddingSize()).build();
    }

    /** N(0, 1) entries, torch's {@code nn.Embedding} start that PEFT uses. */
    static PrefixTuning create(PrefixTuningConfig config, GptConfig model, long seed, DataType type) {
        if (config.numVirtualTokens() >= model.contextLength()) {
            throw new IllegalArgumentException(config.numVirtualTokens() + " virtual tokens leave no room in the "
                    + "model's context of " + model.contextLength());
        }
        PrefixTuning p = new PrefixTuning(config, model, type);
        INDArray e = p.tensors.parameter(KEY);
        SplittableRandom rng = new SplittableRandom(seed);
        double[] v = new double[(int) e.length()];
        for (int i = 0; i < v.length; i++) {
            v[i] = rng.nextGaussian();
        }
        e.assign(Nd4j.createFromArray(v).reshape(e.shape()).castTo(type));
        return p;
    }

    @Override
    public PrefixTuningConfig config() {
        return config;
    }

    @Override
    public AdapterTensors tensors() {
        return tensors;
    }

    @Override
    public void attach(GptModel base) {
        checkShape(base);
        base.adapters().prefix(this);
    }

    @Override
    public void detach(GptModel base) {
        base.adapters().prefix(null);
    }

    private void checkShape(GptModel base) {
        if (base.config().embeddingSize() != model.embeddingSize() || base.config().layers() != model.layers()
                || base.config().heads() != model.heads()) {
            throw new IllegalArgumentException("this prefix was made for " + model.layers() + " layers of width "
                    + model.embeddingSize() + " (" + model.heads() + " heads), the model has " + base.config().layers()
                    + " of " + base.config().embeddingSize() + " (" + base.config().heads() + ")");
        }
    }

    // --------------------------------------------------------------------------------------------- KvPrefix

    @Override
    public int length() {
        return config.numVirtualTokens();
    }

    private INDArray columns(INDArray flat, int layer, int which) {
        long c = model.embeddingSize();
        long from = (2L * layer + which) * c;
        return flat.get(NDArrayIndex.all(), NDArrayIndex.interval(from, from + c));
    }

    /** Layer {@code layer}'s prefix keys [P, C], a fresh dense copy. */
    @Override
    public INDArray keys(int layer) {
        return columns(tensors.parameter(KEY), layer, 0).dup('c');
    }

    @Override
    public INDArray values(int layer) {
        return columns(tensors.parameter(KEY), layer, 1).dup('c');
    }

    @Override
    public void backward(int layer, INDArray dKeys, INDArray dValues, Step s) {
        INDArray gk = columns(tensors.gradient(KEY), layer, 0);
        INDArray gv = columns(tensors.gradient(KEY), layer, 1);
        if (s.accumulate()) {
            gk.addi(dKeys);
            gv.addi(dValues);
        } else {
            gk.assign(dKeys);
            gv.assign(dValues);
        }
    }

    // ------------------------------------------------------------------------------------------------ files

    @Override
    public ObjectNode configJson() {
        ObjectNode o = config.toJson();
        o.put("token_dim", model.embeddingSize());
        o.put("num_layers", model.layers());
        o.put("num_attention_heads", model.heads());
        o.put("encoder_hidden_size", model.embeddingSize());
        return o;
    }

    @Override
    public Map<String, INDArray> stateDict(GptModel base) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put(KEY, tensors.parameter(KEY));
        return out;
    }

    @Override
    public void load(SafeTensors file, GptModel base) throws IOException {
        checkShape(base);
        AdapterFiles.checkTensors(file, Map.of(KEY,
                new long[] {config.numVirtualTokens(), 2L * model.layers() * model.embeddingSize()}));
        file.readInto(KEY, tensors.parameter(KEY));
    }

    @Override
    public String toString() {
        return "prefix tuning, " + length() + " virtual tokens, " + tensors.size() + " weights";
    }
}
