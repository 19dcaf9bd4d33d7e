package dev.attune.core.train;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ProgressLineTest {

    @Test
    void onATerminalTheLineRedrawsInPlaceAndALineOfItsOwnClearsIt() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressLine line = new ProgressLine(new PrintStream(bytes, true, StandardCharsets.UTF_8), true);
        line.update(() -> "step 1/3 long text", false, false);
        line.update(() -> "never drawn: within 200 ms of the last draw", false, true);
        line.line("validation loss 1.0");
        line.update(() -> "step 3/3", true, false);
        assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo("\rstep 1/3 long text"
                + "\r" + " ".repeat(18) + "\r" + "validation loss 1.0" + System.lineSeparator()
                + "\rstep 3/3" + System.lineSeparator());
    }

    @Test
    void intoAFileOnlyDueAndLastUpdatesPrintAndTextIsBuiltOnlyThen() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ProgressLine line = new ProgressLine(new PrintStream(bytes, true, StandardCharsets.UTF_8), false);
        int[] built = {0};
        for (int i = 1; i <= 10; i++) {
            int step = i;
            line.update(() -> {
                built[0]++;
                return "step " + step;
            }, step == 10, step % 5 == 0);
        }
        assertThat(bytes.toString(StandardCharsets.UTF_8).lines()).containsExactly("step 5", "step 10");
        assertThat(built[0]).isEqualTo(2);
    }

    @Test
    void compactRatesAndDurations() {
        assertThat(ProgressLine.compact(12_345)).isEqualTo("12.3k");
        assertThat(ProgressLine.duration(59.6)).isEqualTo("1m00s");
        assertThat(ProgressLine.duration(-1)).isEqualTo("?");
    }
}
