package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The command line is built with only the subcommand that runs, and that changes nothing a user sees. */
class CommandLineTreeTest {

    @Test
    void aNamedSubcommandIsBuiltAloneAndAsInTheWholeTree() {
        Map<String, CommandLine> all = AttuneCli.commandLine().getSubcommands();
        assertThat(all).containsKeys("help", "score", "generate", "tokenize", "warm-up");
        for (Map.Entry<String, CommandLine> e : all.entrySet()) {
            if (e.getKey().equals("help")) {
                continue;
            }
            Map<String, CommandLine> alone = AttuneCli.commandLine(e.getKey(), "--some-option").getSubcommands();
            assertThat(alone.keySet()).as(e.getKey()).containsExactly(e.getKey());
            CommandLine sub = alone.get(e.getKey());
            assertThat(sub.getCommand().getClass()).isEqualTo(e.getValue().getCommand().getClass());
            assertThat(sub.getUsageMessage(CommandLine.Help.Ansi.OFF)).as(e.getKey() + " --help")
                    .isEqualTo(e.getValue().getUsageMessage(CommandLine.Help.Ansi.OFF));
        }
    }

    @Test
    void everythingElseGetsTheWholeTree() {
        int whole = AttuneCli.commandLine().getSubcommands().size();
        for (String[] args : new String[][] {{}, {"--help"}, {"--version", "score"}, {"help", "score"}, {"genrate"}}) {
            assertThat(AttuneCli.commandLine(args).getSubcommands()).as(String.join(" ", args)).hasSize(whole);
        }
        assertThat(Cli.run("help", "score").out()).contains("Usage: attune score");
        assertThat(Cli.run("--help").out()).contains("score").contains("generate").contains("tokenize");
    }

    @Test
    void theVersionAloneNeedsNoSubcommand() throws Exception {
        assertThat(AttuneCli.commandLine("--version").getSubcommands()).isEmpty();
        assertThat(AttuneCli.commandLine("-V").getSubcommands()).isEmpty();
        String whole = new AttuneCli.Version().getVersion()[0];
        assertThat(Cli.run("--version").out()).isEqualTo(whole + System.lineSeparator());
        assertThat(Cli.run("-V").out()).isEqualTo(whole + System.lineSeparator());
    }

    @Test
    void theVersionAloneLoadsNoneOfPicocli() throws Exception {
        String javaBin = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(javaBin, "-verbose:class", "-cp", System.getProperty("java.class.path"),
                AttuneCli.class.getName(), "--version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(p.waitFor(2, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains(new AttuneCli.Version().getVersion()[0] + System.lineSeparator())
                .contains("dev.attune.examples.cli.AttuneCli ").doesNotContain("picocli.");
        // and a command that does use picocli shows in the same log (the check can fail)
        Process help = new ProcessBuilder(javaBin, "-verbose:class", "-cp", System.getProperty("java.class.path"),
                AttuneCli.class.getName(), "--help").redirectErrorStream(true).start();
        String helpOut = new String(help.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(help.waitFor(2, java.util.concurrent.TimeUnit.MINUTES)).isTrue();
        assertThat(helpOut).contains("picocli.CommandLine ");
    }
}
