package dev.attune.finetune.peft;

import dev.attune.core.model.GptModel;
import dev.attune.finetune.peft.lora.LoraConfig;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Parameter-efficient fine-tuning, the entry point:
 *
 * <pre>{@code
 * PeftModel peft = Peft.lora().rank(8).alpha(16).dropout(0.05).targets("c_attn", "c_proj").build().apply(model);
 * PeftModel again = Peft.load(model, Path.of("adapter"));      // an adapter Attune or Python's PEFT saved
 * }</pre>
 *
 * Each method has a config record with a fluent builder ({@code build()} validates) and a layer that plugs into
 * the model's adapter slots; adapters are saved in PEFT's directory layout.
 */
public final class Peft {

    private Peft() {
    }

    /** LoRA: low-rank updates {@code scaling * B A} beside the chosen projections. */
    public static LoraConfig.Builder lora() {
        return LoraConfig.builder();
    }

    /** AdaLoRA: LoRA in SVD form whose rank budget the training reallocates to the most important modules. */
    public static dev.attune.finetune.peft.adalora.AdaLoraConfig.Builder adaLora() {
        return dev.attune.finetune.peft.adalora.AdaLoraConfig.builder();
    }

    /** IA3: learned vectors rescaling the attention projection's output and the MLP's second input. */
    public static dev.attune.finetune.peft.ia3.IA3Config.Builder ia3() {
        return dev.attune.finetune.peft.ia3.IA3Config.builder();
    }

    /** Prompt tuning: learned embeddings in front of every row's tokens. */
    public static dev.attune.finetune.peft.prompt.PromptTuningConfig.Builder promptTuning() {
        return dev.attune.finetune.peft.prompt.PromptTuningConfig.builder();
    }

    /** Prefix tuning: learned key/value positions in front of every row, in every layer. */
    public static dev.attune.finetune.peft.prefix.PrefixTuningConfig.Builder prefixTuning() {
        return dev.attune.finetune.peft.prefix.PrefixTuningConfig.builder();
    }

    /** Bottleneck adapters (Houlsby, Pfeiffer) on the blocks' branch outputs; not a PEFT method. */
    public static dev.attune.finetune.peft.bottleneck.BottleneckConfig.Builder bottleneck() {
        return dev.attune.finetune.peft.bottleneck.BottleneckConfig.builder();
    }

    /** Freezes {@code base} and loads the adapter saved in {@code directory} onto it. */
    public static PeftModel load(GptModel base, Path directory) throws IOException {
        return PeftModel.load(base, directory);
    }

    /** The config in {@code directory/adapter_config.json}. */
    public static AdapterConfig readConfig(Path directory) throws IOException {
        return AdapterFiles.readConfig(directory);
    }
}
