package dev.attune.finetune.peft;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A task head saved with an adapter, as PEFT's {@code modules_to_save}: the head's tensors under their names in the
 * Hugging Face task model ({@code score.weight} of {@code GPT2ForSequenceClassification}, {@code classifier.weight}
 * and {@code classifier.bias} of {@code GPT2ForTokenClassification}, ...), and the {@code task_type} written to
 * {@code adapter_config.json} ({@code SEQ_CLS}, {@code TOKEN_CLS}), which tells PEFT which task model to build.
 *
 * <p>In {@code adapter_model.safetensors} the tensors sit beside the adapter's under PEFT's keys:
 * {@code base_model.model.score.weight} for LoRA, AdaLoRA, IA3 and bottleneck adapters, {@code base_model.score.weight}
 * for prompt and prefix tuning (whose adapters are not wrapped in a tuner model); {@code modules_to_save} lists the
 * modules ({@code ["score"]}). Written by {@link PeftModel#save(java.nio.file.Path, ModulesToSave)}, read by
 * {@link AdapterFiles#readModulesToSave}.
 *
 * @param taskType PEFT's {@code task_type}, e.g. {@code SEQ_CLS}
 * @param tensors  tensor name ({@code module.parameter}) to value, in a fixed order; the arrays are not copied
 */
public record ModulesToSave(String taskType, Map<String, INDArray> tensors) {

    /** Module names of the base language model, which stay frozen and are never saved with an adapter. */
    private static final Set<String> BASE_MODULES = Set.of("transformer", "lm_head", "wte", "wpe", "h", "ln_1", "attn",
            "ln_2", "mlp", "ln_f", "c_attn", "c_proj", "c_fc");

    public ModulesToSave {
        if (taskType == null || taskType.isBlank()) {
            throw new IllegalArgumentException("modules to save need a task type (PEFT's task_type, e.g. SEQ_CLS)");
        }
        if (tensors == null || tensors.isEmpty()) {
            throw new IllegalArgumentException("modules to save need at least one tensor");
        }
        for (String name : tensors.keySet()) {
            int dot = name.lastIndexOf('.');
            if (dot <= 0 || dot == name.length() - 1) {
                throw new IllegalArgumentException("tensor name \"" + name + "\" is not module.parameter (e.g. "
                        + "score.weight)");
            }
            requireHeadModule(name.substring(0, dot));
        }
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /** The modules, in order: {@code score} for {@code score.weight}. */
    public List<String> modules() {
        List<String> out = new ArrayList<>();
        for (String name : tensors.keySet()) {
            String module = name.substring(0, name.lastIndexOf('.'));
            if (!out.contains(module)) {
                out.add(module);
            }
        }
        return out;
    }

    /** The named tensor; an error naming the tensors there are when it is missing. */
    public INDArray tensor(String name) {
        INDArray t = tensors.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no saved tensor " + name + "; the adapter's modules_to_save hold "
                    + tensors.keySet());
        }
        return t;
    }

    /**
     * Refuses a module of the base language model: a task head sits outside it. (PEFT could save {@code lm_head}, but
     * GPT-2's is tied to the token embedding, which Attune keeps frozen and never writes beside an adapter.)
     */
    static void requireHeadModule(String module) {
        for (String part : module.split("\\.")) {
            if (BASE_MODULES.contains(part) || part.chars().allMatch(Character::isDigit)) {
                throw new IllegalArgumentException("module \"" + module + "\" is part of the base language model; "
                        + "modules_to_save holds task heads outside it (score, classifier)");
            }
        }
    }
}
