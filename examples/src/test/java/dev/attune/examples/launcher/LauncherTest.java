package dev.attune.examples.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code attune} launcher script, run by bash over a copy of the repository layout with a stand-in {@code java}
 * that records its arguments (and writes the class-data archive when asked to), so the launcher's choices are
 * checked without starting a JVM.
 */
class LauncherTest {

    private static final Path SCRIPT = Path.of("..", "attune");

    @TempDir
    Path root;
    private Path home;
    private Path bin;
    private Path jar;
    private Path archive;

    @BeforeEach
    void layOut() throws IOException {
        Files.copy(SCRIPT, root.resolve("attune"));
        jar = root.resolve("examples/target/attune-examples.jar");
        archive = root.resolve("examples/target/attune.jsa");
        Files.createDirectories(jar.getParent());
        Files.writeString(jar, "jar");
        home = Files.createDirectories(root.resolve("home"));
        Files.createDirectories(home.resolve(".javacpp/cache/nd4j-native-1.0.0-M2.1-linux-x86_64.jar"));
        bin = Files.createDirectories(root.resolve("bin"));
        Path java = bin.resolve("java");
        Files.writeString(java, """
                #!/usr/bin/env bash
                for a in "$@"; do
                  case "$a" in -XX:ArchiveClassesAtExit=*) echo archive > "${a#-XX:ArchiveClassesAtExit=}";; esac
                  # as Java 17 does, at every start with an incubator module
                  [[ "$a" == jdk.incubator.vector ]] && echo "WARNING: Using incubator modules: jdk.incubator.vector" >&2
                done
                [[ -n "${FAKE_JAVA_ERR:-}" ]] && printf '%s\n%s' "$FAKE_JAVA_ERR" "no newline at the end" >&2
                echo "tunables=${GLIBC_TUNABLES:-none} java $*" >> "$HOME/java-calls"
                """);
        java.toFile().setExecutable(true);
    }

    private record Run(int exit, String err, List<String> javaCalls) {
        String last() {
            return javaCalls.get(javaCalls.size() - 1);
        }
    }

    private Run run(Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", root.resolve("attune").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().remove("ATTUNE_JAVA_OPTS");
        pb.environment().remove("ATTUNE_CDS");
        pb.environment().remove("GLIBC_TUNABLES");
        pb.environment().put("HOME", home.toString());
        pb.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        pb.environment().putAll(env);
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Path calls = home.resolve("java-calls");
        List<String> lines = Files.exists(calls) ? Files.readAllLines(calls) : List.of();
        Files.deleteIfExists(calls);
        return new Run(p.exitValue(), err, lines);
    }

    private void archiveIsCurrent() throws IOException {
        Files.writeString(archive, "archive");
        Files.setLastModifiedTime(jar, FileTime.fromMillis(System.currentTimeMillis() - 60_000));
    }

    @Test
    void theDefaultHeapStaysUnlessTheOptionsSetOne() throws Exception {
        archiveIsCurrent();
        assertThat(run(Map.of(), "--version").last()).contains(" -Xmx8g ").endsWith("-jar " + jar + " --version");
        String withProperty = run(Map.of("ATTUNE_JAVA_OPTS", "-Dorg.slf4j.simpleLogger.defaultLogLevel=info"),
                "score").last();
        assertThat(withProperty).contains("-Xmx8g").contains("-Dorg.slf4j.simpleLogger.defaultLogLevel=info");
        String withHeap = run(Map.of("ATTUNE_JAVA_OPTS", "-Xmx2g"), "score").last();
        assertThat(withHeap).contains("-Xmx2g").doesNotContain("-Xmx8g");
        assertThat(run(Map.of("ATTUNE_JAVA_OPTS", "-XX:MaxRAMPercentage=50"), "score").last())
                .doesNotContain("-Xmx8g");
    }

    @Test
    void theVectorApiModuleIsAddedAndItsStartUpWarningDropped() throws Exception {
        archiveIsCurrent();
        Run run = run(Map.of("FAKE_JAVA_ERR", "attune: a real message"), "score", "--weights", "int8");
        assertThat(run.last()).contains("--add-modules jdk.incubator.vector");
        assertThat(run.err()).isEqualTo("attune: a real message\nno newline at the end");
        assertThat(run(Map.of(), "score").err()).isEmpty();
    }

    @Test
    void theClassArchiveIsWrittenOnceAfterEachBuildAndThenUsed() throws Exception {
        Run first = run(Map.of(), "score");
        assertThat(first.javaCalls()).hasSize(2);
        assertThat(first.javaCalls().get(0)).contains("-XX:ArchiveClassesAtExit=").endsWith(" warm-up");
        assertThat(first.err()).contains("writing a class-data archive");
        assertThat(first.last()).contains("-XX:SharedArchiveFile=" + archive);
        assertThat(archive).exists();

        Run second = run(Map.of(), "score");
        assertThat(second.javaCalls()).hasSize(1);
        assertThat(second.err()).isEmpty();

        Files.setLastModifiedTime(jar, FileTime.fromMillis(System.currentTimeMillis() + 60_000)); // a new build
        assertThat(run(Map.of(), "score").javaCalls()).hasSize(2);

        Run off = run(Map.of("ATTUNE_CDS", "0"), "score");
        assertThat(off.javaCalls()).hasSize(1);
        assertThat(off.last()).doesNotContain("SharedArchiveFile");
    }

    @Test
    void shortCommandsRaiseBothJitThresholdsAndOthersKeepTheJvmsDefaults() throws Exception {
        archiveIsCurrent();
        for (String command : List.of("score", "tokenize", "detokenize", "info", "--version")) {
            assertThat(run(Map.of(), command).last()).as(command)
                    .contains(" -XX:Tier3InvocationThreshold=2000 ", " -XX:Tier3CompileThreshold=20000 ",
                            " -XX:Tier3BackEdgeThreshold=600000 ", " -XX:Tier4InvocationThreshold=50000 ");
        }
        for (String command : List.of("generate", "pretrain", "finetune", "serve", "bench")) {
            assertThat(run(Map.of(), command).last()).as(command).doesNotContain("-XX:Tier3", "-XX:Tier4");
        }
        // the user's options come after the launcher's, and the JVM takes the last of a repeated option
        String own = run(Map.of("ATTUNE_JAVA_OPTS", "-XX:Tier3InvocationThreshold=200"), "score").last();
        assertThat(own.lastIndexOf("-XX:Tier3InvocationThreshold=200 "))
                .isGreaterThan(own.indexOf("-XX:Tier3InvocationThreshold=2000 "));
    }

    /** Large malloc blocks in huge pages for the short commands only, and a GLIBC_TUNABLES of the user's wins. */
    @Test
    void shortCommandsAskMallocForHugePagesUnlessTheUserSetTheTunables() throws Exception {
        archiveIsCurrent();
        for (String command : List.of("score", "tokenize", "info", "--version")) {
            assertThat(run(Map.of(), command).last()).as(command).startsWith("tunables=glibc.malloc.hugetlb=1 java ");
        }
        for (String command : List.of("generate", "pretrain", "finetune", "serve")) {
            assertThat(run(Map.of(), command).last()).as(command).startsWith("tunables=none java ");
        }
        assertThat(run(Map.of("GLIBC_TUNABLES", "glibc.malloc.arena_max=2"), "score").last())
                .startsWith("tunables=glibc.malloc.arena_max=2 java ");
    }

    @Test
    void nativeLibraryLookupsAreKeptBesideTheJar() throws Exception {
        archiveIsCurrent();
        Path kept = root.resolve("examples/target/attune-native-lookups.txt");
        assertThat(run(Map.of(), "score").last()).contains(" -Dattune.native.lookups=" + kept + " ");
        // an explicit setting comes later on the command line, and the JVM takes the last one
        String own = run(Map.of("ATTUNE_JAVA_OPTS", "-Dattune.native.lookups="), "score").last();
        assertThat(own.lastIndexOf("-Dattune.native.lookups= ")).isGreaterThan(own.indexOf(kept.toString()));
    }

    @Test
    void aFirstRunSaysThatItUnpacksNativeLibraries() throws Exception {
        archiveIsCurrent();
        assertThat(run(Map.of(), "score").err()).isEmpty();
        Files.delete(home.resolve(".javacpp/cache/nd4j-native-1.0.0-M2.1-linux-x86_64.jar"));
        assertThat(run(Map.of(), "score").err()).contains("unpacking ND4J's native libraries");
        assertThat(run(Map.of(), "tokenize").err()).isEmpty(); // the tokenizer commands never load them
    }
}
