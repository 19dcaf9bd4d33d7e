package dev.attune.examples.readme;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README runs as written. Every {@code ./attune} line of its bash blocks runs, in order, after the quickstart,
 * in a directory laid out like the repository root (README.md and examples/data are there, runs/ starts empty); every
 * Java block is one of the files under {@code readme/snippets} verbatim (its package line aside), compiled by the
 * build and run here after the commands; every {@code jshell} block runs in JShell. A block preceded by
 * {@code <!-- readme-test: skip (why) -->} is left out (a server that runs until stopped, say).
 *
 * <p>One deviation, stated here: {@code ./attune quickstart} runs with {@code --reduced --steps 10} (a smaller split,
 * 10 LoRA steps instead of 150) to keep the suite fast; {@code QuickstartTest} checks what a longer run learns.
 */
class ReadmeTest {

    private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();
    private static final Path SNIPPETS = Path.of("src/test/java/dev/attune/examples/readme/snippets");
    private static final String SNIPPET_PACKAGE = "dev.attune.examples.readme.snippets";
    private static final String SKIP = "<!-- readme-test: skip";

    record Block(String language, List<String> lines, int line, boolean skipped) {
        String text() {
            return String.join("\n", lines) + "\n";
        }
    }

    static List<Block> blocks(List<String> markdown) {
        List<Block> out = new ArrayList<>();
        for (int i = 0; i < markdown.size(); i++) {
            String line = markdown.get(i);
            if (!line.startsWith("```") || line.length() == 3) {
                continue;
            }
            String language = line.substring(3).trim();
            int start = i + 1;
            int end = start;
            while (!markdown.get(end).startsWith("```")) {
                end++;
            }
            int before = i - 1;
            while (before >= 0 && markdown.get(before).isBlank()) {
                before--;
            }
            boolean skipped = before >= 0 && markdown.get(before).startsWith(SKIP);
            out.add(new Block(language, List.copyOf(markdown.subList(start, end)), i + 1, skipped));
            i = end;
        }
        return out;
    }

    /** The shell words of each command in a bash block: continuation lines joined, comments dropped. */
    static List<List<String>> commands(Block block) {
        List<List<String>> out = new ArrayList<>();
        StringBuilder pending = new StringBuilder();
        for (String raw : block.lines()) {
            String line = raw.strip();
            if (line.endsWith("\\")) {
                pending.append(line, 0, line.length() - 1).append(' ');
                continue;
            }
            pending.append(line);
            List<String> words = words(pending.toString());
            pending.setLength(0);
            if (!words.isEmpty()) {
                out.add(words);
            }
        }
        return out;
    }

    /** Splits like a POSIX shell for what the README uses: spaces, single and double quotes, # comments. */
    static List<String> words(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = null;
        char quote = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                word = word == null ? new StringBuilder() : word;
            } else if (Character.isWhitespace(c)) {
                if (word != null) {
                    words.add(word.toString());
                    word = null;
                }
            } else if (c == '#' && word == null) {
                break;
            } else {
                word = word == null ? new StringBuilder() : word;
                word.append(c);
            }
        }
        assertThat(quote == 0).as("unclosed quote in: " + line).isTrue();
        if (word != null) {
            words.add(word.toString());
        }
        return words;
    }

    private static List<Block> readme() throws IOException {
        return blocks(Files.readAllLines(REPOSITORY.resolve("README.md"), StandardCharsets.UTF_8));
    }

    private static String snippetText(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        String header = "package " + SNIPPET_PACKAGE + ";\n\n";
        assertThat(text).as(file + " starts with its package line and a blank line").startsWith(header);
        return text.substring(header.length());
    }

    @Test
    void everyJavaBlockIsASnippetThatTheBuildCompiles() throws IOException {
        List<Path> files;
        try (Stream<Path> list = Files.list(SNIPPETS)) {
            files = list.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
        List<String> snippets = new ArrayList<>();
        for (Path f : files) {
            snippets.add(snippetText(f));
        }
        List<String> used = new ArrayList<>();
        for (Block b : readme()) {
            if (b.language().equals("java") && !b.skipped()) {
                assertThat(snippets).as("README line %d: a Java block must be one of %s verbatim", b.line(), SNIPPETS)
                        .contains(b.text());
                used.add(b.text());
            }
        }
        assertThat(used).as("every snippet appears in the README").containsExactlyInAnyOrderElementsOf(snippets);
    }

    @Test
    void everyCommandSnippetAndJShellBlockRunsAsWritten() throws Exception {
        Path root = Path.of("target", "readme-root").toAbsolutePath();
        AtomicFiles.deleteTree(root);
        Files.createDirectories(root.resolve("examples"));
        Files.copy(REPOSITORY.resolve("README.md"), root.resolve("README.md"));
        copyTree(REPOSITORY.resolve("examples/data"), root.resolve("examples/data"));
        copyTree(REPOSITORY.resolve("examples/base-model"), root.resolve("examples/base-model"));

        List<String> input = new ArrayList<>();
        List<String> snippets = new ArrayList<>();
        List<String> jshell = new ArrayList<>();
        boolean quickstart = false;
        for (Block b : readme()) {
            if (b.skipped()) {
                continue;
            }
            switch (b.language()) {
                case "bash" -> {
                    for (List<String> words : commands(b)) {
                        String program = words.get(0);
                        if (program.equals("./attune")) {
                            List<String> args = new ArrayList<>(words.subList(1, words.size()));
                            if (args.equals(List.of("quickstart"))) {
                                args.addAll(List.of("--reduced", "--steps", "10", "--quiet"));
                                input.add(0, String.join("\0", args));
                                quickstart = true;
                            } else {
                                input.add(String.join("\0", args));
                            }
                        } else {
                            assertThat(program).as("README line %d: a command the test does not run: %s", b.line(),
                                    words).isIn("mvn", "jshell");
                        }
                    }
                }
                case "java" -> {
                    for (Path f : snippetFiles()) {
                        if (snippetText(f).equals(b.text())) {
                            String name = f.getFileName().toString();
                            snippets.add(SNIPPET_PACKAGE + "." + name.substring(0, name.length() - 5));
                        }
                    }
                }
                case "jshell" -> jshell.add(b.text());
                default -> { }
            }
        }
        assertThat(quickstart).as("the README shows ./attune quickstart").isTrue();
        input.add("--snippets");
        input.addAll(snippets);
        for (String j : jshell) {
            Path script = Files.createTempFile(root, "block", ".jsh");
            Files.writeString(script, j);
            input.add("--jshell");
            input.add(script.toString());
        }
        Path inputFile = root.resolve("readme-commands.txt");
        Files.write(inputFile, input, StandardCharsets.UTF_8);

        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx3g",
                "--add-modules", "jdk.incubator.vector",          // as the launcher passes it (--weights bf16|int8)
                "-cp", System.getProperty("java.class.path"), ReadmeRunner.class.getName(), inputFile.toString());
        ProcessBuilder pb = new ProcessBuilder(command).directory(root.toFile()).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).isTrue();
        List<String> results = output.lines().filter(l -> l.startsWith("ok ") || l.startsWith("FAILED ")).toList();
        assertThat(results.stream().filter(l -> l.startsWith("FAILED")).toList()).as(output).isEmpty();
        assertThat(p.exitValue()).as(output).isZero();
        int expected = input.size() - 1 - jshell.size();
        assertThat(results).as(output).hasSize(expected);
    }

    private static List<Path> snippetFiles() throws IOException {
        try (Stream<Path> list = Files.list(SNIPPETS)) {
            return list.filter(p -> p.toString().endsWith(".java")).sorted().toList();
        }
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path source : all.toList()) {
                Path target = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(source, target);
                }
            }
        }
    }
}
