package dev.attune.examples.shell;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class AttuneShellTest {

    private static final Pattern LOSS = Pattern.compile(
            "accuracy on 30 test headlines ([0-9.]+), completion loss ([0-9.]+)");

    @Test
    void classPathHoldsAttuneAndTheJarsManifestsName() throws Exception {
        List<String> cp = AttuneShell.classPath();
        assertThat(cp).anyMatch(e -> e.contains("nd4j-native"));
        assertThat(cp).anyMatch(e -> e.endsWith("classes") && Files.isDirectory(Path.of(e, "dev/attune/examples")));
        assertThat(cp).doesNotHaveDuplicates();
    }

    @Test
    void walkthroughRunsNonInteractively() throws Exception {
        List<String> cmd = AttuneShell.command(Path.of("walkthrough.jsh"), List.of("-Xmx2g"));
        assertThat(cmd.get(0)).endsWith("jshell");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(5, TimeUnit.MINUTES)).isTrue();

        assertThat(out).as(out).doesNotContain("Error:").doesNotContain("Exception")
                .contains("loaded: 2,615,424 parameters").contains("generated: A hacker is")
                .contains("fine-tuned 30 steps").contains("walkthrough done");
        assertThat(p.exitValue()).as(out).isZero();
        Matcher before = LOSS.matcher(out);
        assertThat(before.find()).as(out).isTrue();
        double lossBefore = Double.parseDouble(before.group(2));
        assertThat(before.find()).as(out).isTrue();
        double lossAfter = Double.parseDouble(before.group(2));
        assertThat(Double.parseDouble(before.group(1))).isBetween(0.0, 1.0);
        // the label words start near -8 nats; a few steps learn at least the labels' prior and the end of text
        assertThat(lossAfter).isLessThan(lossBefore - 2);
    }
}
