package dev.attune.examples.cli;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.PeftModel;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code attune merge}: folds an adapter into its base model and writes a plain Hugging Face checkpoint. */
@Command(name = "merge",
        mixinStandardHelpOptions = true,
        description = {"Merge an adapter (LoRA, AdaLoRA, IA3; Attune's or PEFT's files) into its base model.",
                "Writes OUT as a Hugging Face checkpoint (config.json, model.safetensors, tokenizer files)."})
final class MergeCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "base model directory")
    private Path model;

    @Option(names = "--adapter", required = true, paramLabel = "ADIR", description = "adapter directory")
    private Path adapter;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "merged model directory")
    private Path out;

    @Override
    public Integer call() throws Exception {
        BpeTokenizer tokenizer = GenerateCommand.tokenizer(model);
        GptModel base = HfCheckpoint.load(model);
        PeftModel peft = Peft.load(base, adapter);
        peft.saveMerged(out);
        tokenizer.save(out);
        spec.commandLine().getOut().println("merged " + peft.adapter(peft.activeAdapter()) + " into " + out);
        return 0;
    }
}
