package dev.attune.examples.cli;

import dev.attune.examples.bench.BenchCommand;
import dev.attune.examples.report.ReportCommand;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code attune} command. Each subcommand is a thin class over the public API; subcommand names and the keys
 * of their JSON output are a contract that users script against.
 */
@Command(name = "attune",
        mixinStandardHelpOptions = true,
        versionProvider = AttuneCli.Version.class,
        description = "Build, load, fine-tune, prompt and evaluate GPT-2-family models on the JVM.",
        subcommands = {
                CommandLine.HelpCommand.class,
                QuickstartCommand.class,
                ScoreCommand.class,
                BenchCommand.class,
                GenerateCommand.class,
                InfoCommand.class,
                TokenizeCommand.class,
                DetokenizeCommand.class,
                PretrainCommand.class,
                FinetuneCommand.class,
                MergeCommand.class,
                ServeCommand.class,
                TrainTokenizerCommand.class,
                TaggingCommand.class,
                ShellCommand.class,
                EvaluateCommand.class,
                ReportCommand.class,
                ClassifyCommand.class,
        })
public final class AttuneCli {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (used by tests, which must not call System.exit). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new AttuneCli());
        // UTF-8 whatever the locale: JSON is UTF-8, and decoded text must not turn into '?' under LANG=C.
        cli.setOut(new java.io.PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true));
        cli.setErr(new java.io.PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true));
        cli.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            // Users get the message that names the problem; the stack trace only with ATTUNE_DEBUG=1.
            cmd.getErr().println("attune: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            if (System.getenv("ATTUNE_DEBUG") != null) {
                ex.printStackTrace(cmd.getErr());
            }
            return 1;
        });
        return cli.execute(args);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = AttuneCli.class.getPackage().getImplementationVersion();
            return new String[] {"attune " + (v == null ? "(development build)" : v)};
        }
    }
}
