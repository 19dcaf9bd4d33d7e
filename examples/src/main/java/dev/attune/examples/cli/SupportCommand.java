package dev.attune.examples.cli;

import dev.attune.examples.support.SupportExample;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code attune support}: see {@link SupportExample}. */
@Command(name = "support", mixinStandardHelpOptions = true,
        description = {"Customer-support assistant: fine-tuning (LoRA + the token embedding) on dialogues, then a chat in the terminal with "
                + "streamed replies (--replay plays a scripted conversation instead)."})
public final class SupportCommand implements Callable<Integer> {

    @Mixin
    private ExampleOptions options;

    @Option(names = "--replay", description = "replay a scripted conversation instead of reading the terminal")
    private boolean replay;

    @Override
    public Integer call() throws Exception {
        SupportExample.Settings s = SupportExample.Settings.defaults();
        s = (options.reduced ? s.reduced() : s).withPaths(options.model(s.model()), options.data(s.data()),
                options.out(s.out()));
        BufferedReader input = replay ? null : new BufferedReader(new InputStreamReader(System.in,
                StandardCharsets.UTF_8));
        SupportExample.run(options.noProgress ? s.withProgress(false) : s, System.out, input);
        return 0;
    }
}
