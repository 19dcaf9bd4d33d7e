package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
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
     * --help shows the defaults: picocli's "Default:" line for every option that declares one; a required option
     * shows none (picocli would print a primitive's initial 0 as if it were one); and the options whose default is
     * not a constant (it depends on the command or the model) say what it is in their description.
     */
    @Test
    void helpShowsEveryDefault() {
        Set<String> computedDefaults = Set.of("--lr", "--schedule", "--weight-decay", "--context", "--dropout",
                "--temperature", "--top-k", "--top-p");
        CommandLine root = AttuneCli.commandLine();
        List<String> missing = new ArrayList<>();
        for (CommandLine sub : root.getSubcommands().values()) {
            String help = Cli.run(sub.getCommandName(), "--help").out();
            for (OptionSpec o : sub.getCommandSpec().options()) {
                String description = String.join(" ", o.description());
                if (o.required()) {
                    assertThat(o.defaultValue() == null && o.initialValue() == null)
                            .as(sub.getCommandName() + " " + o.longestName() + " is required but shows a default").isTrue();
                } else if (o.defaultValue() != null && !description.contains("${DEFAULT-VALUE}")) {
                    assertThat(help).as(sub.getCommandName() + " " + o.longestName())
                            .contains("Default: " + o.defaultValue());
                } else if (o.defaultValue() == null && computedDefaults.contains(o.longestName())
                        && !description.contains("default")) {
                    missing.add(sub.getCommandName() + " " + o.longestName());
                }
            }
            assertThat(help).as(sub.getCommandName() + ": an empty list is no default").doesNotContain("Default: []");
        }
        assertThat(missing).as("options whose --help does not say what their computed default is").isEmpty();
    }

    /** Every command and subcommand (classify's too) takes --output through the shared OutputOption mixin. */
    @Test
    void everyOutputOptionIsTheSharedOne() {
        List<String> own = new ArrayList<>();
        List<CommandLine> todo = new ArrayList<>(AttuneCli.commandLine().getSubcommands().values());
        while (!todo.isEmpty()) {
            CommandLine c = todo.remove(todo.size() - 1);
            todo.addAll(c.getSubcommands().values());
            OptionSpec o = c.getCommandSpec().findOption("--output");
            boolean shared = o != null && o.userObject() instanceof java.lang.reflect.Field f
                    && f.getDeclaringClass() == OutputOption.class;
            if (o != null && !shared && !c.getCommandName().equals("report")) {
                own.add(c.getCommandSpec().qualifiedName());
            }
        }
        assertThat(own).as("commands with an --output of their own").isEmpty();
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
