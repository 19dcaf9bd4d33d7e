package dev.attune.examples.cli;

import dev.attune.examples.quickstart.Quickstart;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code attune quickstart}: pretrain a small GPT-2 on text already on the machine, save, reload, generate. */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Pretrain a small GPT-2 on the Apache License text shipped in a dependency jar, save it as a "
                + "Hugging Face directory, reload it and generate text.")
final class QuickstartCommand implements Callable<Integer> {

    @Option(names = "--steps", defaultValue = "300", description = "Pretraining steps.")
    private int steps;

    @Option(names = "--out", defaultValue = "runs/quickstart", paramLabel = "DIR",
            description = "Output directory.")
    private Path out;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar and no narration.")
    private boolean quiet;

    @Override
    public Integer call() throws Exception {
        PrintStream console = quiet ? new PrintStream(OutputStream.nullOutputStream()) : System.out;
        Quickstart.run(steps, out, !quiet, console);
        return 0;
    }
}
