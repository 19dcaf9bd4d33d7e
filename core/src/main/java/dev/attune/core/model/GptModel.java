package dev.attune.core.model;

import dev.attune.core.config.GptConfig;
import dev.attune.core.engine.Engine;
import dev.attune.core.engine.HostBuffers;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 * reused. Adapters (LoRA, IA3, bottlenecks, prefixes, soft prompts) attach through {@link #adapters()}; with
 * {@link #freeze()} only they train. A model is not thread-safe: use one per thread, or synchronise.
 */
public final class GptModel {

    private final GptConfig config;
    private final DataType dataType;
    private final WeightFormat weightFormat;
    private final Map<String, CompressedTensor> compressed;  // empty for float weights
    private final boolean decodingLayout;                    // see forDecoding()
    private final Map<String, INDArray> weightRows = new LinkedHashMap<>();  // decoding layout: [out, in] storage
    private final ParameterLayout layout;
    private final INDArray parameters;
    private final Map<String, INDArray> parameterViews = new LinkedHashMap<>();
    private INDArray gradients;
    private Map<String, INDArray> gradientViews;
    private boolean frozen;

    private final Embedding embedding;
    private final Block[] blocks;
    private final LayerNorm lnF;
    private final LmHead head;
    private final Adapters adapters;

    private Activations trainingActivations;
    private TrainingPass lastTraining;
    private Activations evaluationActivations;
    private Activations decodeActivations;  // forward(KvCache, ...) with one new position per row: reused
    private INDArray keptLogits;            // nextLogits' [B, V] buffer, reused for the same batch size
    private Activations promptActivations;  // forward(KvCache, ...) of a short prompt: reused for the same shape
    /** The most rows (batch times new positions) of a pass through the cache whose activations are kept. */
    private static final int KEPT_PROMPT_ROWS = 128;
    private KvCache evaluationCache;
    // evaluate's activations and keys/values: batches of changing shapes reuse the memory of the largest
    private final Activations.Pool evaluationPool = new Activations.Pool();
    private final Activations.Pool evaluationCachePool = new Activations.Pool();

    private GptModel(GptConfig config, DataType dataType) {
        this(config, dataType, WeightFormat.FP32, false);
    }

    private GptModel(GptConfig config, DataType dataType, WeightFormat weightFormat) {
        this(config, dataType, weightFormat, false);
    }

    private GptModel(GptConfig config, DataType dataType, WeightFormat weightFormat, boolean decodingLayout) {
        this(config, dataType, weightFormat, decodingLayout, null);
    }

    private GptModel(GptConfig config, DataType dataType, WeightFormat weightFormat, boolean decodingLayout,
                     INDArray flatParameters) {
        Engine.init();
        this.config = config;
        this.dataType = dataType;
        this.weightFormat = weightFormat;
        this.decodingLayout = decodingLayout;
        Map<String, CompressedTensor> packed = new LinkedHashMap<>();
        if (weightFormat != WeightFormat.FP32) {
            CompressedTensor.requireSupported();
            Map<String, long[]> shapes = parameterShapes(config);
            for (String name : compressedNames(config)) {
                packed.put(name, CompressedTensor.zeros(name, weightFormat, shapes.get(name)));
            }
        }
        this.compressed = Collections.unmodifiableMap(packed);
        this.layout = new ParameterLayout(config, packed.keySet());
        this.parameters = flatParameters != null ? flatParameters : Nd4j.create(dataType, layout.total());
        Set<String> transposed = decodingLayout ? projectionWeightNames(config) : Set.of();
        for (String name : layout.names()) {
            if (packed.containsKey(name)) {
                continue;
            }
            ParameterLayout.Entry e = layout.entry(name);
            if (transposed.contains(name)) {
                // stored [out, in]; the Hugging Face view [in, out] is its transpose
                INDArray rows = parameters.get(NDArrayIndex.interval(e.offset(), e.offset() + e.size()))
                        .reshape(e.shape()[1], e.shape()[0]);
                weightRows.put(name, rows);
                parameterViews.put(name, rows.transpose());
            } else {
                parameterViews.put(name, view(parameters, e));
            }
        }
        this.frozen = weightFormat != WeightFormat.FP32 || decodingLayout;
        double eps = config.layerNormEpsilon();
        this.embedding = new Embedding(param("wte.weight"), param("wpe.weight"), packed.get("wte.weight"));
        this.blocks = new Block[config.layers()];
        for (int l = 0; l < blocks.length; l++) {
            String p = "h." + l + ".";
            blocks[l] = new Block(
                    new LayerNorm(param(p + "ln_1.weight"), param(p + "ln_1.bias"), eps),
                    new Attention(config, l, linear(p + "attn.c_attn"), linear(p + "attn.c_proj")),
                    new LayerNorm(param(p + "ln_2.weight"), param(p + "ln_2.bias"), eps),
                    new Mlp(config, l, linear(p + "mlp.c_fc"), linear(p + "mlp.c_proj")));
        }
        this.lnF = new LayerNorm(param("ln_f.weight"), param("ln_f.bias"), eps);
        this.head = new LmHead(param("wte.weight"), packed.get("wte.weight"), decodingLayout);
        this.adapters = new Adapters(config, blocks);
    }

    /** A layer's view of a named tensor: its weights, and its gradient while the base trains. */
    private Param param(String name) {
        return new Param(parameterViews.get(name), () -> frozen ? null : gradientViews().get(name));
    }

    private Linear linear(String prefix) {
        return new Linear(param(prefix + ".weight"), param(prefix + ".bias"), compressed.get(prefix + ".weight"),
                weightRows.get(prefix + ".weight"));
    }

    /** The four projection weights of every layer (GPT-2's Conv1D, {@code [in, out]}). */
    private static Set<String> projectionWeightNames(GptConfig config) {
        Set<String> names = new java.util.LinkedHashSet<>(compressedNames(config));
        names.remove("wte.weight");
        return names;
    }

    /**
     * The tensors a compressed model holds as bf16 or int8, in {@link #parameterNames()} order: {@code wte} (the
     * token embedding and tied LM head) and the four projection weights of every layer.
     */
    public static List<String> compressedNames(GptConfig config) {
        List<String> names = new java.util.ArrayList<>();
        names.add("wte.weight");
        for (int l = 0; l < config.layers(); l++) {
            for (Projection p : Projection.values()) {
                names.add("h." + l + "." + p.moduleName() + ".weight");
            }
        }
        return names;
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
     * A float32 model whose weights are {@code parameters}, used as they are, not copied: a dense float32 vector of
     * {@link #parameterCount(GptConfig)} values holding the tensors of {@link #parameterShapes(GptConfig)} one after
     * the other in that order, each row-major. For loaders that read the weights into memory of their own before ND4J
     * has started (see {@code HfCheckpoint}).
     *
     * @throws IllegalArgumentException if {@code parameters} is not such a vector
     */
    public static GptModel over(GptConfig config, INDArray parameters) {
        requireFlatParameters(config, parameters);
        return new GptModel(config, DataType.FLOAT, WeightFormat.FP32, false, parameters);
    }

    private static void requireFlatParameters(GptConfig config, INDArray parameters) {
        long count = parameterCount(config);
        if (parameters.dataType() != DataType.FLOAT || parameters.length() != count || parameters.rank() != 1
                || parameters.elementWiseStride() != 1) {
            throw new IllegalArgumentException("the parameters must be a dense float32 vector of " + count
                    + " values, got " + parameters.dataType() + " " + java.util.Arrays.toString(parameters.shape()));
        }
    }

    /**
     * A model in {@code format} whose weights are all zero, for loaders to fill: the float32 tensors through
     * {@link #parameter(String)}, the compressed ones through {@link #compressedTensors()}.
     */
    public static GptModel zeros(GptConfig config, WeightFormat format) {
        return new GptModel(config, DataType.FLOAT, format);
    }

    /**
     * An inference copy of this model with its large matrices compressed: the four projection weights of every layer
     * and {@code wte} (the token embedding and tied LM head), about 85% of GPT-2 small's weights, held as bfloat16 or
     * int8 ({@link WeightFormat}); biases, layer norms and {@code wpe} stay float32, and everything computes in
     * float32. Batch-1 decoding reads the compressed bytes directly, so it runs faster by about the ratio of bytes.
     * This model is left as it is (drop it to free its memory); {@code FP32}, or this model's own format, returns
     * this model.
     *
     * <p>A compressed model scores, generates and serves like any other, with adapters attached to it after
     * compressing (their forward hooks run around the compressed projections), but does not train: its base is frozen
     * and a training pass throws. Needs ND4J's CPU backend and the JVM option
     * {@code --add-modules jdk.incubator.vector} (the {@code attune} launcher and the Maven build pass it).
     *
     * @throws IllegalStateException if this model is already compressed to another format, or is not float32
     */
    public GptModel compressed(WeightFormat format) {
        java.util.Objects.requireNonNull(format, "format");
        if (format == weightFormat) {
            return this;
        }
        if (format == WeightFormat.FP32 || weightFormat != WeightFormat.FP32) {
            throw new IllegalStateException("this model holds " + weightFormat.id() + " weights; only a float32 "
                    + "model is compressed (load the float32 checkpoint, or load it as " + format.id() + ")");
        }
        if (dataType != DataType.FLOAT) {
            throw new IllegalStateException("only float32 models are compressed, this one is " + dataType);
        }
        GptModel m = new GptModel(config, DataType.FLOAT, format);
        for (String name : layout.names()) {
            CompressedTensor t = m.compressed.get(name);
            if (t != null) {
                t.quantize(parameter(name));
            } else {
                m.parameter(name).assign(parameter(name));
            }
        }
        return m;
    }

    /**
     * An inference copy of this float32 model laid out for decoding: the four projection weights of every layer are
     * stored one row per output channel ({@code [out, in]}, the transpose of GPT-2's Conv1D layout, as torch's
     * {@code nn.Linear} holds them), so that the one-token decoding step reads each output's weights as one contiguous
     * stream, with Java's Vector API, and the tied LM head does the same over {@code wte}. The values and the
     * arithmetic are float32 as before; only the order of the sums differs, so logits agree with this model's to float
     * rounding. Longer inputs (prompts, scoring) multiply through the same GEMM with the weights as its transposed
     * operand. Batch-1 decoding of GPT-2 small ran about twice as fast as through this model on the benchmark machine
     * (BENCHMARKS.md, "The decoding layout"). {@link #parameter(String)} still gives every tensor in the Hugging Face
     * shape (a transposed view for the projections), and {@link dev.attune.core.checkpoint.HfCheckpoint#save} writes
     * the usual checkpoint.
     *
     * <p>Like a compressed model it scores, generates and serves, with adapters attached after the conversion, but
     * does not train: its base is frozen and a training pass throws. Making the copy needs room for a second copy of
     * the weights while this model is alive; drop this one afterwards, or, to hold one copy only, give its weights
     * up with {@link #overForDecoding} instead. A model already laid out for decoding returns itself.
     *
     * @throws IllegalStateException if this model is compressed or not float32
     */
    public GptModel forDecoding() {
        if (decodingLayout) {
            return this;
        }
        if (weightFormat != WeightFormat.FP32 || dataType != DataType.FLOAT) {
            throw new IllegalStateException("the decoding layout is for float32 models, this one holds "
                    + (weightFormat != WeightFormat.FP32 ? weightFormat.id() + " weights" : dataType + " values")
                    + " (a compressed model already decodes from one row per output)");
        }
        GptModel m = new GptModel(config, DataType.FLOAT, WeightFormat.FP32, true);
        for (String name : layout.names()) {
            m.parameter(name).assign(parameter(name));
        }
        return m;
    }

    /**
     * A model laid out for decoding (as {@link #forDecoding()} makes) over {@code parameters}, without a second copy of
     * the weights: {@code parameters} holds the tensors as {@link #over} takes them, and the projection weights are
     * transposed to {@code [out, in]} in place, one matrix at a time. For loaders and for callers done with a float32
     * model: {@code GptModel.overForDecoding(config, model.parameters())} gives {@code model}'s weights the decoding
     * layout, and {@code model} must not be used afterwards (its projections would read transposed weights). Peak
     * memory is one copy of the weights plus the largest projection, where {@link #forDecoding()} holds two copies.
     *
     * @throws IllegalArgumentException if {@code parameters} is not a dense float32 vector of
     *                                  {@link #parameterCount(GptConfig)} values
     */
    public static GptModel overForDecoding(GptConfig config, INDArray parameters) {
        requireFlatParameters(config, parameters);
        ParameterLayout layout = new ParameterLayout(config);
        int largest = 0;
        for (String name : projectionWeightNames(config)) {
            largest = (int) Math.max(largest, layout.entry(name).size());
        }
        boolean host = Engine.isCpu();
        float[] from = host ? new float[largest] : null;  // reused: a pair per matrix would be ~1 GB of garbage
        float[] to = host ? new float[largest] : null;
        for (String name : projectionWeightNames(config)) {
            ParameterLayout.Entry e = layout.entry(name);
            int rows = (int) e.shape()[0];
            int cols = (int) e.shape()[1];
            if (host) {
                transposeOnHost(parameters, e.offset(), rows, cols, from, to);
            } else {
                transposeWithNd4j(parameters, e.offset(), rows, cols);
            }
        }
        return new GptModel(config, DataType.FLOAT, WeightFormat.FP32, true, parameters);
    }

    /**
     * Rewrites the row-major {@code [rows, cols]} block at {@code offset} of {@code flat} as its transpose, through
     * {@code from} and {@code to}, each at least {@code rows * cols} long.
     */
    static void transposeOnHost(INDArray flat, long offset, int rows, int cols, float[] from, float[] to) {
        int n = rows * cols;
        FloatBuffer block = HostBuffers.window(flat, offset, n);
        block.get(0, from, 0, n);
        int tile = 32;  // a tile of each side stays in L1 while the other is read or written with a stride
        for (int r0 = 0; r0 < rows; r0 += tile) {
            int r1 = Math.min(rows, r0 + tile);
            for (int c0 = 0; c0 < cols; c0 += tile) {
                int c1 = Math.min(cols, c0 + tile);
                for (int c = c0; c < c1; c++) {
                    for (int r = r0; r < r1; r++) {
                        to[c * rows + r] = from[r * cols + c];
                    }
                }
            }
        }
        block.put(0, to, 0, n);
    }

    /** As {@link #transposeOnHost}, for backends whose memory the host cannot read: a temporary freed at once. */
    static void transposeWithNd4j(INDArray flat, long offset, int rows, int cols) {
        int n = rows * cols;
        INDArray block = flat.get(NDArrayIndex.interval(offset, offset + n));
        INDArray transposed = block.reshape(rows, cols).transpose().dup('c');
        block.assign(transposed.reshape(n));
        transposed.close();
    }

    /** Whether this model came from {@link #forDecoding()}. */
    public boolean decodingLayout() {
        return decodingLayout;
    }

    /** How the large matrices are held: {@link WeightFormat#FP32} unless this model came from {@link #compressed}. */
    public WeightFormat weightFormat() {
        return weightFormat;
    }

    /** The compressed tensors by Hugging Face name, in {@link #parameterNames()} order; empty for a float32 model. */
    public Map<String, CompressedTensor> compressedTensors() {
        return compressed;
    }

    private void requireFloatWeights(String what) {
        if (weightFormat != WeightFormat.FP32) {
            throw new IllegalStateException(what + " needs float32 weights; this model holds " + weightFormat.id()
                    + " weights for inference (train the float32 model, then compress it)");
        }
        if (decodingLayout) {
            throw new IllegalStateException(what + " needs the training layout; this model is laid out for decoding "
                    + "(train the float32 model, then call forDecoding())");
        }
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
                ParameterLayout.Entry e = m.layout.entry(name);
                fillGaussian(m.parameters, e.offset(), e.size(), new SplittableRandom(seed * 1_000_003L + i),
                        residual ? residualStd : std);
            }
        }
        return m;
    }

    /**
     * Fills a weight with N(0, std) draws in order, a block at a time straight into the flat buffer: a whole-tensor
     * temporary (wte is 154 MB), or many small ND4J ones (freed only when the garbage collector gets to them), would
     * raise the process's peak memory for good.
     */
    private static void fillGaussian(INDArray flat, long offset, long n, SplittableRandom rng, double std) {
        int block = 1 << 16;
        float[] values = new float[(int) Math.min(n, block)];
        for (long from = 0; from < n; from += block) {
            int count = (int) Math.min(block, n - from);
            for (int j = 0; j < count; j++) {
                values[j] = (float) (rng.nextGaussian() * std);
            }
            if (flat.dataType() == DataType.FLOAT && Engine.isCpu()) {
                HostBuffers.window(flat, offset + from, count).put(values, 0, count);
            } else {
                flat.get(NDArrayIndex.interval(offset + from, offset + from + count))
                        .assign(Nd4j.createFromArray(Arrays.copyOf(values, count)).castTo(flat.dataType()));
            }
        }
    }

    public GptConfig config() {
        return config;
    }

    /** Number of scalar weights (the tied head counted once): 124,439,808 for GPT-2 small. */
    public long parameterCount() {
        return layout.count();
    }

    /** Number of scalar weights a model of this config has, without allocating it. */
    public static long parameterCount(GptConfig config) {
        return new ParameterLayout(config).total();
    }

    /** Where adapters attach; see {@link Adapters}. */
    public Adapters adapters() {
        return adapters;
    }

    /**
     * Freezes the base weights: from now on no gradient buffer is kept for them and no weight-gradient GEMM runs;
     * a backward pass still sends input gradients down to the adapters, and stops at the lowest layer one needs.
     */
    public void freeze() {
        frozen = true;
        gradients = null;
        gradientViews = null;
    }

    /** Lets the base weights train again (their gradient buffer is allocated on the next backward). */
    public void unfreeze() {
        requireFloatWeights("unfreeze()");
        frozen = false;
    }

    /** Whether the base weights are frozen. */
    public boolean isFrozen() {
        return frozen;
    }

    /** Hugging Face tensor names without the {@code transformer.} prefix, in a fixed order. */
    public List<String> parameterNames() {
        return layout.names();
    }

    /** The Hugging Face shape of a named tensor ({@code [in, out]} for the Conv1D weights). */
    public long[] parameterShape(String name) {
        return layout.entry(name).shape().clone();
    }

    /**
     * The named weight tensor: a view into the flat buffer, so writing into it changes the model.
     *
     * @throws IllegalStateException for a tensor this model holds compressed (see {@link #compressedTensors()})
     */
    public INDArray parameter(String name) {
        INDArray v = parameterViews.get(name);
        if (v == null) {
            layout.entry(name); // throws with the list of valid name forms
            throw new IllegalStateException("'" + name + "' is held as " + weightFormat.id() + " in this compressed "
                    + "model: compressedTensors().get(name) gives it (dequantize() for float values)");
        }
        return v;
    }

    /**
     * The gradient of a named tensor, a view into the flat gradient buffer (allocated on first use).
     *
     * @throws IllegalStateException while the base is frozen
     */
    public INDArray gradient(String name) {
        layout.entry(name);
        return gradientViews().get(name);
    }

    /**
     * All weights, flat [P] (in a compressed model, only those it holds in float32; in the decoding layout the
     * projection weights lie there as {@code [out, in]}).
     */
    public INDArray parameters() {
        return parameters;
    }

    /**
     * All gradients, flat [P], in the same order as {@link #parameters()}.
     *
     * @throws IllegalStateException while the base is frozen
     */
    public INDArray gradients() {
        gradientViews();
        return gradients;
    }

    private Map<String, INDArray> gradientViews() {
        requireFloatWeights("a gradient");
        if (frozen) {
            throw new IllegalStateException("the base weights are frozen: they have no gradients (unfreeze() first)");
        }
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
        requireFloatWeights("training");
        TrainingPass t = trainingPass(batch, dropoutSeed);
        Activations a = t.acts;
        int rows = t.pass.rows;
        int chunk = trainingHeadChunk(rows);
        if (a.logits == null || a.logits.rows() != chunk) {
            a.logits = Nd4j.create(dataType, chunk, config.vocabSize());
        }
        boolean backward = needsBackward();
        double loss = 0;
        // The LM head a few rows at a time: [R, V] logits would be the largest activation of a small model's step.
        for (int from = 0; from < rows; from += chunk) {
            int to = Math.min(rows, from + chunk);
            INDArray x = a.lnfOut.get(NDArrayIndex.interval(from, to), NDArrayIndex.all());          // [r, C]
            INDArray logits = to - from == chunk ? a.logits
                    : a.logits.get(NDArrayIndex.interval(0, to - from), NDArrayIndex.all());
            head.forward(x, logits);                                                               // [r, V]
            loss += LmHead.crossEntropy(logits, Arrays.copyOfRange(t.targets, from, to),
                    backward ? 1.0 / lossDivisor : Double.NaN);                                     // -> dlogits
            if (backward) {
                INDArray dLn = a.scratch.dLn.get(NDArrayIndex.interval(from, to), NDArrayIndex.all());
                head.backward(x, logits, dLn, accumulate || from > 0);                            // d ln_f(x_L)
            }
        }
        if (backward) {
            backward(t, accumulate);
        }
        return loss;
    }

    /** Tests set this to force several LM-head chunks on a small model; 0 chooses by size. */
    static volatile int trainingHeadChunkRows = 0;

    /**
     * Rows of the LM head per chunk in training: at most about 32 MiB of float logits (at least 64 rows), split
     * evenly, so GPT-2's 512 rows go as 171 + 171 + 170 rather than 166 x 3 + a 14-row GEMM.
     */
    private int trainingHeadChunk(int rows) {
        int limit = trainingHeadChunkRows > 0 ? trainingHeadChunkRows
                : Math.max(64, (32 << 20) / (4 * config.vocabSize()));
        int chunks = (rows + limit - 1) / limit;
        return (rows + chunks - 1) / chunks;
    }

    /** Bytes held by the training pass's activation buffers (each buffer once), 0 before the first pass. */
    long trainingActivationBytes() {
        return trainingActivations == null ? 0 : trainingActivations.bytes();
    }

    /**
     * The training forward pass (with dropout) up to the final hidden states, for heads that compute their own loss
     * (sequence or token classification); follow it with {@link #backwardFromHidden}.
     *
     * @return the hidden states after {@code ln_f}, [B, T, C]; valid until the next training pass
     */
    public INDArray trainingForward(TokenBatch batch, long dropoutSeed) {
        requireFloatWeights("training");
        TrainingPass t = trainingPass(batch, dropoutSeed);
        return realRows(t.acts.lnfOut, t.pass.batch, t.pass.n, t.virtual).reshape(batch.batchSize(), batch.length(),
                config.embeddingSize());
    }

    /**
     * The backward pass of the last {@link #trainingForward}: from the loss gradient of its hidden states
     * {@code dHidden [B, T, C]}, fills the base's gradients (unless frozen) and the adapters'.
     *
     * @param accumulate add to the gradients instead of overwriting them
     */
    public void backwardFromHidden(INDArray dHidden, boolean accumulate) {
        TrainingPass t = lastTraining;
        if (t == null) {
            throw new IllegalStateException("backwardFromHidden needs a trainingForward first");
        }
        int real = t.pass.n - t.virtual;
        if (!Arrays.equals(dHidden.shape(), new long[] {t.pass.batch, real, config.embeddingSize()})) {
            throw new IllegalArgumentException("dHidden must have the hidden states' shape " + Arrays.toString(
                    new long[] {t.pass.batch, real, config.embeddingSize()}) + ", got " + Arrays.toString(dHidden.shape()));
        }
        INDArray dLn = t.acts.scratch.dLn;                                          // [R, C]
        if (t.virtual == 0) {
            dLn.assign(dHidden.reshape((long) t.pass.rows, config.embeddingSize()));
        } else {
            dLn.assign(0);
            dLn.reshape(t.pass.batch, t.pass.n, config.embeddingSize())
                    .get(NDArrayIndex.all(), NDArrayIndex.interval(t.virtual, t.pass.n), NDArrayIndex.all())
                    .assign(dHidden);
        }
        if (needsBackward()) {
            backward(t, accumulate);
        }
    }

    /** Whether anything trains: the base, or an adapter. */
    private boolean needsBackward() {
        return !frozen || adapters.trains();
    }

    /**
     * Per layer, the projection inputs the next backward pass reads: all of them while the base trains (its weight
     * gradients read them), only those an adapter wrapping them reads while it is frozen.
     */
    private Activations.Keep[] keep() {
        Activations.Keep[] keep = new Activations.Keep[blocks.length];
        for (int l = 0; l < blocks.length; l++) {
            Block b = blocks[l];
            keep[l] = frozen ? new Activations.Keep(readsInput(b.attention.cAttn), readsInput(b.attention.cProj),
                    readsInput(b.mlp.cFc), readsInput(b.mlp.cProj)) : Activations.Keep.ALL;
        }
        return keep;
    }

    private static boolean readsInput(Linear projection) {
        return projection.adapter != null && projection.adapter.readsInput();
    }

    /** One training forward pass and what its backward needs. */
    private record TrainingPass(Pass pass, Activations acts, int[] ids, int[] pos, int[] targets, int virtual) {
    }

    private TrainingPass trainingPass(TokenBatch batch, long dropoutSeed) {
        checkBatch(batch);
        int virtual = adapters.softPromptLength();
        int prefix = adapters.prefixLength();
        int b = batch.batchSize();
        int t = batch.length() + virtual;
        Activations.Keep[] keep = keep();
        if (trainingActivations == null || !trainingActivations.fits(b, t, prefix + t, keep)) {
            trainingActivations = null; // let the old buffers go before allocating new ones
            lastTraining = null;
            trainingActivations = new Activations(config, dataType, b, t, prefix + t, keep);
        }
        Activations a = trainingActivations;
        Pass p = new Pass(b, t, prefix, null, dataType, true, dropoutSeed);
        if (prefix > 0) {
            for (int l = 0; l < config.layers(); l++) {
                a.kv[l].fill(0, adapters.prefix().keys(l), adapters.prefix().values(l));
            }
        }
        int[] ids = withVirtual(batch.inputs(), b, batch.length(), virtual, true);
        int[] targets = withVirtual(batch.targets(), b, batch.length(), virtual, false);
        int[] pos = trainingPositions(b, t, prefix);
        forwardLayers(p, ids, pos, a, a.kv);
        lastTraining = new TrainingPass(p, a, ids, pos, targets, virtual);
        return lastTraining;
    }

    /**
     * Reads {@code acts.scratch.dLn} as the loss gradient of the final layer norm's output and fills the gradients,
     * last layer first, down to the lowest layer anything trains in.
     */
    private void backward(TrainingPass t, boolean accumulate) {
        Pass p = t.pass;
        Activations a = t.acts;
        Activations.Scratch s = a.scratch;
        p.accumulate = accumulate;
        int top = config.layers();
        int lowest = frozen ? adapters.lowestLayer() : 0;
        Ops.zero(s.dResid);
        INDArray dLnf = Block.normGradient(adapters.afterFinalNorm().orElse(null), s.dLn, p);
        lnF.backward(dLnf, a.resid(top), a.lnfMean, a.lnfRstd, s.dResid, accumulate);  // dResid = d x_L
        // Below the lowest trained layer of a frozen base only a soft prompt needs a gradient (a prefix's come from
        // each layer's keys and values; the frozen embedding takes none): without one that layer stops at its adapters.
        boolean inputGradient = !frozen || t.virtual > 0;
        for (int l = top - 1; l >= lowest; l--) {
            blocks[l].backward(p, a.resid(l), a.block(l), a.kv[l], s.dResid, s, adapters.prefix(),
                    inputGradient || l > lowest);                                            // now d x_l
        }
        if (lowest > 0 || !inputGradient) {
            return;
        }
        if (a.embeddingMask != null) {
            s.dResid.muli(a.embeddingMask);
        }
        if (t.virtual > 0) {
            adapters.softPrompt().backward(Embedding.softPromptGradient(t.ids, s.dResid, t.virtual), p);
        }
        embedding.backward(t.ids, t.pos, s.dResid, accumulate);
    }

    /** Summed cross-entropy over the counted targets, without dropout and without touching the gradients. */
    public double loss(TokenBatch batch) {
        double sum = 0;
        for (double logProb : forward(batch, Output.TARGET_LOGPROBS).targetLogProbs()) {
            sum -= logProb;
        }
        return sum;
    }

    /** Next-token logits for every position, [B, T, V], without dropout. */
    public INDArray logits(TokenBatch batch) {
        return forward(batch, Output.LOGITS).logits();
    }

    /**
     * The final hidden state (after {@code ln_f}) at the last token of each row, {@code [rows, C]}, without dropout:
     * what a sequence-classification head reads. Rows may differ in length. Where the engine allows it (float32 on
     * the CPU, no adapters) they go through one pass packed one after another, so no padding is computed; otherwise
     * right-padded, as {@code forward(batch, Output.HIDDEN)} read at each row's last token. A row's result does not
     * depend on the other rows.
     */
    public INDArray lastHidden(int[][] rows) {
        if (rows.length == 0) {
            throw new IllegalArgumentException("no rows");
        }
        int b = rows.length;
        int t = 0;
        int total = 0;
        int[] lengths = new int[b];
        for (int r = 0; r < b; r++) {
            if (rows[r].length == 0) {
                throw new IllegalArgumentException("row " + r + " is empty");
            }
            lengths[r] = rows[r].length;
            t = Math.max(t, lengths[r]);
            total += lengths[r];
        }
        int[] padded = new int[b * t];
        int[] ignored = new int[b * t];
        Arrays.fill(ignored, TokenBatch.IGNORE);
        for (int r = 0; r < b; r++) {
            System.arraycopy(rows[r], 0, padded, r * t, lengths[r]);
        }
        TokenBatch batch = new TokenBatch(b, t, padded, ignored);
        int[] last = new int[b];
        if (total < b * t && adapters.isEmpty() && Ops.hostKernels(dataType) && !Attention.forceNd4jHeads) {
            checkBatch(batch);
            int[] ids = new int[total];
            for (int r = 0, at = 0; r < b; at += lengths[r], r++) {
                System.arraycopy(rows[r], 0, ids, at, lengths[r]);
                last[r] = at + lengths[r] - 1;
            }
            return evaluate(ids, b, t, lengths).lnfOut.getRows(last);               // [B, C], a copy
        }
        for (int r = 0; r < b; r++) {
            last[r] = r * t + lengths[r] - 1;
        }
        return forward(batch, Output.HIDDEN).hidden().reshape((long) b * t, config.embeddingSize()).getRows(last);
    }

    // ------------------------------------------------------------------------------------------------- scoring

    /** Rows of the LM head computed at once when only target log-probabilities are asked for. */
    private static final int HEAD_CHUNK = 512;

    private INDArray scoringLogits; // [HEAD_CHUNK, V], reused: a fresh 100 MB buffer per chunk cost time and memory

    /** The first {@code rows} rows of the reused scoring logits buffer. */
    private INDArray scoringLogits(int rows) {
        if (scoringLogits == null) {
            scoringLogits = Nd4j.create(dataType, HEAD_CHUNK, config.vocabSize());
        }
        return rows == HEAD_CHUNK ? scoringLogits
                : scoringLogits.get(NDArrayIndex.interval(0, rows), NDArrayIndex.all());
    }

    /**
     * The forward pass of whole sequences without dropout, returning what {@code outputs} name: next-token logits,
     * final hidden states, and per-row sums of target log-probabilities (computed through the LM head only at the
     * counted positions, a few rows at a time). Rows are independent: a row's results do not depend on the other
     * rows of the batch or on padding after it (right padding with {@link TokenBatch#IGNORE} targets).
     */
    public ForwardResult forward(TokenBatch batch, Output... outputs) {
        EnumSet<Output> want = outputs.length == 0 ? EnumSet.noneOf(Output.class) : EnumSet.copyOf(Arrays.asList(outputs));
        if (want.isEmpty()) {
            throw new IllegalArgumentException("ask for at least one output: " + Arrays.toString(Output.values()));
        }
        checkBatch(batch);
        int b = batch.batchSize();
        int t = batch.length();
        int virtual = adapters.softPromptLength();
        Activations a = evaluate(withVirtual(batch.inputs(), b, t, virtual, true), b, t + virtual);
        INDArray x = realRows(a.lnfOut, b, t + virtual, virtual);                   // [B*T, C]
        INDArray hidden = want.contains(Output.HIDDEN)
                ? (x == a.lnfOut ? x.dup() : x).reshape(b, t, config.embeddingSize()) : null;
        INDArray logits = null;
        if (want.contains(Output.LOGITS)) {
            logits = Nd4j.create(dataType, (long) b * t, config.vocabSize());
            head.forward(x, logits);                                                // [B*T, V]
        }
        double[] logProbs = null;
        int[] counts = null;
        boolean[] greedy = null;
        if (want.contains(Output.TARGET_LOGPROBS)) {
            logProbs = new double[b];
            counts = new int[b];
            greedy = new boolean[b];
            Arrays.fill(greedy, true);
            scoreTargets(x, logits, batch, logProbs, counts, greedy);
        }
        return new ForwardResult(logits == null ? null : logits.reshape(b, t, config.vocabSize()), hidden, logProbs,
                counts, greedy);
    }

    /** Per-row target log-probabilities from hidden states x [B*T, C] (or from logits already computed). */
    private void scoreTargets(INDArray x, INDArray logits, TokenBatch batch, double[] logProbs, int[] counts,
                              boolean[] greedy) {
        int[] targets = batch.targets();
        int[] counted = new int[batch.validTargets()];
        int k = 0;
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] >= 0) {
                counted[k++] = i;
            }
        }
        for (int from = 0; from < counted.length; from += HEAD_CHUNK) {
            int[] rows = Arrays.copyOfRange(counted, from, Math.min(counted.length, from + HEAD_CHUNK));
            INDArray chunk;
            if (logits != null) {
                chunk = Nd4j.pullRows(logits, 1, rows);                                // a copy: scoring overwrites it
            } else {
                chunk = scoringLogits(rows.length);
                head.forward(Nd4j.pullRows(x, 1, rows), chunk);                      // [n, V]
            }
            int[] chunkTargets = new int[rows.length];
            for (int i = 0; i < rows.length; i++) {
                chunkTargets[i] = targets[rows[i]];
            }
            double[] loss = new double[rows.length];
            boolean[] top = new boolean[rows.length];
            LmHead.crossEntropy(chunk, chunkTargets, Double.NaN, loss, top);
            for (int i = 0; i < rows.length; i++) {
                int row = rows[i] / batch.length();
                logProbs[row] -= loss[i];
                counts[row]++;
                greedy[row] &= top[i];
            }
        }
    }

    /**
     * The forward pass of whole rows without dropout, into buffers kept for the next batch of the same shape
     * (scoring runs batch after batch: allocating a few hundred MB of activations each time cost more than the pass).
     * The result, {@code lnfOut}, is valid until the next call.
     */
    private Activations evaluate(int[] ids, int b, int t) {
        return evaluate(ids, b, t, null);
    }

    /**
     * As {@link #evaluate(int[], int, int)}; given {@code lengths} (each at most {@code t}), the rows have these
     * lengths and {@code ids} holds them one after another, and so does {@code lnfOut} (a packed {@link Pass}).
     */
    private Activations evaluate(int[] ids, int b, int t, int[] lengths) {
        int prefix = adapters.prefixLength();
        Pass p = lengths == null ? new Pass(b, t, prefix, null, dataType, false, 0) : new Pass(lengths, t, prefix, dataType);
        if (evaluationActivations == null || !evaluationActivations.fits(b, t, prefix + t, p.rows)) {
            evaluationActivations = null;
            evaluationActivations = new Activations(config, dataType, b, t, prefix + t, p.rows, evaluationPool);
        }
        // Without a prefix no layer reads another's keys and values, so one layer's store serves them all in turn.
        int cacheLayers = prefix == 0 ? 1 : config.layers();
        if (evaluationCache == null || evaluationCache.batchSize() != b || evaluationCache.capacity() != prefix + t
                || !evaluationCache.holds(cacheLayers, config.heads(), config.headSize(), dataType)) {
            evaluationCache = new KvCache(cacheLayers, b, config.heads(), prefix + t, config.headSize(), dataType,
                    evaluationCachePool);
        }
        KvCache cache = evaluationCache;
        cache.reset(adapters.prefix());
        int[] pos = cache.advance(null, t);
        if (lengths != null) {
            int[] packed = new int[p.rows];
            for (int r = 0; r < b; r++) {
                System.arraycopy(pos, r * t, packed, p.firstRow(r), lengths[r]);
            }
            pos = packed;
        }
        forwardLayers(p, ids, pos, evaluationActivations, layers(cache));
        return evaluationActivations;
    }

    /** The cache's store for each layer; a cache of one layer serves every layer in turn (see evaluate). */
    private KvCache.Layer[] layers(KvCache cache) {
        boolean shared = cache.layerCount() == 1;
        KvCache.Layer[] kv = new KvCache.Layer[config.layers()];
        for (int l = 0; l < kv.length; l++) {
            kv[l] = cache.layer(shared ? 0 : l);
        }
        return kv;
    }

    /**
     * Position ids of {@code b} rows of {@code t} tokens behind a prefix of {@code first} positions: first ..
     * first+t-1, as Hugging Face gives tokens that follow a past of that length (and so PEFT's prefix tuning).
     */
    private static int[] trainingPositions(int b, int t, int first) {
        int[] pos = new int[b * t];
        for (int r = 0; r < b; r++) {
            for (int i = 0; i < t; i++) {
                pos[r * t + i] = first + i;
            }
        }
        return pos;
    }

    /**
     * Rows of {@code b} x {@code t} entries with {@code virtual} soft-prompt entries put in front of each: their ids
     * when {@code ids}, else {@link TokenBatch#IGNORE} targets.
     */
    private static int[] withVirtual(int[] values, int b, int t, int virtual, boolean ids) {
        if (virtual == 0) {
            return values;
        }
        int[] out = new int[b * (t + virtual)];
        for (int r = 0; r < b; r++) {
            int base = r * (t + virtual);
            for (int k = 0; k < virtual; k++) {
                out[base + k] = ids ? Embedding.virtualId(k) : TokenBatch.IGNORE;
            }
            System.arraycopy(values, r * t, out, base + virtual, t);
        }
        return out;
    }

    /** The rows of x [b*n, C] that are not soft-prompt positions (the first {@code virtual} of each row). */
    private static INDArray realRows(INDArray x, int b, int n, int virtual) {
        if (virtual == 0) {
            return x;
        }
        int[] rows = new int[b * (n - virtual)];
        int k = 0;
        for (int r = 0; r < b; r++) {
            for (int i = virtual; i < n; i++) {
                rows[k++] = r * n + i;
            }
        }
        return Nd4j.pullRows(x, 1, rows);
    }

    private void checkBatch(TokenBatch batch) {
        int virtual = adapters.softPromptLength();
        int prefix = adapters.prefixLength();
        if (batch.length() + virtual + prefix > config.contextLength()) {
            throw new IllegalArgumentException("sequence length " + batch.length()
                    + (virtual > 0 ? " plus " + virtual + " soft-prompt tokens" : "")
                    + (prefix > 0 ? " plus " + prefix + " prefix positions" : "")
                    + " exceeds the model's context length " + config.contextLength());
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

    /**
     * A key/value cache for {@code batchSize} rows of up to {@code capacity} positions. Room for the adapters' virtual
     * positions (a prefix, a soft prompt) is added on top, and a prefix is stored in it now: attach adapters first.
     */
    public KvCache newCache(int batchSize, int capacity) {
        if (batchSize <= 0 || capacity <= 0) {
            throw new IllegalArgumentException("cache needs positive batch size and capacity, got " + batchSize
                    + " and " + capacity);
        }
        KvCache cache = new KvCache(config.layers(), batchSize, config.heads(),
                capacity + adapters.prefixLength() + adapters.softPromptLength(), config.headSize(), dataType);
        cache.reset(adapters.prefix());
        return cache;
    }

    /**
     * Readies {@code cache}, a cache of this model's that its last user has finished with, for a new session of
     * {@code batchSize} rows and {@code capacity} positions as {@link #newCache(int, int)} would make it (emptied, the
     * adapters' prefix stored again), and says whether it could: false when its shape differs, and the cache is left
     * as it was. Its buffers are kept, so stale keys and values stay in slots that no pass reads before writing them.
     */
    public boolean reuseCache(KvCache cache, int batchSize, int capacity) {
        if (cache.batchSize() != batchSize || cache.capacity() != capacity + adapters.prefixLength()
                + adapters.softPromptLength() || !cache.holds(config.layers(), config.heads(), config.headSize(),
                dataType)) {
            return false;
        }
        cache.reset(adapters.prefix());
        return true;
    }

    /**
     * Runs new tokens through the model, appending their keys and values to {@code cache}. With a soft prompt, the
     * first call after the cache was opened puts its virtual tokens in front of each row's real tokens (after any left
     * padding); the logits returned never include them.
     *
     * @param tokens        [B][n] new token ids, every row the same length n
     * @param mask          [B][n], false marks padding (left padding for batched prompts); null means all real
     * @param allPositions  return logits for every new position [B, n, V] instead of the last one [B, V]
     */
    public INDArray forward(KvCache cache, int[][] tokens, boolean[][] mask, boolean allPositions) {
        return forward(cache, tokens, mask, allPositions, false);
    }

    /**
     * As {@link #forward(KvCache, int[][], boolean[][], boolean) forward(cache, tokens, mask, false)}, the next-token
     * logits of each row's last new position as Java rows [B][V]. The native logits buffer is kept from one call to
     * the next of the same batch size: a decoding step's fresh [B, V] buffer cost page faults on the benchmark VM
     * (~0.7 ms a step at batch 1 against a 10 ms int8 step).
     */
    public float[][] nextLogits(KvCache cache, int[][] tokens, boolean[][] mask) {
        INDArray logits = forward(cache, tokens, mask, false, true);
        int b = (int) logits.size(0);
        int v = (int) logits.size(1);
        float[][] out = new float[b][v];
        if (logits.dataType() == DataType.FLOAT && HostBuffers.isDense(logits)) {
            FloatBuffer all = HostBuffers.window(logits, 0, b * v);
            for (int r = 0; r < b; r++) {
                all.get(r * v, out[r]);
            }
        } else {
            float[] flat = logits.castTo(DataType.FLOAT).dup('c').data().asFloat();
            for (int r = 0; r < b; r++) {
                System.arraycopy(flat, r * v, out[r], 0, v);
            }
        }
        return out;
    }

    private INDArray forward(KvCache cache, int[][] tokens, boolean[][] mask, boolean allPositions,
                             boolean keepLogits) {
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
        int virtual = cache.length() == adapters.prefixLength() ? adapters.softPromptLength() : 0;
        boolean[] isVirtual = null;
        if (virtual > 0) {
            // the soft prompt goes after each row's left padding, in front of its first real token
            int[][] extended = new int[b][n + virtual];
            boolean[][] extendedMask = new boolean[b][n + virtual];
            isVirtual = new boolean[b * (n + virtual)];
            for (int r = 0; r < b; r++) {
                int lead = 0;
                while (lead < n && mask != null && !mask[r][lead]) {
                    lead++;
                }
                for (int i = 0, j = 0; j < n + virtual; j++) {
                    boolean soft = j >= lead && j < lead + virtual;
                    extended[r][j] = soft ? Embedding.virtualId(j - lead) : tokens[r][i];
                    extendedMask[r][j] = soft || mask == null || mask[r][i];
                    isVirtual[r * (n + virtual) + j] = soft;
                    i += soft ? 0 : 1;
                }
            }
            tokens = extended;
            mask = extendedMask;
            n += virtual;
            ids = new int[b * n];
            for (int r = 0; r < b; r++) {
                System.arraycopy(tokens[r], 0, ids, r * n, n);
            }
        }
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
        boolean step = n == 1;
        Activations a = step ? decodeActivations : promptActivations;
        if (a == null || !a.fitsInference(b, n)) {
            a = new Activations(config, dataType, b, n, start + n);
            // kept for the next decoding step (one new position per row, ~16 buffers a step otherwise), and a short
            // prompt's for the next prompt of its shape (fresh native memory costs page faults: ~10 ms of a 16-token
            // prompt's on the benchmark VM); longer passes' larger buffers are not kept
            if (step) {
                decodeActivations = a;
            } else {
                promptActivations = (long) b * n <= KEPT_PROMPT_ROWS ? a : null;
            }
        }
        forwardLayers(p, ids, pos, a, layers(cache));
        if (allPositions) {
            INDArray x = a.lnfOut;
            if (isVirtual != null) {
                int[] keep = new int[b * (n - virtual)];
                for (int i = 0, k = 0; i < isVirtual.length; i++) {
                    if (!isVirtual[i]) {
                        keep[k++] = i;
                    }
                }
                x = Nd4j.pullRows(x, 1, keep);
            }
            INDArray logits = Nd4j.create(dataType, x.rows(), config.vocabSize());
            head.forward(x, logits);
            return logits.reshape(b, n - virtual, config.vocabSize());
        }
        int[] last = new int[b];
        for (int r = 0; r < b; r++) {
            last[r] = r * n + n - 1;
        }
        INDArray x = n == 1 ? a.lnfOut : Nd4j.pullRows(a.lnfOut, 1, last);
        INDArray logits = keepLogits && keptLogits != null && keptLogits.rows() == b ? keptLogits
                : Nd4j.create(dataType, b, config.vocabSize());
        if (keepLogits) {
            keptLogits = logits;
        }
        head.forward(x, logits);
        return logits;
    }

    // -------------------------------------------------------------------------------------- the network itself

    private void forwardLayers(Pass p, int[] ids, int[] pos, Activations a, KvCache.Layer[] kv) {
        embedding.forward(ids, pos, a.resid(0), adapters.softPrompt());                // x_0 [R, C]
        a.embeddingMask = null;
        if (p.dropout(config.embeddingDropout())) {
            a.embeddingMask = p.mask(config.embeddingDropout(), Pass.EMBEDDING_SITE, p.rows, config.embeddingSize());
            a.resid(0).muli(a.embeddingMask);
        }
        for (int l = 0; l < config.layers(); l++) {
            blocks[l].forward(p, a.resid(l), a.block(l), kv[l], a.resid(l + 1));     // x_{l+1} [R, C]
        }
        lnF.forward(a.resid(config.layers()), a.lnfOut, a.lnfMean, a.lnfRstd);      // [R, C]
        adapters.afterFinalNorm().ifPresent(adapter -> adapter.forward(a.lnfOut, p));
    }

    @Override
    public String toString() {
        return "GptModel[" + config + ", " + parameterCount() + " parameters, " + dataType
                + (weightFormat == WeightFormat.FP32 ? "" : ", " + weightFormat.id() + " weights")
                + (decodingLayout ? ", decoding layout" : "")
                + (frozen ? ", frozen" : "") + (adapters.isEmpty() ? "" : ", with adapters") + "]";
    }
}
