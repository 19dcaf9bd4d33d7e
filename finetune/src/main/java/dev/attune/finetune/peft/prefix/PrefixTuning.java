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
import org.nd4j.linalg.ops.transforms.Transforms;
import dev.attune.core.model.Gemm;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Prefix tuning: {@code P} learned key and value vectors in front of every row in every layer, attended by every
 * query, pre-filled into the KV cache for generation. PEFT's layout: {@code prompt_embeddings [P, 2 L C]}, where
 * layer {@code l}'s keys are columns {@code [2l C, (2l+1) C)} and its values the next {@code C} columns, heads side
 * by side as in {@code c_attn}'s output.
 *
 * <p>With {@link PrefixTuningConfig#projection()}, the prefix is trained through PEFT's reparameterisation MLP:
 * <pre>
 *   kv  = tanh(e W1^T + b1) W2^T + b2     e [P, C], W1 [H, C], W2 [2LC, H]   -> kv [P, 2 L C]
 * backward, from d kv gathered layer by layer:
 *   dW2 = dkv^T a   db2 = sum dkv   dz = (dkv W2) * (1 - a^2)   dW1 = dz^T e   db1 = sum dz   de = dz W1
 * </pre>
 * The prefix is recomputed whenever the model asks for layer 0's keys (every pass starts there), and saving
 * writes the computed prefix, which is all PEFT stores too ("folded away for inference").
 */
public final class PrefixTuning implements Adapter, KvPrefix {

    static final String KEY = "prompt_embeddings";

    private final PrefixTuningConfig config;
    private final GptConfig model;
    static final String EMBEDDING = "prompt_encoder.embedding.weight";
    static final String W1 = "prompt_encoder.transform.0.weight";
    static final String B1 = "prompt_encoder.transform.0.bias";
    static final String W2 = "prompt_encoder.transform.2.weight";
    static final String B2 = "prompt_encoder.transform.2.bias";

    private final AdapterTensors tensors;
    // with the projection: the computed prefix, its MLP activation and the gathered gradient
    private INDArray kv;        // [P, 2LC]
    private INDArray hidden;    // [P, H], tanh output
    private INDArray dKv;       // [P, 2LC]

    private PrefixTuning(PrefixTuningConfig config, GptConfig model, DataType dataType) {
        this.config = config;
        this.model = model;
        long width = 2L * model.layers() * model.embeddingSize();
        AdapterTensors.Builder b = AdapterTensors.builder().dataType(dataType);
        if (config.projection()) {
            int h = hiddenSize();
            b.add(EMBEDDING, config.numVirtualTokens(), model.embeddingSize()).add(W1, h, model.embeddingSize())
                    .add(B1, h).add(W2, width, h).add(B2, width);
        } else {
            b.add(KEY, config.numVirtualTokens(), width);
        }
        this.tensors = b.build();
    }

    private int hiddenSize() {
        return config.encoderHiddenSize() > 0 ? config.encoderHiddenSize() : model.embeddingSize();
    }

    /** N(0, 1) entries, torch's {@code nn.Embedding} start that PEFT uses. */
    static PrefixTuning create(PrefixTuningConfig config, GptConfig model, long seed, DataType type) {
        if (config.numVirtualTokens() >= model.contextLength()) {
            throw new IllegalArgumentException(config.numVirtualTokens() + " virtual tokens leave no room in the "
                    + "model's context of " + model.contextLength());
        }
        PrefixTuning p = new PrefixTuning(config, model, type);
        SplittableRandom rng = new SplittableRandom(seed);
        fill(p.tensors.parameter(config.projection() ? EMBEDDING : KEY), rng, 0);
        if (config.projection()) {
            // torch's Linear start: uniform in +-1/sqrt(fan_in) for weight and bias
            double b1 = 1 / Math.sqrt(model.embeddingSize());
            double b2 = 1 / Math.sqrt(p.hiddenSize());
            fill(p.tensors.parameter(W1), rng, b1);
            fill(p.tensors.parameter(B1), rng, b1);
            fill(p.tensors.parameter(W2), rng, b2);
            fill(p.tensors.parameter(B2), rng, b2);
        }
        return p;
    }

    /** N(0, 1) when {@code bound} is 0, else uniform in +-bound. */
    private static void fill(INDArray t, SplittableRandom rng, double bound) {
        double[] v = new double[(int) t.length()];
        for (int i = 0; i < v.length; i++) {
            v[i] = bound == 0 ? rng.nextGaussian() : (rng.nextDouble() * 2 - 1) * bound;
        }
        t.assign(Nd4j.createFromArray(v).reshape(t.shape()).castTo(t.dataType()));
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

    /** The prefix of every layer, [P, 2 L C]: the weights, or the MLP's output (recomputed at layer 0). */
    INDArray prefix(int layer) {
        if (!config.projection()) {
            return tensors.parameter(KEY);
        }
        if (kv == null || layer == 0) {
            INDArray e = tensors.parameter(EMBEDDING);
            INDArray z = Nd4j.create(e.dataType(), e.size(0), hiddenSize());
            Gemm.gemm(e, false, tensors.parameter(W1), true, z, 1.0, 0.0);
            hidden = Transforms.tanh(z.addiRowVector(tensors.parameter(B1)), false);
            kv = Nd4j.create(e.dataType(), e.size(0), tensors.parameter(B2).length());
            Gemm.gemm(hidden, false, tensors.parameter(W2), true, kv, 1.0, 0.0);
            kv.addiRowVector(tensors.parameter(B2));
        }
        return kv;
    }

    /** Layer {@code layer}'s prefix keys [P, C], a fresh dense copy. */
    @Override
    public INDArray keys(int layer) {
        return columns(prefix(layer), layer, 0).dup('c');
    }

    @Override
    public INDArray values(int layer) {
        return columns(prefix(layer), layer, 1).dup('c');
    }

    @Override
    public void backward(int layer, INDArray dKeys, INDArray dValues, Step s) {
        if (config.projection()) {
            if (dKv == null) {
                dKv = Nd4j.create(dKeys.dataType(), kv.shape());
            }
            // every layer's columns are written once per pass; the MLP's backward runs in afterBackward
            columns(dKv, layer, 0).assign(dKeys);
            columns(dKv, layer, 1).assign(dValues);
            return;
        }
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

    /** The reparameterisation MLP's backward, from the prefix gradient the layers left in {@code dKv}. */
    @Override
    public void afterBackward(boolean accumulate) {
        if (!config.projection() || dKv == null) {
            return;
        }
        double beta = accumulate ? 1.0 : 0.0;
        Gemm.gemm(dKv, true, hidden, false, tensors.gradient(W2), 1.0, beta);
        addRows(dKv, tensors.gradient(B2), accumulate);
        INDArray dz = Nd4j.create(dKv.dataType(), hidden.shape());
        Gemm.gemm(dKv, false, tensors.parameter(W2), false, dz, 1.0, 0.0);
        dz.muli(hidden.mul(hidden).rsubi(1.0));
        INDArray e = tensors.parameter(EMBEDDING);
        Gemm.gemm(dz, true, e, false, tensors.gradient(W1), 1.0, beta);
        addRows(dz, tensors.gradient(B1), accumulate);
        Gemm.gemm(dz, false, tensors.parameter(W1), false, tensors.gradient(EMBEDDING), 1.0, beta);
        dKv.assign(0);
    }

    private static void addRows(INDArray x, INDArray out, boolean accumulate) {
        INDArray sum = x.sum(0);
        if (accumulate) {
            out.addi(sum);
        } else {
            out.assign(sum);
        }
    }

    // ------------------------------------------------------------------------------------------------ files

    @Override
    public ObjectNode configJson() {
        ObjectNode o = config.toJson();
        o.put("token_dim", model.embeddingSize());
        o.put("num_layers", model.layers());
        o.put("num_attention_heads", model.heads());
        o.put("encoder_hidden_size", hiddenSize());
        return o;
    }

    @Override
    public Map<String, INDArray> stateDict(GptModel base) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put(KEY, config.projection() ? prefix(0).dup() : tensors.parameter(KEY)); // folded, as PEFT saves it
        return out;
    }

    @Override
    public void load(SafeTensors file, GptModel base) throws IOException {
        checkShape(base);
        if (config.projection()) {
            throw new IOException(file.path() + " holds a folded prefix (what PEFT and Attune save), which cannot be "
                    + "turned back into the reparameterisation MLP; load it as a plain prefix (Peft.load does), or "
                    + "train without the projection to resume");
        }
        AdapterFiles.checkTensors(file, Map.of(KEY,
                new long[] {config.numVirtualTokens(), 2L * model.layers() * model.embeddingSize()}));
        file.readInto(KEY, tensors.parameter(KEY));
    }

    @Override
    public String toString() {
        return "prefix tuning, " + length() + " virtual tokens, " + tensors.size() + " weights";
    }
}
