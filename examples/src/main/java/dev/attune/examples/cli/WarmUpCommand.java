package dev.attune.examples.cli;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.config.GptConfig;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.Generator;
import dev.attune.core.io.AtomicFiles;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine;

/**
 * {@code attune warm-up} (hidden): runs, on a tiny model in a temporary directory, the code paths the everyday
 * commands take (tokenizer, checkpoint save and load, forward, loss, generation, help texts, JSON output). The
 * launcher runs it once after each build with {@code -XX:ArchiveClassesAtExit} so that later commands start from a
 * class-data-sharing archive of those classes instead of loading and verifying them from the jars.
 */
@Command(name = "warm-up", hidden = true, mixinStandardHelpOptions = true,
        description = "Exercise the common code paths once (used to build the start-up class archive).")
final class WarmUpCommand implements Callable<Integer> {

    @Override
    public Integer call() throws IOException {
        Path dir = Files.createTempDirectory("attune-warm-up");
        try {
            GptConfig config = GptConfig.builder().layers(1).heads(2).embeddingSize(16).contextLength(32).build();
            new Pretrained(GptModel.create(config, 1), Tokenizer.gpt2()).save(dir);
            Pretrained p = ModelDirectory.load(dir);
            int[] ids = p.tokenizer().encode("Warm up the common paths.");
            int[] targets = new int[ids.length];
            for (int i = 0; i < ids.length; i++) {
                targets[i] = i + 1 < ids.length ? ids[i + 1] : TokenBatch.IGNORE;
            }
            TokenBatch batch = new TokenBatch(1, ids.length, ids, targets);
            p.model().logits(batch);
            p.model().loss(batch);
            Generator.of(p.model(), p.tokenizer()).generate(ids, GenerationConfig.greedy(2));
            // the whole tree, not the one subcommand this run was built with, so every command's classes are archived
            for (CommandLine sub : AttuneCli.commandLine().getSubcommands().values()) {
                sub.getUsageMessage();
            }
            OutputOption.print(new java.io.PrintWriter(java.io.Writer.nullWriter()), OutputOption.object().put("ok", 1));
            return 0;
        } finally {
            AtomicFiles.deleteTree(dir);
        }
    }
}
