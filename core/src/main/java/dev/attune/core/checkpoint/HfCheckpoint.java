package dev.attune.core.checkpoint;
import dev.attune.core.io.DType;
import dev.attune.core.io.ModelFileException;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.io.SafeTensorsWriter;
import dev.attune.core.io.TensorInfo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.config.GptConfig;
import dev.attune.core.engine.Engine;
import dev.attune.core.model.CompressedTensor;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.WeightFormat;
import org.nd4j.linalg.api.buffer.DataType;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.conditions.Conditions;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Hugging Face GPT-2 checkpoint directories: {@code config.json} plus {@code model.safetensors} (or the shards a
 * {@code model.safetensors.index.json} lists), as {@code save_pretrained} writes them.
 *
 * <p>Reading accepts tensor names with or without the {@code transformer.} prefix, F32, F16, BF16 or F64 data,
 * ignores the {@code attn.bias} / {@code attn.masked_bias} causal-mask buffers of older files, and accepts an
 * explicit {@code lm_head.weight} only if it equals {@code wte.weight} (Attune ties the two, as GPT-2 does). Any
 * other tensor is rejected rather than silently dropped: a file with extra weights (a classification head, another
 * architecture) is not the model its config describes. Every expected tensor must be present with the shape the
 * config implies; the error lists all that differ.
 *
 * <p>Compressed models ({@link GptModel#compressed(WeightFormat)}) are saved in the same layout, names and shapes:
 * <ul>
 *   <li>bf16: the compressed matrices ({@code wte} and the four projection weights of every layer) as {@code BF16}
 *       tensors, everything else {@code F32}. Hugging Face's {@code from_pretrained} loads such a file as it is.</li>
 *   <li>int8: each compressed matrix as an {@code I8} tensor of its usual shape plus a {@code F32} tensor named
 *       after it with {@code _scale} appended ({@code transformer.h.0.attn.c_attn.weight_scale}), the per-block
 *       scales, as in the compressed-tensors convention: the weight's shape with its input axis (the first of a
 *       Conv1D weight, the second of {@code wte}) divided by the block size, rounded up. Float values are
 *       {@code q * scale} of the block. The block size is the metadata entry {@code "attune.int8_block_size"}
 *       (32 as Attune writes it). Other tools need that one multiplication to read it (transformers has no loader
 *       for this layout).</li>
 * </ul>
 * The weights file's {@code __metadata__} says {@code "attune.weight_format": "bf16" | "int8"}. Any checkpoint loads
 * in any format ({@link #load(Path, WeightFormat)}): stored values are kept bit for bit when the formats match,
 * converted otherwise (int8 dequantized, float quantized).
 */
public final class HfCheckpoint {

    /** The config file of a checkpoint directory. */
    public static final String CONFIG_FILE = "config.json";
    /** The weights file Attune reads and writes. */
    public static final String WEIGHTS_FILE = "model.safetensors";
    /** The index of a sharded checkpoint (read only). */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    /** The weights file's metadata key naming a compressed model's format. */
    public static final String WEIGHT_FORMAT_KEY = "attune.weight_format";
    /** The weights file's metadata key giving the int8 block size (32 when absent). */
    public static final String INT8_BLOCK_KEY = "attune.int8_block_size";
    /** Appended to an int8 tensor's name to name its scales. */
    public static final String SCALE_SUFFIX = "_scale";

    private static final int MAX_LISTED = 8;
    private static final ObjectMapper JSON = new ObjectMapper();

    private HfCheckpoint() {
    }

    /**
     * What a checkpoint directory holds, read from {@code config.json} and the safetensors headers without loading
     * any weights.
     *
     * @param directory      the checkpoint directory
     * @param config         the model config
     * @param parameterCount parameters of the model (the tied LM head counted once)
     * @param weightFiles    the safetensors files, in load order
     * @param weightBytes    their total size in bytes
     * @param tensors        every tensor as stored (names as in the files), in file order
     * @param dtypes         how many tensors are stored in each type
     * @param metadata       the {@code __metadata__} of the first weights file
     * @param ignored        stored tensors that are not parameters (mask buffers, a copy of the tied LM head)
     */
    public record Summary(Path directory, GptConfig config, long parameterCount, List<Path> weightFiles,
                          long weightBytes, List<TensorInfo> tensors, Map<DType, Integer> dtypes,
                          Map<String, String> metadata, List<String> ignored) {
        public Summary {
            weightFiles = List.copyOf(weightFiles);
            tensors = List.copyOf(tensors);
            dtypes = Collections.unmodifiableMap(new EnumMap<>(dtypes));
            metadata = Map.copyOf(metadata);
            ignored = List.copyOf(ignored);
        }
    }

    /**
     * Reads and checks a checkpoint directory's config and tensor headers without loading weights.
     *
     * @throws ModelFileException if the directory is not a GPT-2 checkpoint or its tensors do not match its config
     */
    public static Summary inspect(Path directory) throws IOException {
        try (Plan plan = Plan.of(directory)) {
            List<TensorInfo> all = new ArrayList<>();
            Map<DType, Integer> dtypes = new EnumMap<>(DType.class);
            long bytes = 0;
            List<Path> paths = new ArrayList<>();
            for (SafeTensors f : plan.files) {
                paths.add(f.path());
                bytes += f.fileSize();
                for (TensorInfo t : f.tensors()) {
                    all.add(t);
                    dtypes.merge(t.dtype(), 1, Integer::sum);
                }
            }
            return new Summary(directory, plan.config, GptModel.parameterCount(plan.config), paths, bytes, all,
                    dtypes, plan.files.get(0).metadata(), plan.ignored);
        }
    }

    /**
     * Loads a checkpoint directory into a new float32 model (F16, BF16 and F64 tensors are converted, int8 ones
     * dequantized).
     *
     * @throws ModelFileException if the directory is not a GPT-2 checkpoint, its tensors do not match its config
     *                            (every difference is listed), or an explicit {@code lm_head.weight} differs from
     *                            {@code wte.weight}
     */
    public static GptModel load(Path directory) throws IOException {
        return load(directory, WeightFormat.FP32);
    }

    /**
     * Loads a checkpoint directory into a new model holding its matrices in {@code format} (see
     * {@link GptModel#compressed}). Compressed tensors stored in that same format are taken bit for bit; others are
     * converted (float values quantized, int8 values dequantized).
     *
     * @throws ModelFileException as {@link #load(Path)}
     */
    public static GptModel load(Path directory, WeightFormat format) throws IOException {
        return load(directory, format, false);
    }

    /**
     * Loads a checkpoint directory for generation: as {@link #load(Path, WeightFormat)}, and a float32 model comes
     * laid out for decoding ({@link GptModel#forDecoding()}, about twice as fast a batch-1 decoding step on the CPU),
     * its projections transposed in place as they load ({@link GptModel#overForDecoding}), so memory holds one copy of
     * the weights. Compressed formats already decode from one row per output and load as {@code load} loads them; on
     * a backend other than ND4J's CPU one, float32 models do too.
     *
     * @throws ModelFileException as {@link #load(Path)}
     */
    public static GptModel loadForDecoding(Path directory, WeightFormat format) throws IOException {
        return load(directory, format, true);
    }

    private static GptModel load(Path directory, WeightFormat format, boolean forDecoding) throws IOException {
        try (Plan plan = Plan.of(directory)) {
            GptModel model = format == WeightFormat.FP32 ? loadThroughHost(plan) : null;
            if (model == null) {
                model = loadInPlace(plan, format);
            }
            if (forDecoding && format == WeightFormat.FP32 && Engine.isCpu()) {
                model = GptModel.overForDecoding(plan.config, model.parameters());
            }
            if (plan.lmHead != null) {
                checkTied(plan.lmHead, model.compressedTensors().isEmpty() ? model.parameter("wte.weight")
                        : storedValues(plan, "wte.weight"));
            }
            checkFinite(directory, model);
            return model;
        }
    }

    /**
     * A float32 model read into host memory of its own, without ND4J, and then handed to ND4J as it is; null where
     * that does not apply (a tensor stored as int8, more than 2 GB of weights, a backend other than the CPU's, not
     * enough direct memory), and the caller loads the model in place.
     *
     * <p>Why: a short command ({@code attune score}) starts ND4J on a second thread (its native libraries, about half
     * a second) and reaches the weights before ND4J is ready. Reading them into ND4J's arrays had to wait for it;
     * reading them here, into a direct buffer that becomes the model's flat parameter buffer, happens while ND4J
     * starts. The buffer is zeroed and so touched once, page by page, before the weights are decoded into it: fresh
     * memory is a page fault per 4 KB page, about 75 ms for 29 MB on the VMs this was measured on, which no longer
     * waits for ND4J either. One copy of the weights is held, as before.
     */
    static GptModel loadThroughHost(Plan plan) throws IOException {
        if (!plan.scales.isEmpty()) {
            return null;
        }
        for (Stored s : plan.tensors.values()) {
            if (!s.info().dtype().readable()) {
                return null;
            }
        }
        long count = GptModel.parameterCount(plan.config);
        ByteBuffer host = HostParameters.allocate(count);
        if (host == null) {
            return null;
        }
        // the flat layout: the tensors of parameterShapes one after the other, which is the order of plan.tensors
        for (Stored s : plan.tensors.values()) {
            s.file().readInto(s.info().name(), host);
        }
        if (host.position() != count * Float.BYTES) {
            throw new IllegalStateException("read " + host.position() / Float.BYTES + " weights for " + count);
        }
        INDArray parameters = HostParameters.wrap(host, count);  // waits for ND4J
        return parameters == null ? null : GptModel.over(plan.config, parameters);
    }

    /** The model in {@code format}, created empty by ND4J and filled tensor by tensor. */
    static GptModel loadInPlace(Plan plan, WeightFormat format) throws IOException {
        GptModel model = GptModel.zeros(plan.config, format);
        Map<String, CompressedTensor> packed = model.compressedTensors();
        for (Map.Entry<String, Stored> e : plan.tensors.entrySet()) {
            String name = e.getKey();
            Stored s = e.getValue();
            Stored scale = plan.scales.get(name);
            CompressedTensor target = packed.get(name);
            DType stored = s.info().dtype();
            if (target != null && stored == DType.I8 && format == WeightFormat.INT8) {
                target.load(s.file().readBytes(s.info().name()), scale.file().readFloats(scale.info().name()),
                        groupSize(s));
            } else if (target != null && stored == DType.BF16 && format == WeightFormat.BF16) {
                target.load(s.file().readBytes(s.info().name()), null, 0);
            } else {
                INDArray values = target == null ? model.parameter(name) : Nd4j.create(DataType.FLOAT,
                        s.info().shape());
                if (scale != null) {
                    values.assign(int8Values(name, s, scale));
                } else {
                    s.file().readInto(s.info().name(), values);
                }
                if (target != null) {
                    target.quantize(values);
                }
            }
        }
        return model;
    }

    /** The float values of a stored tensor (int8 dequantized). */
    private static INDArray storedValues(Plan plan, String name) throws IOException {
        Stored s = plan.tensors.get(name);
        Stored scale = plan.scales.get(name);
        return scale != null ? int8Values(name, s, scale) : s.file().read(s.info().name());
    }

    private static INDArray int8Values(String name, Stored weight, Stored scale) throws IOException {
        CompressedTensor t = CompressedTensor.zeros(name, WeightFormat.INT8, weight.info().shape());
        t.load(weight.file().readBytes(weight.info().name()), scale.file().readFloats(scale.info().name()),
                groupSize(weight));
        return t.dequantize();
    }

    /** The input axis of a compressed matrix: the first of a Conv1D weight {@code [in, out]}, the second of wte. */
    private static int inputAxis(String name) {
        return name.equals("wte.weight") ? 1 : 0;
    }

    /** The int8 block size a file declares ({@value WeightFormat#INT8_GROUP} when it does not). */
    private static int groupSize(Stored weight) throws ModelFileException {
        String declared = weight.file().metadata().get(INT8_BLOCK_KEY);
        if (declared == null) {
            return WeightFormat.INT8_GROUP;
        }
        try {
            int group = Integer.parseInt(declared.trim());
            if (group > 0) {
                return group;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new ModelFileException(weight.file().path(), "metadata " + INT8_BLOCK_KEY + " is '" + declared
                + "', not a positive block size");
    }

    /** The shape int8 scales must have: the weight's with the input axis divided into blocks, rounded up. */
    private static long[] scaleShape(String name, long[] weight, int group) {
        long[] s = weight.clone();
        int axis = inputAxis(name);
        s[axis] = (weight[axis] + group - 1) / group;
        return s;
    }

    /**
     * A NaN or infinite weight makes every output NaN, which downstream reads as "no loss" or "every token banned":
     * refuse it here, naming the tensors. One sum over the flat buffer finds out whether to look closer.
     */
    private static void checkFinite(Path directory, GptModel model) throws IOException {
        List<String> broken = new ArrayList<>();
        for (CompressedTensor t : model.compressedTensors().values()) {
            if (!t.isFinite()) {
                broken.add("'" + t.name() + "' (not finite " + (t.format() == WeightFormat.INT8 ? "scales)" : "values)"));
            }
        }
        if (broken.isEmpty() && Double.isFinite(model.parameters().sumNumber().doubleValue())) {
            return;
        }
        for (String name : model.parameterNames()) {
            if (model.compressedTensors().containsKey(name)) {
                continue;
            }
            INDArray t = model.parameter(name);
            long nan = Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition(
                    t, Conditions.isNan())).getLong(0);
            long inf = Nd4j.getExecutioner().exec(new org.nd4j.linalg.api.ops.impl.reduce.longer.MatchCondition(
                    t, Conditions.isInfinite())).getLong(0);
            if (nan + inf > 0) {
                broken.add("'" + name + "' (" + (nan > 0 ? nan + " NaN" : "") + (nan > 0 && inf > 0 ? ", " : "")
                        + (inf > 0 ? inf + " infinite" : "") + ")");
            }
        }
        if (broken.isEmpty()) {
            return; // finite weights whose float sum overflowed
        }
        throw new ModelFileException(directory, "holds weights that are not finite numbers: "
                + String.join(", ", broken.subList(0, Math.min(broken.size(), MAX_LISTED)))
                + (broken.size() > MAX_LISTED ? " and " + (broken.size() - MAX_LISTED) + " more tensors" : "")
                + "; the checkpoint is broken (a diverged run, or a damaged file)");
    }

    private static void checkTied(Stored lmHead, INDArray wte) throws IOException {
        INDArray head = lmHead.file().read(lmHead.info().name());
        double largest = Transforms.abs(head.subi(wte), false).maxNumber().doubleValue();
        if (!(largest == 0)) {
            throw new ModelFileException(lmHead.file().path(), "'" + lmHead.info().name()
                    + "' differs from wte.weight (largest difference " + largest + "): Attune ties the LM head to "
                    + "the token embedding, as GPT-2 does, and cannot load a separate head");
        }
    }

    /**
     * Saves a model as a checkpoint directory that {@code GPT2LMHeadModel.from_pretrained} loads unchanged:
     * {@code config.json} and a float32 {@code model.safetensors} with {@code transformer.}-prefixed names, Conv1D
     * weights {@code [in, out]}, no {@code lm_head.weight} (tied), and {@code __metadata__ {"format": "pt"}}. The
     * directory is created if needed; each file is replaced atomically, weights first. A compressed model is saved
     * with its compressed tensors as they are held (see the class comment), so it loads back bit for bit.
     */
    public static void save(GptModel model, Path directory) throws IOException {
        Files.createDirectories(directory);
        SafeTensorsWriter weights = SafeTensors.writer().metadata("format", "pt");
        Map<String, CompressedTensor> packed = model.compressedTensors();
        if (!packed.isEmpty()) {
            weights.metadata(WEIGHT_FORMAT_KEY, model.weightFormat().id());
            if (model.weightFormat() == WeightFormat.INT8) {
                weights.metadata(INT8_BLOCK_KEY, Integer.toString(WeightFormat.INT8_GROUP));
            }
        }
        for (String name : model.parameterNames()) {
            CompressedTensor t = packed.get(name);
            String stored = Gpt2Names.PREFIX + name;
            if (t == null) {
                weights.add(stored, model.parameter(name));
            } else if (t.format() == WeightFormat.BF16) {
                weights.addRaw(stored, DType.BF16, t.storedBytes(), t.shape());
            } else {
                weights.addRaw(stored, DType.I8, t.storedBytes(), t.shape());
                weights.add(stored + SCALE_SUFFIX, DType.F32, t.scales(), t.scaleShape());
            }
        }
        weights.write(directory.resolve(WEIGHTS_FILE));
        model.config().writeJson(directory.resolve(CONFIG_FILE));
    }


    /** Where one expected tensor is stored. */
    record Stored(SafeTensors file, TensorInfo info) {
    }

    /**
     * A checked mapping from the model's tensor names to where they are stored. Holds the open files: close it.
     */
    static final class Plan implements Closeable {
        final Path directory;
        final GptConfig config;
        final List<SafeTensors> files;
        final Map<String, Stored> tensors; // canonical name -> stored tensor, in the model's order
        final Map<String, Stored> scales;  // canonical name of an int8 tensor -> its scales
        final Stored lmHead;               // null when the file has none
        final List<String> ignored;

        private Plan(Path directory, GptConfig config, List<SafeTensors> files, Map<String, Stored> tensors,
                     Map<String, Stored> scales, Stored lmHead, List<String> ignored) {
            this.directory = directory;
            this.config = config;
            this.files = files;
            this.tensors = tensors;
            this.scales = scales;
            this.lmHead = lmHead;
            this.ignored = ignored;
        }

        static Plan of(Path directory) throws IOException {
            GptConfig config = readConfig(directory);
            List<SafeTensors> files = openWeights(directory);
            try {
                return match(directory, config, files);
            } catch (IOException | RuntimeException e) {
                closeAll(files);
                throw e;
            }
        }

        private static Plan match(Path directory, GptConfig config, List<SafeTensors> files)
                throws ModelFileException {
            Map<String, long[]> expected = GptModel.parameterShapes(config);
            Map<String, Stored> found = new LinkedHashMap<>();
            Map<String, Stored> scales = new LinkedHashMap<>();
            Set<String> compressible = new LinkedHashSet<>(GptModel.compressedNames(config));
            Stored lmHead = null;
            List<String> ignored = new ArrayList<>();
            List<String> unexpected = new ArrayList<>();
            List<String> problems = new ArrayList<>();
            Set<Integer> layers = new TreeSet<>();
            for (SafeTensors file : files) {
                for (TensorInfo t : file.tensors()) {
                    String name = Gpt2Names.canonical(t.name());
                    int layer = Gpt2Names.layerOf(name);
                    if (layer >= 0) {
                        layers.add(layer);
                    }
                    if (Gpt2Names.isMaskBuffer(name)) {
                        ignored.add(t.name());
                    } else if (name.equals(Gpt2Names.LM_HEAD)) {
                        if (lmHead != null) {
                            problems.add("'" + Gpt2Names.LM_HEAD + "' is stored twice");
                        }
                        lmHead = new Stored(file, t);
                        ignored.add(t.name());
                    } else if (name.endsWith(SCALE_SUFFIX) && compressible.contains(
                            name.substring(0, name.length() - SCALE_SUFFIX.length()))) {
                        if (scales.put(name.substring(0, name.length() - SCALE_SUFFIX.length()),
                                new Stored(file, t)) != null) {
                            problems.add("'" + name + "' is stored twice");
                        }
                    } else if (expected.containsKey(name)) {
                        Stored previous = found.put(name, new Stored(file, t));
                        if (previous != null) {
                            problems.add("'" + name + "' is stored twice, as '" + previous.info().name() + "' and '"
                                    + t.name() + "'");
                        }
                    } else {
                        unexpected.add(t.name());
                    }
                }
            }
            List<String> missing = new ArrayList<>();
            Map<String, Stored> ordered = new LinkedHashMap<>();
            for (Map.Entry<String, long[]> e : expected.entrySet()) {
                Stored s = found.get(e.getKey());
                if (s == null) {
                    missing.add(e.getKey());
                    continue;
                }
                ordered.put(e.getKey(), s);
                checkTensor(s, e.getValue(), problems, e.getKey(), scales.get(e.getKey()));
            }
            for (Map.Entry<String, Stored> e : scales.entrySet()) {
                Stored weight = found.get(e.getKey());
                if (weight != null && weight.info().dtype() != DType.I8) {
                    problems.add("'" + e.getValue().info().name() + "' scales '" + weight.info().name()
                            + "', which is stored as " + weight.info().dtype() + ", not I8");
                }
            }
            if (lmHead != null) {
                checkTensor(lmHead, expected.get("wte.weight"), problems, Gpt2Names.LM_HEAD, null);
            }
            if (!missing.isEmpty()) {
                problems.add(0, "missing tensor" + (missing.size() == 1 ? " " : "s ") + list(missing));
            }
            if (!unexpected.isEmpty()) {
                problems.add("unexpected tensor" + (unexpected.size() == 1 ? " " : "s ") + list(unexpected)
                        + " (a GPT-2 language model has only transformer.* weights; other heads are not loaded)");
            }
            if (!problems.isEmpty()) {
                StringBuilder message = new StringBuilder("does not match ").append(CONFIG_FILE).append(" (")
                        .append(describe(config)).append("): ");
                if (!layers.isEmpty() && layers.size() != config.layers()) {
                    message.append("config.json says n_layer=").append(config.layers()).append(" but the weights hold ")
                            .append(layers.size()).append(" layer").append(layers.size() == 1 ? "" : "s")
                            .append("; ");
                }
                message.append(String.join("; ", problems.subList(0, Math.min(problems.size(), MAX_LISTED))));
                if (problems.size() > MAX_LISTED) {
                    message.append("; and ").append(problems.size() - MAX_LISTED).append(" more problems");
                }
                throw new ModelFileException(files.get(0).path(), message.toString());
            }
            return new Plan(directory, config, files, ordered, scales, lmHead, ignored);
        }

        private static void checkTensor(Stored stored, long[] shape, List<String> problems, String name,
                                        Stored scale) throws ModelFileException {
            TensorInfo t = stored.info();
            if (!t.hasShape(shape)) {
                problems.add("'" + t.name() + "' has shape " + t.shapeString() + ", expected " + Arrays.toString(shape));
            }
            if (t.dtype() == DType.I8 && scale != null) {
                TensorInfo s = scale.info();
                if (!s.dtype().readable()) {
                    problems.add("'" + s.name() + "' is stored as " + s.dtype() + ", not a float type");
                }
                int group = groupSize(stored);
                long[] expected = scaleShape(name, shape, group);
                if (t.hasShape(shape) && !s.hasShape(expected)) {
                    problems.add("'" + s.name() + "' has shape " + s.shapeString() + ", expected "
                            + Arrays.toString(expected) + " (" + t.shapeString() + " with axis " + inputAxis(name)
                            + " in blocks of " + group + ")");
                }
            } else if (t.dtype() == DType.I8) {
                problems.add("'" + t.name() + "' is stored as I8 without its scales '" + t.name() + SCALE_SUFFIX + "'");
            } else if (!t.dtype().readable()) {
                problems.add("'" + t.name() + "' is stored as " + t.dtype() + ", not a float type");
            }
        }

        @Override
        public void close() throws IOException {
            closeAll(files);
        }
    }

    private static String describe(GptConfig c) {
        return "n_layer=" + c.layers() + ", n_head=" + c.heads() + ", n_embd=" + c.embeddingSize() + ", vocab_size="
                + c.vocabSize() + ", n_positions=" + c.contextLength()
                + (c.innerSize() != 4 * c.embeddingSize() ? ", n_inner=" + c.innerSize() : "");
    }

    private static String list(List<String> names) {
        String shown = String.join(", ", names.subList(0, Math.min(names.size(), MAX_LISTED)));
        return names.size() > MAX_LISTED ? shown + ", ... (" + names.size() + " in all)" : shown;
    }

    private static GptConfig readConfig(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new ModelFileException(directory, Files.exists(directory)
                    ? "not a directory (a checkpoint is a directory with config.json and model.safetensors)"
                    : "no such checkpoint directory");
        }
        Path config = directory.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(config)) {
            throw new ModelFileException(directory, "no " + CONFIG_FILE
                    + " (a Hugging Face checkpoint directory holds config.json and model.safetensors)");
        }
        return GptConfig.readJson(config);
    }

    private static List<SafeTensors> openWeights(Path directory) throws IOException {
        Path single = directory.resolve(WEIGHTS_FILE);
        if (Files.isRegularFile(single)) {
            return List.of(SafeTensors.open(single));
        }
        Path index = directory.resolve(INDEX_FILE);
        if (Files.isRegularFile(index)) {
            return openShards(directory, index);
        }
        if (Files.exists(directory.resolve("pytorch_model.bin"))) {
            throw new ModelFileException(directory, "holds pytorch_model.bin (a PyTorch pickle) but no "
                    + WEIGHTS_FILE + "; Attune reads safetensors only: in Python, "
                    + "model.save_pretrained(dir, safe_serialization=True) converts it");
        }
        throw new ModelFileException(directory, "no " + WEIGHTS_FILE + " (nor " + INDEX_FILE + ")");
    }

    private static List<SafeTensors> openShards(Path directory, Path index) throws IOException {
        JsonNode map = dev.attune.core.io.StrictJson.readFile(index).get("weight_map");
        if (map == null || !map.isObject() || map.isEmpty()) {
            throw new ModelFileException(index, "has no \"weight_map\" object");
        }
        Set<String> shards = new LinkedHashSet<>();
        map.elements().forEachRemaining(v -> shards.add(v.asText()));
        List<SafeTensors> files = new ArrayList<>();
        try {
            for (String shard : shards) {
                Path p = directory.resolve(shard).normalize();
                if (!p.startsWith(directory.normalize()) || shard.isEmpty()) {
                    throw new ModelFileException(index, "lists shard '" + shard + "' outside the directory");
                }
                try {
                    files.add(SafeTensors.open(p));
                } catch (NoSuchFileException e) {
                    throw new ModelFileException(index, "lists shard '" + shard + "', which does not exist");
                }
            }
            return files;
        } catch (IOException | RuntimeException e) {
            closeAll(files);
            throw e;
        }
    }

    private static void closeAll(List<SafeTensors> files) throws IOException {
        IOException first = null;
        for (SafeTensors f : files) {
            try {
                f.close();
            } catch (IOException e) {
                first = first == null ? e : first;
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
