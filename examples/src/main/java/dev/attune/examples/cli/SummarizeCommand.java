package dev.attune.examples.cli;

import dev.attune.examples.summarize.SummarizeExample;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code attune summarize}: see {@link SummarizeExample}. */
@Command(name = "summarize", mixinStandardHelpOptions = true, description = "Summarisation: fine-tuning (LoRA + the token embedding) vs a lead-N baseline (OpenNLP sentences), ROUGE-1/2/L.")
public final class SummarizeCommand implements Callable<Integer> {

    @Mixin
    private ExampleOptions options;

    @Override
    public Integer call() throws Exception {
        SummarizeExample.Settings s = SummarizeExample.Settings.defaults();
        s = (options.reduced ? s.reduced() : s).withPaths(options.model(s.model()), options.data(s.data()),
                options.out(s.out()));
        SummarizeExample.run(options.noProgress ? s.withProgress(false) : s, System.out);
        return 0;
    }
}
