package dev.attune.core.model;

import dev.attune.core.config.GptConfig;
import dev.attune.core.engine.Engine;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A GPT-2 language model: weights under Hugging Face's names, and explicit forward and backward passes.
 *
 * <pre>
 *   x = wte[ids] + wpe[pos]                       [R, C]   (R = batch x positions)
 *   for each layer:  x = x + attn(ln_1(x))
 *                    x = x + mlp(ln_2(x))
 *   logits = ln_f(x) wte^T                        [R, V]   (the head is tied to the token embedding)
 * </pre>
 *
 * <p>All weights live in one flat float32 buffer (and all gradients in another), each named tensor a view into it,
 * so an optimizer updates the whole model in one pass. Activation buffers are allocated once per batch shape and
 * reused. A model is not thread-safe: use one per thread, or synchronise.
 */
public final class GptModel {

    private final GptConfig config;
    private final DataType dataType;
    private final ParameterLayout layout;
    private final INDArray parameters;
    private final Map<String, INDArray> parameterViews = new LinkedHashMap<>();
    private INDArray gradients;
    private Map<String, INDArray> gradientViews;

    private final Embedding embedding;
    private final LayerNorm[] ln1;
    private final Attention[] attention;
    private final LayerNorm[] ln2;
    private final Mlp[] mlp;
    private final LayerNorm lnF;
    private final LmHead head;

    private Activations trainingActivations;
    private Activations evaluationActivations;
    private INDArray evaluationLogits;
    private KvCache evaluationCache;

    private GptModel(GptConfig config, DataType dataType) {
        Engine.init();
        this.config = config;
        this.dataType = dataType;
        this.layout = new ParameterLayout(config);
        this.parameters = Nd4j.create(dataType, layout.total());
        for (String name : layout.names()) {
            parameterViews.put(name, view(parameters, layout.entry(name)));
        }
        this.embedding = new Embedding(this);
        int layers = config.layers();
        this.ln1 = new LayerNorm[layers];
        this.attention = new Attention[layers];
        this.ln2 = new LayerNorm[layers];
        this.mlp = new Mlp[layers];
        for (int l = 0; l < layers; l++) {
            ln1[l] = new LayerNorm(this, "h." + l + ".ln_1");
            attention[l] = new Attention(this, l);
            ln2[l] = new LayerNorm(this, "h." + l + ".ln_2");
            mlp[l] = new Mlp(this, l);
        }
        this.lnF = new LayerNorm(this, "ln_f");
        this.head = new LmHead(this);
    }

    private static INDArray view(INDArray flat, ParameterLayout.Entry e) {
        return flat.get(NDArrayIndex.interval(e.offset(), e.offset() + e.size())).reshape(e.shape());
    }

    /**
     * A model initialised as GPT-2 is: weights N(0, initializer_range), the two residual projections of each layer
     * scaled down by 1/sqrt(2 n_layer), biases 0, layer norms 1 and 0. The same seed gives the same weights.
     */
    public static GptModel create(GptConfig config, long seed) {
        return create(config, seed, DataType.FLOAT);
    }

    /** A model whose weights are all zero, for loaders to fill through {@link #parameter(String)}. */
    public static GptModel zeros(GptConfig config) {
        return new GptModel(config, DataType.FLOAT);
    }

    /**
     * The tensors a model of this config has, name to Hugging Face shape, in {@link #parameterNames()} order,
     * without allocating it (checkpoint readers check files against this).
     */
    public static Map<String, long[]> parameterShapes(GptConfig config) {
        ParameterLayout layout = new ParameterLayout(config);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (String name : layout.names()) {
            shapes.put(name, layout.entry(name).shape().clone());
        }
        return Collections.unmodifiableMap(shapes);
    }

    /** Float64 models exist for gradient checks; everything else runs in float32. */
    static GptModel create(GptConfig config, long seed, DataType dataType) {
        GptModel m = new GptModel(config, dataType);
        double std = config.initializerRange();
        double residualStd = std / Math.sqrt(2.0 * config.layers());
        List<String> names = m.parameterNames();
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            INDArray p = m.parameter(name);
            if (name.endsWith("ln_1.weight") || name.endsWith("ln_2.weight") || name.equals("ln_f.weight")) {
                p.assign(1.0);
            } else if (name.endsWith(".bias")) {
                p.assign(0.0);
            } else {
                boolean residual = name.endsWith("attn.c_proj.weight") || name.endsWith("mlp.c_proj.weight");
                p.assign(gaussian(new SplittableRandom(seed * 1_000_003L + i), p.length(), residual ? residualStd : std)
                        .reshape(p.shape()).castTo(dataType));
            }
        }
        return m;
    }

    private static INDArray gaussian(SplittableRandom rng, long n, double std) {
        float[] values = new float[Math.toIntExact(n)];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (rng.nextGaussian() * std);
        }
        return Nd4j.createFromArray(values);
    }

    public GptConfig config() {
        return config;
    }

    /** Number of scalar weights (the tied head counted once): 124,439,808 for GPT-2 small. */
    public long parameterCount() {
        return layout.total();
    }

    /** Hugging Face tensor names without the {@code transformer.} prefix, in a fixed order. */
    public List<String> parameterNames() {
        return layout.names();
    }

    /** The Hugging Face shape of a named tensor ({@code [in, out]} for the Conv1D weights). */
    public long[] parameterShape(String name) {
        return layout.entry(name).shape().clone();
    }

    /** The named weight tensor: a view into the flat buffer, so writing into it changes the model. */
    public INDArray parameter(String name) {
        INDArray v = parameterViews.get(name);
        if (v == null) {
            layout.entry(name); // throws with the list of valid name forms
        }
        return v;
    }

    /** The gradient of a named tensor, a view into the flat gradient buffer (allocated on first use). */
    public INDArray gradient(String name) {
        layout.entry(name);
        return gradientViews().get(name);
    }

    /** All weights, flat [P]. */
    public INDArray parameters() {
        return parameters;
    }

    /** All gradients, flat [P], in the same order as {@link #parameters()}. */
    public INDArray gradients() {
        gradientViews();
        return gradients;
    }

    private Map<String, INDArray> gradientViews() {
        if (gradientViews == null) {
            gradients = Nd4j.create(dataType, layout.total());
            Map<String, INDArray> views = new LinkedHashMap<>();
            for (String name : layout.names()) {
                views.put(name, view(gradients, layout.entry(name)));
            }
            gradientViews = Collections.unmodifiableMap(views);
        }
        return gradientViews;
    }

    // ------------------------------------------------------------------------------------------------ training

    /**
     * One forward and backward pass over a batch.
     *
     * @param batch        inputs and targets; targets below zero are skipped
     * @param lossDivisor  the gradient is that of (summed loss / lossDivisor); pass the number of targets counted
     *                     over all micro-batches of a step to get the mean, whatever the accumulation
     * @param accumulate   add to the gradients instead of overwriting them
     * @param dropoutSeed  dropout masks derive from this seed alone (ignored when the config has no dropout)
     * @return the summed cross-entropy over the counted targets
     */
    public double forwardBackward(TokenBatch batch, double lossDivisor, boolean accumulate, long dropoutSeed) {
        if (!(lossDivisor > 0)) {
            throw new IllegalArgumentException("lossDivisor must be positive, got " + lossDivisor);
        }
        checkBatch(batch);
        int b = batch.batchSize();
        int t = batch.length();
        if (trainingActivations == null || !trainingActivations.fits(b, t, t)) {
            trainingActivations = null; // let the old buffers go before allocating new ones
            trainingActivations = new Activations(config, dataType, b, t, t, true);
        }
        Activations a = trainingActivations;
        Pass p = new Pass(b, t, 0, null, dataType, true, dropoutSeed);
        int[] ids = batch.inputs();
        int[] pos = trainingPositions(b, t);
        forwardLayers(p, ids, pos, a, a.kv);
        head.forward(a.lnfOut, a.logits);
        double loss = LmHead.crossEntropy(a.logits, batch.targets(), 1.0 / lossDivisor); // logits -> dlogits
        gradientViews();
        backward(p, ids, pos, a, accumulate);
        return loss;
    }

    /** Summed cross-entropy over the counted targets, without dropout and without touching the gradients. */
    public double loss(TokenBatch batch) {
        checkBatch(batch);
        return LmHead.crossEntropy(evaluate(batch, false), batch.targets(), Double.NaN);
    }

    /** Next-token logits for every position, [B, T, V], without dropout. */
    public INDArray logits(TokenBatch batch) {
        checkBatch(batch);
        return evaluate(batch, true).reshape(batch.batchSize(), batch.length(), config.vocabSize());
    }

    /**
     * The forward pass of whole sequences without dropout, into buffers kept for the next batch of the same shape
     * (scoring runs batch after batch: allocating a few hundred MB of activations and logits each time cost more
     * than the pass). The logits are a fresh array when {@code fresh}, else the kept buffer, valid until the next
     * call.
     */
    private INDArray evaluate(TokenBatch batch, boolean fresh) {
        int b = batch.batchSize();
        int t = batch.length();
        if (evaluationActivations == null || !evaluationActivations.fits(b, t, t)) {
            evaluationActivations = null;
            evaluationLogits = null;
            evaluationCache = null;
            evaluationActivations = new Activations(config, dataType, b, t, t, false);
            evaluationCache = newCache(b, t);
        }
        KvCache cache = evaluationCache;
        cache.clear();
        int[] pos = cache.advance(null, t);
        Pass p = new Pass(b, t, 0, null, dataType, false, 0);
        forwardLayers(p, batch.inputs(), pos, evaluationActivations, layers(cache));
        INDArray logits;
        if (fresh) {
            logits = Nd4j.create(dataType, (long) b * t, config.vocabSize());
        } else {
            if (evaluationLogits == null) {
                evaluationLogits = Nd4j.create(dataType, (long) b * t, config.vocabSize());
            }
            logits = evaluationLogits;
        }
        head.forward(evaluationActivations.lnfOut, logits);
        return logits;
    }

    private KvCache.Layer[] layers(KvCache cache) {
        KvCache.Layer[] kv = new KvCache.Layer[config.layers()];
        for (int l = 0; l < kv.length; l++) {
            kv[l] = cache.layer(l);
        }
        return kv;
    }

    private static int[] trainingPositions(int b, int t) {
        int[] pos = new int[b * t];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                pos[r * t + i] = i;
            }
        }
        return pos;
    }

    private void checkBatch(TokenBatch batch) {
        if (batch.length() > config.contextLength()) {
            throw new IllegalArgumentException("sequence length " + batch.length() + " exceeds the model's context "
                    + "length " + config.contextLength());
        }
        checkIds(batch.inputs(), "token");
        for (int i = 0; i < batch.targets().length; i++) {
            int t = batch.targets()[i];
            if (t >= config.vocabSize()) {
                throw new IllegalArgumentException("target id " + t + " at position " + i + " is outside the "
                        + "vocabulary [0, " + config.vocabSize() + ")");
            }
        }
    }

    private void checkIds(int[] ids, String what) {
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= config.vocabSize()) {
                throw new IllegalArgumentException(what + " id " + ids[i] + " at position " + i
                        + " is outside the vocabulary [0, " + config.vocabSize() + ")");
            }
        }
    }

    // ----------------------------------------------------------------------------------------------- inference

    /** A key/value cache for {@code batchSize} rows of up to {@code capacity} positions. */
    public KvCache newCache(int batchSize, int capacity) {
        if (batchSize <= 0 || capacity <= 0) {
            throw new IllegalArgumentException("cache needs positive batch size and capacity, got " + batchSize
                    + " and " + capacity);
        }
        return new KvCache(config.layers(), batchSize, config.heads(), capacity, config.headSize(), dataType);
    }

    /**
     * Runs new tokens through the model, appending their keys and values to {@code cache}.
     *
     * @param tokens        [B][n] new token ids, every row the same length n
     * @param mask          [B][n], false marks padding (left padding for batched prompts); null means all real
     * @param allPositions  return logits for every new position [B, n, V] instead of the last one [B, V]
     */
    public INDArray forward(KvCache cache, int[][] tokens, boolean[][] mask, boolean allPositions) {
        int b = cache.batchSize();
        if (tokens.length != b) {
            throw new IllegalArgumentException("cache holds " + b + " rows but " + tokens.length + " were given");
        }
        int n = tokens[0].length;
        if (n == 0) {
            throw new IllegalArgumentException("no new tokens");
        }
        int[] ids = new int[b * n];
        for (int r = 0; r < b; r++) {
            if (tokens[r].length != n || (mask != null && mask[r].length != n)) {
                throw new IllegalArgumentException("row " + r + " has " + tokens[r].length + " tokens"
                        + (mask != null ? " and " + mask[r].length + " mask entries" : "") + ", expected " + n);
            }
            System.arraycopy(tokens[r], 0, ids, r * n, n);
        }
        checkIds(ids, "token");
        if (cache.length() + n > cache.capacity()) {
            throw new IllegalArgumentException("KV cache full: " + cache.length() + " positions stored, " + n
                    + " more do not fit its capacity " + cache.capacity());
        }
        int[] real = cache.realTokens();
        for (int r = 0; r < b; r++) {
            int added = 0;
            for (int i = 0; i < n; i++) {
                added += mask == null || mask[r][i] ? 1 : 0;
            }
            if (real[r] + added > config.contextLength()) {
                throw new IllegalArgumentException("row " + r + " would reach " + (real[r] + added)
                        + " positions, beyond the model's context length " + config.contextLength());
            }
        }
        int start = cache.length();
        int[] pos = cache.advance(mask, n);
        Pass p = new Pass(b, n, start, cache.keyValid(start + n), dataType, false, 0);
        Activations a = new Activations(config, dataType, b, n, start + n, false);
        forwardLayers(p, ids, pos, a, layers(cache));
        if (allPositions) {
            INDArray logits = Nd4j.create(dataType, (long) b * n, config.vocabSize());
            head.forward(a.lnfOut, logits);
            return logits.reshape(b, n, config.vocabSize());
        }
        int[] last = new int[b];
        for (int r = 0; r < b; r++) {
            last[r] = r * n + n - 1;
        }
        INDArray x = n == 1 ? a.lnfOut : Nd4j.pullRows(a.lnfOut, 1, last);
        INDArray logits = Nd4j.create(dataType, b, config.vocabSize());
        head.forward(x, logits);
        return logits;
    }

    // -------------------------------------------------------------------------------------- the network itself

    private void forwardLayers(Pass p, int[] ids, int[] pos, Activations a, KvCache.Layer[] kv) {
        embedding.forward(ids, pos, a.resid(0));                                   // x_0 [R, C]
        if (p.dropout(config.embeddingDropout())) {
            a.embeddingMask = p.dropoutMask(config.embeddingDropout(), 0, p.rows, config.embeddingSize());
            a.resid(0).muli(a.embeddingMask);
        }
        for (int l = 0; l < config.layers(); l++) {
            INDArray x = a.resid(l);
            ln1[l].forward(x, a.ln1Out(l), a.ln1Mean(l), a.ln1Rstd(l));
            attention[l].forward(p, a.ln1Out(l), a.attn(l), kv[l]);
            x.add(a.attn(l).out, a.mid(l));                                         // mid = x + attn(ln_1(x))
            ln2[l].forward(a.mid(l), a.ln2Out(l), a.ln2Mean(l), a.ln2Rstd(l));
            mlp[l].forward(p, a.ln2Out(l), a.mlp(l));
            a.mid(l).add(a.mlp(l).out, a.resid(l + 1));                             // x_{l+1} = mid + mlp(ln_2(mid))
        }
        lnF.forward(a.resid(config.layers()), a.lnfOut, a.lnfMean, a.lnfRstd);      // [R, C]
    }

    /** Reads a.logits as dloss/dlogits and fills the gradients, last layer first. */
    private void backward(Pass p, int[] ids, int[] pos, Activations a, boolean accumulate) {
        int top = config.layers();
        head.backward(a.lnfOut, a.logits, a.dLn, accumulate);                       // dLn = d ln_f(x_L)
        a.dResid.assign(0);
        lnF.backward(a.dLn, a.resid(top), a.lnfMean, a.lnfRstd, a.dResid, accumulate);  // dResid = d x_L
        for (int l = top - 1; l >= 0; l--) {
            // x_{l+1} = mid + mlp(ln_2(mid)): the MLP branch adds its gradient to d mid = d x_{l+1}
            mlp[l].backward(a.ln2Out(l), a.mlp(l), a.dResid, a.mlpGrads, a.dLn, accumulate);
            ln2[l].backward(a.dLn, a.mid(l), a.ln2Mean(l), a.ln2Rstd(l), a.dResid, accumulate);
            // mid = x_l + attn(ln_1(x_l)): likewise for the attention branch
            attention[l].backward(p, a.ln1Out(l), a.attn(l), a.kv[l], a.dResid, a.attnGrads, a.dLn, accumulate);
            ln1[l].backward(a.dLn, a.resid(l), a.ln1Mean(l), a.ln1Rstd(l), a.dResid, accumulate);
        }
        if (a.embeddingMask != null) {
            a.dResid.muli(a.embeddingMask);
        }
        embedding.backward(ids, pos, a.dResid, accumulate);
    }

    /** Frees the activation buffers kept between training steps. */
    public void releaseTrainingBuffers() {
        trainingActivations = null;
        evaluationActivations = null;
        evaluationLogits = null;
        evaluationCache = null;
    }

    @Override
    public String toString() {
        return "GptModel[" + config + ", " + parameterCount() + " parameters, " + dataType + "]";
    }
}
