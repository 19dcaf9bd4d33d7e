package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/** What every subcommand shares: errors in one line with a pointer to --help, defaults in --help, plain output. */
class CliConventionsTest {

    @Test
    void aBadOptionGivesOneLineAndAHintNotTheUsage() {
        Cli r = Cli.run("score", "--model", "m", "--ids", "1,2", "--bogus");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err().lines().toList()).containsExactly("attune: Unknown option: '--bogus'",
                "Try 'attune score --help' for more information.");
        assertThat(r.out()).isEmpty();

        Cli missing = Cli.run("generate", "--model", "m", "--prompt", "x");
        assertThat(missing.err().lines().toList()).containsExactly(
                "attune: Missing required option: '--max-new-tokens=N'",
                "Try 'attune generate --help' for more information.");

        Cli typo = Cli.run("genrate");
        assertThat(typo.err()).startsWith("attune: Unmatched argument at index 0: 'genrate'")
                .contains("generate").contains("Try 'attune --help' for more information.");
        assertThat(typo.err().lines().count()).isLessThan(6);
    }

    /**
     * Every option that is neither required nor a flag shows its default: picocli's "Default:" line when it has a
     * declared default, otherwise its description says what happens without it.
     */
    @Test
    void helpShowsEveryDefault() {
        CommandLine root = new CommandLine(new AttuneCli());
        List<String> missing = new ArrayList<>();
        for (CommandLine sub : root.getSubcommands().values()) {
            String help = Cli.run(sub.getCommandName(), "--help").out();
            for (OptionSpec o : sub.getCommandSpec().options()) {
                if (o.required()) {
                    // picocli would print a primitive's initial 0 as if it were a default
                    assertThat(o.defaultValue() == null && o.initialValue() == null)
                            .as(sub.getCommandName() + " " + o.longestName() + " is required but shows a default").isTrue();
                    continue;
                }
                if (o.usageHelp() || o.versionHelp() || o.arity().max() == 0 || o.inherited()) {
                    continue;
                }
                String description = String.join(" ", o.description());
                boolean shown = o.defaultValue() != null
                        || description.contains("default") || description.contains("0 = ");
                if (!shown && !isInExclusiveGroup(o)) {
                    missing.add(sub.getCommandName() + " " + o.longestName());
                }
                if (o.defaultValue() != null && !description.contains("${DEFAULT-VALUE}")) {
                    assertThat(help).as(sub.getCommandName() + " " + o.longestName())
                            .contains("Default: " + o.defaultValue());
                }
            }
            assertThat(help).as(sub.getCommandName() + ": an empty list is no default").doesNotContain("Default: []");
        }
        assertThat(missing).as("options whose --help says nothing about their default").isEmpty();
    }

    private static boolean isInExclusiveGroup(OptionSpec o) {
        return o.group() != null && o.group().exclusive() && o.group().multiplicity().min() == 1;
    }

    @Test
    void outputOffATerminalHasNoEscapeCodes() {
        for (String[] args : List.of(new String[] {"--help"}, new String[] {"generate", "--help"},
                new String[] {"score", "--bogus"}, new String[] {"tokenize", "--text", "Hello"})) {
            Cli r = Cli.run(args);
            assertThat(r.out() + r.err()).as(String.join(" ", args)).doesNotContain("\u001b");
        }
    }
}
