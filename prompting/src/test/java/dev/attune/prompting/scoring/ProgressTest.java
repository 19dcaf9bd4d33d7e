package dev.attune.prompting.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressTest {

    @Test
    void plainLinesEveryTenthAndAtTheEnd() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Progress p = Progress.lines(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        p.start("scoring", 100, "requests");
        for (int i = 0; i < 100; i++) {
            p.advance(1);
        }
        String[] lines = bytes.toString(StandardCharsets.UTF_8).strip().split("\n");
        assertThat(lines).hasSize(10);
        assertThat(lines[0]).startsWith("scoring 10/100 requests ( 10%)");
        assertThat(lines[9]).startsWith("scoring 100/100 requests (100%)").contains("requests/s, ETA 0s");
    }
}
