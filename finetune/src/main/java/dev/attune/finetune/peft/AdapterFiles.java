package dev.attune.finetune.peft;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.attune.core.io.AtomicFiles;
import dev.attune.core.io.ModelFileException;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.io.SafeTensorsWriter;
import dev.attune.core.io.TensorInfo;
import dev.attune.core.model.GptModel;
import dev.attune.finetune.peft.adalora.AdaLoraConfig;
import dev.attune.finetune.peft.bottleneck.BottleneckConfig;
import dev.attune.finetune.peft.ia3.IA3Config;
import dev.attune.finetune.peft.lora.LoraConfig;
import dev.attune.finetune.peft.prefix.PrefixTuningConfig;
import dev.attune.finetune.peft.prompt.PromptTuningConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * PEFT's adapter directory: {@code adapter_config.json} and {@code adapter_model.safetensors}, as
 * {@code save_pretrained} writes them, so adapters move between Attune and Python's PEFT unchanged; a task head saved
 * with the adapter ({@code modules_to_save}) is read and written here too ({@link ModulesToSave}).
 */
public final class AdapterFiles {

    public static final String CONFIG_FILE = "adapter_config.json";
    public static final String WEIGHTS_FILE = "adapter_model.safetensors";

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** The config key listing a task head's modules. */
    static final String MODULES_TO_SAVE = "modules_to_save";

    /** peft_type -> reader of its adapter_config.json. */
    private static final Map<String, Function<JsonNode, AdapterConfig>> READERS = new LinkedHashMap<>();

    static {
        READERS.put(LoraConfig.PEFT_TYPE, LoraConfig::fromJson);
        READERS.put(AdaLoraConfig.PEFT_TYPE, AdaLoraConfig::fromJson);
        READERS.put(IA3Config.PEFT_TYPE, IA3Config::fromJson);
        READERS.put(PromptTuningConfig.PEFT_TYPE, PromptTuningConfig::fromJson);
        READERS.put(PrefixTuningConfig.PEFT_TYPE, PrefixTuningConfig::fromJson);
        READERS.put(BottleneckConfig.PEFT_TYPE, BottleneckConfig::fromJson);
    }

    private AdapterFiles() {
    }

    /** The {@code peft_type} values Attune reads. */
    public static List<String> supportedTypes() {
        return List.copyOf(READERS.keySet());
    }

    /**
     * Reads {@code directory/adapter_config.json}; an unsupported or missing {@code peft_type} is an error. A task head
     * listed in {@code modules_to_save} is not part of the method's config: {@link #readModulesToSave} reads it.
     */
    public static AdapterConfig readConfig(Path directory) throws IOException {
        Path file = directory.resolve(CONFIG_FILE);
        try {
            return parseConfig(readJson(directory));
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file, e.getMessage(), e);
        }
    }

    /**
     * The config an {@code adapter_config.json} text describes (as {@link #readConfig} reads it from a file), e.g.
     * {@code config.toJson().toString()} kept in a string setting; an unsupported or missing {@code peft_type} is an
     * error.
     */
    public static AdapterConfig configFromJson(String json) {
        JsonNode node;
        try {
            node = JSON.readTree(json);
        } catch (IOException e) {
            throw new IllegalArgumentException("adapter config is not valid JSON: " + e.getMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("adapter config must be a JSON object, got " + json);
        }
        return parseConfig((com.fasterxml.jackson.databind.node.ObjectNode) node);
    }

    private static AdapterConfig parseConfig(com.fasterxml.jackson.databind.node.ObjectNode json) {
        JsonNode type = json.get("peft_type");
        if (type == null || !type.isTextual()) {
            throw new IllegalArgumentException("no \"peft_type\" string: is this an adapter_config.json? (Attune "
                    + "reads peft_type " + String.join(", ", supportedTypes()) + ")");
        }
        Function<JsonNode, AdapterConfig> reader = READERS.get(type.asText());
        if (reader == null) {
            throw new IllegalArgumentException("peft_type \"" + type.asText() + "\" is not supported; Attune reads "
                    + String.join(", ", supportedTypes()));
        }
        moduleNames(json);
        com.fasterxml.jackson.databind.node.ObjectNode copy = json.deepCopy();
        copy.remove(MODULES_TO_SAVE);
        return reader.apply(copy);
    }

    private static com.fasterxml.jackson.databind.node.ObjectNode readJson(Path directory) throws IOException {
        Path file = directory.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(file)) {
            throw new ModelFileException(directory, "not an adapter directory: " + CONFIG_FILE + " is missing");
        }
        JsonNode json;
        try {
            json = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new ModelFileException(file, "not valid JSON: " + e.getMessage(), e);
        }
        if (json == null || !json.isObject()) {
            throw new ModelFileException(file, "expected a JSON object");
        }
        return (com.fasterxml.jackson.databind.node.ObjectNode) json;
    }

    /**
     * The distinct task-head module names of {@code modules_to_save} (PEFT may list one twice); base modules trained
     * with the adapter ({@link BaseModules}) are read by {@link #readBaseModules}.
     */
    private static List<String> moduleNames(JsonNode json) {
        return listedModules(json, false);
    }

    /** The distinct base-module names of {@code modules_to_save} ({@code wte}, {@code ln_f}, ...). */
    private static List<String> baseModuleNames(JsonNode json) {
        return listedModules(json, true);
    }

    private static List<String> listedModules(JsonNode json, boolean base) {
        JsonNode list = json.get(MODULES_TO_SAVE);
        List<String> names = new ArrayList<>();
        if (list == null || list.isNull()) {
            return names;
        }
        if (!list.isArray()) {
            throw new IllegalArgumentException(MODULES_TO_SAVE + " must be a list of module names, got " + list);
        }
        for (JsonNode n : list) {
            if (!n.isTextual()) {
                throw new IllegalArgumentException(MODULES_TO_SAVE + " must be a list of module names, got " + list);
            }
            if (BaseModules.isBaseModule(n.asText()) != base) {
                continue;
            }
            if (!base) {
                ModulesToSave.requireHeadModule(n.asText());
            }
            if (!names.contains(n.asText())) {
                names.add(n.asText());
            }
        }
        return names;
    }

    /**
     * The task head saved with the adapter in {@code directory} (PEFT's {@code modules_to_save}), or empty when the
     * config lists none. PEFT lists the modules a task may have ({@code ["classifier", "score"]} for SEQ_CLS) and
     * saves those the model has; a saved head tensor whose module is not listed, or a list with none of its tensors
     * saved, is an error.
     */
    public static java.util.Optional<ModulesToSave> readModulesToSave(Path directory) throws IOException {
        Path file = directory.resolve(CONFIG_FILE);
        com.fasterxml.jackson.databind.node.ObjectNode json = readJson(directory);
        List<String> modules;
        List<String> baseModules;
        try {
            modules = moduleNames(json);
            baseModules = baseModuleNames(json);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file, e.getMessage(), e);
        }
        String prefix = moduleKeyPrefix(json.path("peft_type").asText());
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        try (SafeTensors weights = openWeights(directory)) {
            for (String key : weights.names()) {
                if (!isModuleKey(key) || BaseModules.isBaseModuleKey(key, baseModules)) {
                    continue;
                }
                String name = key.startsWith(prefix) ? key.substring(prefix.length()) : null;
                String module = name == null || name.lastIndexOf('.') <= 0 ? null
                        : name.substring(0, name.lastIndexOf('.'));
                if (module == null || !modules.contains(module)) {
                    throw new ModelFileException(weights.path(), "tensor " + key + " is not the adapter's and not "
                            + "one of the modules " + CONFIG_FILE + " lists in " + MODULES_TO_SAVE + " " + modules
                            + " (expected keys " + prefix + "<module>.<parameter>)");
                }
                tensors.put(name, weights.read(key).castTo(DataType.FLOAT));
            }
            if (tensors.isEmpty() && !modules.isEmpty()) {
                throw new ModelFileException(weights.path(), CONFIG_FILE + " lists " + MODULES_TO_SAVE + " " + modules
                        + " but none of their tensors (" + prefix + "<module>.<parameter>) is saved");
            }
        }
        if (tensors.isEmpty()) {
            return java.util.Optional.empty();
        }
        String task = java.util.Objects.requireNonNullElse(ConfigJson.textOrNull(json, "task_type"), "SEQ_CLS");
        return java.util.Optional.of(new ModulesToSave(task, tensors));
    }

    /**
     * The base-model tensors trained with the adapter in {@code directory} and saved with it ({@link BaseModules}),
     * by Attune's names ({@code ln_f.weight}), or an empty map when {@code modules_to_save} lists no base module. Each
     * must have {@code base}'s shape; a saved one whose module is not listed, or a listed module with no tensor
     * saved, is an error.
     */
    public static Map<String, INDArray> readBaseModules(Path directory, GptModel base) throws IOException {
        Path file = directory.resolve(CONFIG_FILE);
        com.fasterxml.jackson.databind.node.ObjectNode json = readJson(directory);
        List<String> modules;
        try {
            modules = baseModuleNames(json);
        } catch (IllegalArgumentException e) {
            throw new ModelFileException(file, e.getMessage(), e);
        }
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        boolean head = modules.contains(BaseModules.TIED_HEAD);
        List<String> trained = modules.stream().filter(m -> !m.equals(BaseModules.TIED_HEAD)).toList();
        if (head != trained.contains("wte")) {
            throw new ModelFileException(file, MODULES_TO_SAVE + " " + modules + ": Attune's GPT-2 ties the output "
                    + "layer (lm_head) to the token embedding (wte), so it trains and reads both or neither");
        }
        try (SafeTensors weights = openWeights(directory)) {
            List<String> expected = BaseModules.tensorNames(base, trained);
            INDArray lmHead = null;
            for (String key : weights.names()) {
                if (!BaseModules.isBaseModuleKey(key, modules)) {
                    continue;
                }
                if (key.equals(BaseModules.TIED_HEAD_KEY)) {
                    lmHead = weights.read(key).castTo(DataType.FLOAT);
                    continue;
                }
                String name = BaseModules.tensorName(key);
                if (!expected.contains(name)) {
                    throw new ModelFileException(weights.path(), "tensor " + key + " is not one of the base model's "
                            + "tensors in " + MODULES_TO_SAVE + " " + modules);
                }
                INDArray t = weights.read(key).castTo(DataType.FLOAT);
                if (!Arrays.equals(t.shape(), base.parameterShape(name))) {
                    throw new ModelFileException(weights.path(), "tensor " + key + " has shape "
                            + Arrays.toString(t.shape()) + ", the base model's " + name + " is "
                            + Arrays.toString(base.parameterShape(name)));
                }
                tensors.put(name, t);
            }
            List<String> missing = expected.stream().filter(n -> !tensors.containsKey(n)).toList();
            if (!missing.isEmpty()) {
                throw new ModelFileException(weights.path(), CONFIG_FILE + " lists " + MODULES_TO_SAVE + " " + modules
                        + " but these of their tensors are not saved: " + missing);
            }
            if (head && (lmHead == null || !lmHead.equals(tensors.get("wte.weight")))) {
                throw new ModelFileException(weights.path(), lmHead == null ? "lists lm_head in " + MODULES_TO_SAVE
                        + " but " + BaseModules.TIED_HEAD_KEY + " is not saved" : BaseModules.TIED_HEAD_KEY
                        + " differs from the saved wte; Attune's GPT-2 ties the output layer to the embedding and "
                        + "cannot load an adapter that trained them apart");
            }
        }
        return tensors;
    }

    /**
     * Where PEFT keeps modules_to_save tensors: under the tuner model for LoRA-like methods
     * ({@code base_model.model.score.weight}), under the task model itself for prompt learning
     * ({@code base_model.score.weight}).
     */
    static String moduleKeyPrefix(String peftType) {
        return peftType.equals(PromptTuningConfig.PEFT_TYPE) || peftType.equals(PrefixTuningConfig.PEFT_TYPE)
                ? "base_model." : "base_model.model.";
    }

    /** Whether a weights-file key is a task head's rather than an adapter's (whose keys sit in the transformer). */
    static boolean isModuleKey(String key) {
        return key.startsWith("base_model.") && !key.startsWith("base_model.model.transformer.");
    }

    /** Opens {@code directory/adapter_model.safetensors} (PEFT's older {@code adapter_model.bin} is refused). */
    public static SafeTensors openWeights(Path directory) throws IOException {
        Path file = directory.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(file)) {
            if (Files.isRegularFile(directory.resolve("adapter_model.bin"))) {
                throw new ModelFileException(directory, "holds adapter_model.bin (a PyTorch pickle), which Attune "
                        + "does not read; save it with safe_serialization=True to get " + WEIGHTS_FILE);
            }
            throw new ModelFileException(directory, WEIGHTS_FILE + " is missing");
        }
        return SafeTensors.open(file);
    }

    /**
     * Writes the adapter into {@code directory} (created if missing; the two files replaced atomically): the
     * config and the tensors under PEFT's key names, float32.
     */
    public static void write(Path directory, Adapter adapter, GptModel base) throws IOException {
        write(directory, adapter, base, null);
    }

    /**
     * Writes the adapter and, unless {@code modules} is null, a task head with it as PEFT does: its tensors under
     * {@link #moduleKeyPrefix} keys, its modules in {@code modules_to_save} and its task in {@code task_type}.
     */
    public static void write(Path directory, Adapter adapter, GptModel base, ModulesToSave modules) throws IOException {
        Files.createDirectories(directory);
        SafeTensorsWriter writer = SafeTensors.writer().metadata("format", "pt");
        for (Map.Entry<String, INDArray> e : adapter.stateDict(base).entrySet()) {
            INDArray t = e.getValue();
            writer.add(e.getKey(), t.dataType() == DataType.FLOAT ? t : t.castTo(DataType.FLOAT));
        }
        com.fasterxml.jackson.databind.node.ObjectNode json = adapter.configJson();
        if (modules != null) {
            String prefix = moduleKeyPrefix(adapter.config().peftType());
            for (Map.Entry<String, INDArray> e : modules.tensors().entrySet()) {
                INDArray t = e.getValue();
                writer.add(prefix + e.getKey(), t.dataType() == DataType.FLOAT ? t : t.castTo(DataType.FLOAT));
            }
            json.put("task_type", modules.taskType());
            com.fasterxml.jackson.databind.node.ArrayNode list = json.putArray(MODULES_TO_SAVE);
            modules.modules().forEach(list::add);
        }
        writer.write(directory.resolve(WEIGHTS_FILE));
        AtomicFiles.write(directory.resolve(CONFIG_FILE), JSON.writeValueAsBytes(json));
    }

    /**
     * Writes the adapter and the base-model tensors trained with it ({@code baseTensors}, by Attune's names, from
     * the {@code modules} listed), as PEFT's {@code save_pretrained} does for a causal language model with
     * {@code modules_to_save}: the tensors under {@code base_model.model.transformer.<name>}, the modules in
     * {@code modules_to_save}; with the token embedding, the output layer tied to it too ({@link BaseModules}).
     */
    static void writeWithBaseModules(Path directory, Adapter adapter, GptModel base, List<String> modules,
                                     Map<String, INDArray> baseTensors) throws IOException {
        if (!moduleKeyPrefix(adapter.config().peftType()).equals("base_model.model.")) {
            throw new IllegalArgumentException(adapter.config().peftType() + " adapters cannot save base modules "
                    + "(PEFT keeps them beside LoRA-like adapters only)");
        }
        Files.createDirectories(directory);
        SafeTensorsWriter writer = SafeTensors.writer().metadata("format", "pt");
        for (Map.Entry<String, INDArray> e : adapter.stateDict(base).entrySet()) {
            INDArray t = e.getValue();
            writer.add(e.getKey(), t.dataType() == DataType.FLOAT ? t : t.castTo(DataType.FLOAT));
        }
        for (Map.Entry<String, INDArray> e : baseTensors.entrySet()) {
            INDArray t = e.getValue();
            writer.add(BaseModules.KEY_PREFIX + e.getKey(), t.dataType() == DataType.FLOAT ? t
                    : t.castTo(DataType.FLOAT));
        }
        if (modules.contains("wte")) {
            writer.add(BaseModules.TIED_HEAD_KEY, baseTensors.get("wte.weight").castTo(DataType.FLOAT));
        }
        com.fasterxml.jackson.databind.node.ObjectNode json = adapter.configJson();
        com.fasterxml.jackson.databind.node.ArrayNode list = json.putArray(MODULES_TO_SAVE);
        BaseModules.listed(modules).forEach(list::add);
        writer.write(directory.resolve(WEIGHTS_FILE));
        AtomicFiles.write(directory.resolve(CONFIG_FILE), JSON.writeValueAsBytes(json));
    }

    /** The base modules the config beside {@code file} lists in {@code modules_to_save}; none without a config. */
    private static List<String> baseModulesListedBeside(SafeTensors file) {
        Path directory = file.path().toAbsolutePath().getParent();
        if (directory == null || !Files.isRegularFile(directory.resolve(CONFIG_FILE))) {
            return List.of();
        }
        try {
            return baseModuleNames(readJson(directory));
        } catch (IOException | IllegalArgumentException e) {
            return List.of(); // readConfig and readBaseModules report a bad config
        }
    }

    /**
     * Checks that {@code file} holds exactly the tensors {@code expected} names, with those shapes (beside any task
     * head's, which {@link #readModulesToSave} checks); every problem is listed at once. A shape mismatch means the adapter was made for a base model of another shape.
     */
    public static void checkTensors(SafeTensors file, Map<String, long[]> expected) throws ModelFileException {
        List<String> problems = new ArrayList<>();
        List<String> baseModules = baseModulesListedBeside(file);
        for (Map.Entry<String, long[]> e : expected.entrySet()) {
            if (!file.contains(e.getKey())) {
                problems.add("missing tensor " + e.getKey() + " " + Arrays.toString(e.getValue()));
                continue;
            }
            TensorInfo info = file.info(e.getKey());
            if (!Arrays.equals(info.shape(), e.getValue())) {
                problems.add("tensor " + e.getKey() + " has shape " + Arrays.toString(info.shape()) + ", expected "
                        + Arrays.toString(e.getValue()));
            }
        }
        for (String name : file.names()) {
            // a task head's or a base module's: readModulesToSave and readBaseModules check them
            if (!expected.containsKey(name) && !isModuleKey(name) && !BaseModules.isBaseModuleKey(name, baseModules)) {
                problems.add("unexpected tensor " + name);
            }
        }
        if (!problems.isEmpty()) {
            boolean shapes = problems.stream().anyMatch(p -> p.contains("has shape"));
            throw new ModelFileException(file.path(), String.join("; ", problems)
                    + (shapes ? " (was the adapter made for a base model of another shape?)" : ""));
        }
    }
}
