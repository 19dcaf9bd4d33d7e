package dev.attune.examples.cli;

import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.finetune.peft.AdapterConfig;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.bottleneck.BottleneckConfig;
import dev.attune.finetune.peft.lora.LoraConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Help.Visibility;
import picocli.CommandLine.Option;

/** The {@code --adapter} directory of score and generate, and the {@code --method} options of finetune. */
final class AdapterOptions {

    private AdapterOptions() {
    }

    /** {@code model} with the adapter in {@code directory} attached (null: the model alone). */
    static GptModel withAdapter(GptModel model, Path directory) throws IOException {
        return directory == null ? model : Peft.load(model, directory).model();
    }

    /** The parameter-efficient options of {@code attune finetune} and {@code attune classify train}. */
    static final class MethodOptions {

        @Option(names = "--method", paramLabel = "M", defaultValue = "full",
                description = "full (every weight), lora, adalora, adapter (bottleneck), prefix, prompt or ia3; "
                        + "classify train and tag train also take head (the head alone)")
        String method;

        @Option(names = "--rank", paramLabel = "R", defaultValue = "8", description = "LoRA rank; AdaLoRA's target rank")
        int rank;

        @Option(names = "--init-rank", paramLabel = "R", defaultValue = "12", description = "AdaLoRA's starting rank")
        int initRank;

        @Option(names = "--alpha", paramLabel = "A", defaultValue = "16", description = "LoRA/AdaLoRA alpha")
        double alpha;

        @Option(names = "--lora-dropout", paramLabel = "P", defaultValue = "0.05", description = "LoRA dropout")
        double loraDropout;

        @Option(names = "--targets", paramLabel = "NAMES", split = ",", defaultValue = "c_attn",
                showDefaultValue = Visibility.NEVER,
                description = "modules to adapt, by name suffix (default c_attn; ia3: c_attn,mlp.c_proj)")
        String[] targets;

        @Option(names = "--rslora", description = "LoRA scaling alpha/sqrt(r)")
        boolean rsLora;

        @Option(names = "--bias", paramLabel = "MODE", defaultValue = "none",
                description = "LoRA: biases that train, none, lora_only (the targets') or all (every bias of the base)")
        String bias;

        @Option(names = "--virtual-tokens", paramLabel = "N", defaultValue = "20",
                description = "prefix/prompt tuning: virtual tokens")
        int virtualTokens;

        @Option(names = "--prompt-init-text", paramLabel = "TEXT",
                description = "prompt tuning: start from this text's embeddings")
        String promptInitText;

        @Option(names = "--reduction-factor", paramLabel = "F", defaultValue = "16",
                description = "bottleneck adapters: n_embd / width")
        int reductionFactor;

        @Option(names = "--variant", paramLabel = "V", defaultValue = "houlsby",
                description = "bottleneck adapters: houlsby or pfeiffer")
        String variant;

        boolean full() {
            return method.equalsIgnoreCase("full");
        }

        /**
         * The adapter config the options describe; {@code steps} lays out AdaLoRA's budget schedule (the last fifth at
         * the target rank), {@code tokenizer} encodes the prompt-tuning start text.
         */
        AdapterConfig config(long steps, Tokenizer tokenizer) {
            boolean defaultTargets = targets.length == 1 && targets[0].equals("c_attn");
            LoraConfig.Bias biasMode = LoraConfig.Bias.parse(bias);
            if (biasMode != LoraConfig.Bias.NONE && !method.equalsIgnoreCase("lora")) {
                throw new IllegalArgumentException("--bias " + bias + " applies to --method lora only, not " + method);
            }
            return switch (method.toLowerCase(Locale.ROOT)) {
                case "lora" -> Peft.lora().rank(rank).alpha(alpha).dropout(loraDropout).targets(targets)
                        .rsLora(rsLora).bias(biasMode).build();
                case "adalora" -> Peft.adaLora().initR(initRank).targetR(rank).alpha(alpha).dropout(loraDropout)
                        .targets(targets).totalStep((int) steps).schedule(0, (int) Math.min(steps / 5, steps - 1),
                                1).build();
                case "ia3" -> defaultTargets ? Peft.ia3().build()
                        : Peft.ia3().targets(targets).feedforward(feedforward(targets)).build();
                case "prefix" -> Peft.prefixTuning().numVirtualTokens(virtualTokens).build();
                case "prompt" -> promptInitText == null ? Peft.promptTuning().numVirtualTokens(virtualTokens).build()
                        : Peft.promptTuning().numVirtualTokens(virtualTokens).initText(promptInitText, tokenizer).build();
                case "adapter" -> Peft.bottleneck().reductionFactor(reductionFactor)
                        .variant(BottleneckConfig.Variant.valueOf(variant.toUpperCase(Locale.ROOT))).build();
                default -> throw new IllegalArgumentException("--method must be full, lora, adalora, adapter, prefix, "
                        + "prompt or ia3, got " + method);
            };
        }

        /** {@link #config(long, Tokenizer)} with the tokenizer of {@code model}, read only when prompt tuning needs it. */
        AdapterConfig config(long steps, Path model) throws IOException {
            return config(steps, promptInitText == null ? null : ModelDirectory.tokenizer(model));
        }

        private static String[] feedforward(String[] targets) {
            return java.util.Arrays.stream(targets).filter(t -> t.equals("mlp.c_proj")).toArray(String[]::new);
        }
    }
}
