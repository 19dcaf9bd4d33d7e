package dev.attune.examples.cli;

import dev.attune.examples.qa.QaExample;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code attune qa}: see {@link QaExample}. */
@Command(name = "qa", mixinStandardHelpOptions = true, description = "Question answering over a short context: exact match and F1 before and after fine-tuning (LoRA + the token embedding).")
public final class QaCommand implements Callable<Integer> {

    @Mixin
    private ExampleOptions options;

    @Override
    public Integer call() throws Exception {
        QaExample.Settings s = QaExample.Settings.defaults();
        s = (options.reduced ? s.reduced() : s).withPaths(options.model(s.model()), options.data(s.data()),
                options.out(s.out()));
        QaExample.run(options.noProgress ? s.withProgress(false) : s, System.out);
        return 0;
    }
}
