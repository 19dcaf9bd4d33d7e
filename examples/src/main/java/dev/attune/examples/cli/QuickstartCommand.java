package dev.attune.examples.cli;

import dev.attune.examples.quickstart.Quickstart;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code attune quickstart}: see {@link Quickstart}. */
@Command(name = "quickstart", mixinStandardHelpOptions = true,
        description = "Load the examples' pretrained base model, classify financial-news sentiment with few-shot "
                + "prompting and with a LoRA adapter (beside Tribuo's logistic regression, one Tribuo evaluation "
                + "table), save the adapter and the merged model, reload it and generate text.")
final class QuickstartCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", paramLabel = "DIR", defaultValue = "examples/base-model",
            description = "Base model directory (any GPT-2 checkpoint with its tokenizer).")
    private Path model;

    @Option(names = "--data", paramLabel = "DIR", defaultValue = "examples/data/sentiment",
            description = "Sentiment data folder with train.jsonl and test.jsonl.")
    private Path data;

    @Option(names = "--steps", defaultValue = "" + Quickstart.DEFAULT_STEPS, description = "LoRA's training steps.")
    private int steps;

    @Option(names = "--reduced", description = "A smaller split (300 training, 90 test headlines).")
    private boolean reduced;

    @Option(names = "--out", defaultValue = "runs/quickstart", paramLabel = "DIR",
            description = "Output directory (adapter, merged model).")
    private Path out;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar and no narration.")
    private boolean quiet;

    @Override
    public Integer call() throws Exception {
        if (steps < 1) {
            throw new ParameterException(spec.commandLine(), "--steps must be at least 1, got " + steps);
        }
        PrintStream console = quiet ? new PrintStream(OutputStream.nullOutputStream()) : System.out;
        Quickstart.run(Quickstart.Settings.defaults().withModel(model).withData(data).withOut(out).withSteps(steps)
                .withReduced(reduced).withProgress(!quiet), console);
        return 0;
    }
}
