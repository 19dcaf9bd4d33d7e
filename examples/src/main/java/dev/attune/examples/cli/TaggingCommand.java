package dev.attune.examples.cli;

import dev.attune.examples.tagging.TaggingExample;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code attune tagging}: see {@link TaggingExample}. */
@Command(name = "tagging", mixinStandardHelpOptions = true,
        description = "Entity tagging (BIO): Tribuo's CRF vs a linear head on the base model's hidden states, "
                + "per-tag report.")
public final class TaggingCommand implements Callable<Integer> {

    @Mixin
    private ExampleOptions options;

    @Override
    public Integer call() throws Exception {
        TaggingExample.Settings s = TaggingExample.Settings.defaults();
        s = (options.reduced ? s.reduced() : s).withPaths(options.model(s.model()), options.data(s.data()));
        TaggingExample.run(s, System.out);
        return 0;
    }
}
