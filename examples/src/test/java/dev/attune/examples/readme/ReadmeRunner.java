package dev.attune.examples.readme;

import dev.attune.examples.cli.AttuneCli;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import jdk.jshell.JShell;
import jdk.jshell.Snippet;
import jdk.jshell.SnippetEvent;
import jdk.jshell.SourceCodeAnalysis;

/**
 * Runs the README's commands and Java snippets in this process, whose working directory {@link ReadmeTest} sets to a
 * copy of the repository's shipped files, so that every relative path resolves as it would for a user in the
 * repository root. Input: a file with one command per line, arguments separated by NUL characters (already split
 * as the shell would), then the snippet class names after a line {@code --snippets}, then JShell script files, each
 * after a line {@code --jshell}. Output: one line per item,
 * {@code ok NAME} or {@code FAILED NAME: what it printed}.
 */
public final class ReadmeRunner {

    /** The most one command or snippet may take, even on a loaded machine. */
    private static final int LIMIT_MINUTES = 4;

    private ReadmeRunner() {
    }

    public static void main(String[] args) throws Exception {
        List<String> lines = Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8);
        PrintStream report = System.out;
        String mode = "command";
        for (String line : lines) {
            if (line.equals("--snippets") || line.equals("--jshell")) {
                mode = line.substring(2);
                continue;
            }
            boolean snippets = !mode.equals("command");
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            PrintStream oldOut = System.out;
            PrintStream oldErr = System.err;
            PrintStream both = new PrintStream(captured, true, StandardCharsets.UTF_8);
            String name = snippets ? line : String.join(" ", line.split("\0"));
            int exit;
            System.setOut(both);
            System.setErr(both);
            String item = mode;
            java.util.concurrent.FutureTask<Integer> task = new java.util.concurrent.FutureTask<>(() -> {
                if (item.equals("jshell")) {
                    return jshell(Files.readString(Path.of(line), StandardCharsets.UTF_8), both);
                } else if (!item.equals("command")) {
                    Method main = Class.forName(line).getMethod("main", String[].class);
                    main.invoke(null, (Object) new String[0]);
                    return 0;
                }
                return AttuneCli.run(line.split("\0"));
            });
            Thread runner = new Thread(task, "readme-item");
            runner.setDaemon(true);
            runner.start();
            try {
                exit = task.get(LIMIT_MINUTES, java.util.concurrent.TimeUnit.MINUTES);
            } catch (java.util.concurrent.TimeoutException e) {
                System.setOut(oldOut);
                report.println("FAILED " + name + ": did not finish in " + LIMIT_MINUTES + " minutes (a command that"
                        + " runs until stopped, such as a server, goes in a block marked"
                        + " <!-- readme-test: skip (why) -->)");
                report.flush();
                System.exit(1);
                return;
            } catch (java.util.concurrent.ExecutionException e) {
                e.getCause().printStackTrace(both);
                exit = -1;
            } finally {
                System.setOut(oldOut);
                System.setErr(oldErr);
            }
            String output = captured.toString(StandardCharsets.UTF_8);
            if (exit == 0) {
                if (mode.equals("jshell")) {
                    name = "jshell block: " + output.strip().replace('\n', '|');
                }
                report.println("ok " + name);
            } else {
                report.println("FAILED " + name + " (exit " + exit + "): "
                        + output.substring(Math.max(0, output.length() - 2000)).replace('\n', '|'));
            }
            report.flush();
        }
    }

    /** Runs a JShell script statement by statement, as typed at the prompt; 0 when every one succeeds. */
    private static int jshell(String script, PrintStream out) {
        try (JShell js = JShell.builder().executionEngine("local").out(out).err(out).build()) {
            for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
                js.addToClasspath(entry);
            }
            StringBuilder pending = new StringBuilder();
            for (String line : script.split("\n", -1)) {
                pending.append(line).append('\n');
                SourceCodeAnalysis.CompletionInfo info = js.sourceCodeAnalysis().analyzeCompletion(pending.toString());
                if (!info.completeness().isComplete()) {
                    continue; // a statement that goes on on the next line, as at the prompt
                }
                pending.setLength(0);
                pending.append(info.remaining());
                for (SnippetEvent e : js.eval(info.source())) {
                    if (e.status() == Snippet.Status.REJECTED || e.exception() != null) {
                        out.println("jshell rejected: " + info.source().strip() + " "
                                + js.diagnostics(e.snippet()).map(d -> d.getMessage(null)).toList()
                                + (e.exception() == null ? "" : " " + e.exception()));
                        return 1;
                    }
                    if (e.value() != null) {
                        out.println(e.value());
                    }
                }
            }
            if (!pending.toString().isBlank()) {
                out.println("jshell: incomplete statement at the end: " + pending);
                return 1;
            }
            return 0;
        }
    }
}
