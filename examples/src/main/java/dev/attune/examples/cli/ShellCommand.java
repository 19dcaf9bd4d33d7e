package dev.attune.examples.cli;

import dev.attune.examples.shell.AttuneShell;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code attune shell [FILE.jsh]}: JShell with Attune's class path and imports (see {@link AttuneShell}). */
@Command(name = "shell", mixinStandardHelpOptions = true,
        description = {"Start JShell with Attune on the class path and its packages imported, e.g.",
                "  var p = Pretrained.load(Path.of(\"examples/base-model\"))",
                "With FILE, run that script (examples/walkthrough.jsh is a tour)."})
public final class ShellCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "a .jsh script to run")
    private Path script;

    @Option(names = "--heap", paramLabel = "SIZE", defaultValue = "4g",
            description = "heap of the JVM that runs the snippets")
    private String heap;

    @Override
    public Integer call() throws Exception {
        return AttuneShell.run(script, List.of("-Xmx" + heap));
    }
}
