package dev.attune.examples.cli;

import dev.attune.core.engine.Engine;
import dev.attune.examples.bench.BenchCommand;
import dev.attune.examples.report.ReportCommand;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code attune} command. Each subcommand is a thin class over the public API; subcommand names and the keys
 * of their JSON output are a contract that users script against.
 */
@Command(name = "attune",
        mixinStandardHelpOptions = true,
        versionProvider = AttuneCli.Version.class,
        description = "Build, load, fine-tune, prompt and evaluate GPT-2-family models on the JVM.")
public final class AttuneCli {

    /**
     * Every subcommand, in the order {@code --help} lists them (registered by {@link #commandLine(String...)}); in a
     * holder of its own so that {@code attune --version} loads none of picocli's classes (see {@link #run}).
     */
    private static final class Subcommands {
        private static final List<Class<?>> ALL = List.of(
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
            SentimentCommand.class,
            SummarizeCommand.class,
            QaCommand.class,
            SupportCommand.class,
            TaggingCommand.class,
            ShellCommand.class,
            EvaluateCommand.class,
            ReportCommand.class,
            ClassifyCommand.class,
            TagCommand.class,
            WarmUpCommand.class);
    }

    /** Subcommands that need ND4J; the others (tokenizer commands, help, version) never start it. */
    private static final Set<String> ENGINE_COMMANDS = Set.of("score", "generate", "info", "pretrain", "finetune",
            "quickstart", "bench", "evaluate", "serve", "merge", "warm-up");

    public static void main(String[] args) {
        startEngineEarly(args);
        System.exit(run(args));
    }

    /**
     * Starts ND4J (native libraries, BLAS, about half of a short command's time) on a second thread while the main
     * thread builds the command line and reads its inputs; the first real use waits for it (see {@link Engine#init}).
     */
    static void startEngineEarly(String[] args) {
        if (args.length == 0 || !ENGINE_COMMANDS.contains(args[0])) {
            return;
        }
        for (String a : args) {
            if (a.equals("-h") || a.equals("--help") || a.equals("-V") || a.equals("--version")) {
                return;
            }
        }
        Thread starter = new Thread(() -> {
            try {
                Engine.init();
            } catch (Throwable e) {
                // the command's own Engine.init() call starts again and reports the problem
            }
        }, "attune-engine-start");
        starter.setDaemon(true);
        starter.start();
    }

    /** Runs the command line and returns the exit code (used by tests, which must not call System.exit). */
    public static int run(String... args) {
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            // The line picocli would print, without picocli: its classes are compiled for Java 5, so the class-data
            // archive cannot hold them, and loading and building its model of the root command was about half of
            // this command's CPU time (0.49 s against 0.96 s per run under load, measured 2026-12-02).
            PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
            out.println(versionLine());
            return 0;
        }
        CommandLine cli = commandLine(args);
        showDefaults(cli);
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
        // A mistyped option gets one line and a pointer to --help, not the whole usage text.
        cli.setParameterExceptionHandler((ex, parsedArgs) -> {
            CommandLine cmd = ex.getCommandLine();
            PrintWriter err = cmd.getErr();
            err.println("attune: " + ex.getMessage());
            UnmatchedArgumentException.printSuggestions(ex, err);
            err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
            err.flush();
            return cmd.getCommandSpec().exitCodeOnInvalidInput();
        });
        return cli.execute(args);
    }

    /**
     * The command tree that runs {@code args}: when the first argument names a subcommand, the root with that one
     * subcommand only; for {@code --version} alone, the root only; otherwise (no arguments, an option of the root, {@code help}, a mistyped name, which gets
     * suggestions) the root with all of them. picocli builds the model of every registered subcommand by
     * reflection before parsing; for all 24 that took about twice the main thread's CPU time of building one
     * (0.40-0.53 s against 0.21-0.25 s on a loaded machine), on the way to every command's first output.
     */
    static CommandLine commandLine(String... args) {
        Class<?> named = args.length == 0 ? null : subcommandNamed(args[0]);
        CommandLine cli = new CommandLine(new AttuneCli());
        if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
            return cli; // prints the version and nothing of any subcommand
        }
        for (Class<?> sub : Subcommands.ALL) {
            if (named == null || sub == named) {
                cli.addSubcommand(sub);
            }
        }
        return cli;
    }

    /** The subcommand whose name or alias is {@code name}, or null (also for {@code help}, which lists the others). */
    private static Class<?> subcommandNamed(String name) {
        for (Class<?> sub : Subcommands.ALL) {
            Command command = sub.getAnnotation(Command.class);
            if (command.name().equals(name) || List.of(command.aliases()).contains(name)) {
                return sub == CommandLine.HelpCommand.class ? null : sub;
            }
        }
        return null;
    }

    /** Every option's default appears in --help ("Default: ..."), for every command, added ones included. */
    private static void showDefaults(CommandLine cli) {
        cli.getCommandSpec().usageMessage().showDefaultValues(true);
        for (CommandLine sub : cli.getSubcommands().values()) {
            showDefaults(sub);
        }
    }

    /** {@code attune VERSION}, or {@code attune (development build)} outside a packaged jar. */
    static String versionLine() {
        String v = AttuneCli.class.getPackage().getImplementationVersion();
        return "attune " + (v == null ? "(development build)" : v);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {versionLine()};
        }
    }
}
