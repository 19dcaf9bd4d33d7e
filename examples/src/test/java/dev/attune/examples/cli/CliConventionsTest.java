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
     * --help shows each default once: picocli's "Default:" line for every option that declares one, and then not
     * again in the description; a required option shows none (picocli would print a primitive's initial 0 as if it
     * were one); options whose default is not a constant (it depends on the command, the model or the method) hide
     * picocli's line and say what the default is in their description. Nested subcommands (classify train, ...)
     * are checked too.
     */
    private static final java.util.regex.Pattern SAYS_DEFAULT = java.util.regex.Pattern.compile("\\(default[ :]");

    @Test
    void helpShowsEveryDefaultOnce() {
        Set<String> computedDefaults = Set.of("--lr", "--schedule", "--weight-decay", "--context", "--dropout",
                "--temperature", "--top-k", "--top-p");
        List<String> missing = new ArrayList<>();
        List<String> twice = new ArrayList<>();
        List<CommandLine> todo = new ArrayList<>(AttuneCli.commandLine().getSubcommands().values());
        while (!todo.isEmpty()) {
            CommandLine sub = todo.remove(todo.size() - 1);
            todo.addAll(sub.getSubcommands().values());
            String name = sub.getCommandSpec().qualifiedName(" ").replaceFirst("^attune ", "");
            String help = Cli.run((name + " --help").split(" ")).out();
            for (OptionSpec o : sub.getCommandSpec().options()) {
                String description = String.join(" ", o.description());
                boolean hidden = o.showDefaultValue() == CommandLine.Help.Visibility.NEVER;
                if (o.required()) {
                    assertThat(o.defaultValue() == null && o.initialValue() == null)
                            .as(name + " " + o.longestName() + " is required but shows a default").isTrue();
                } else if (o.defaultValue() != null && !hidden) {
                    assertThat(help).as(name + " " + o.longestName()).contains("Default: " + o.defaultValue());
                    if (SAYS_DEFAULT.matcher(description).find()) {
                        twice.add(name + " " + o.longestName());
                    }
                } else if ((hidden || computedDefaults.contains(o.longestName()))
                        && !SAYS_DEFAULT.matcher(description).find()) {
                    missing.add(name + " " + o.longestName());
                }
            }
            assertThat(help).as(name + ": an empty list is no default").doesNotContain("Default: []");
        }
        assertThat(missing).as("options whose --help does not say what their computed default is").isEmpty();
        assertThat(twice).as("options whose default is in the description and in picocli's Default: line").isEmpty();
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
