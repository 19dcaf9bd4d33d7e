package dev.attune.core.generate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class StopStringsTest {

    @Test
    void aStopStringSpanningTokensEndsTheTextAndIsNeverShown() {
        StopStrings s = new StopStrings(List.of("\nUser:"));
        assertThat(s.append("Hel")).isEqualTo("Hel");
        assertThat(s.append("lo\nUs")).isEqualTo("lo"); // "\nUs" may start the stop string: held back
        assertThat(s.stopped()).isFalse();
        assertThat(s.append("er: x")).isEmpty();
        assertThat(s.stopped()).isTrue();
        assertThat(s.text()).isEqualTo("Hello");
        assertThat(s.finish()).isEmpty();
        assertThat(s.append("more")).isEmpty();
    }

    @Test
    void heldBackTextIsReleasedWhenItTurnsOutNotToBeAStop() {
        StopStrings s = new StopStrings(List.of("###"));
        assertThat(s.append("a#")).isEqualTo("a");
        assertThat(s.append("#")).isEmpty();
        assertThat(s.append("b")).isEqualTo("##b");
        assertThat(s.append("#")).isEmpty();
        assertThat(s.finish()).isEqualTo("#");
        assertThat(s.text()).isEqualTo("a##b#");
        assertThat(s.stopped()).isFalse();
    }

    @Test
    void theEarliestStopStringWins() {
        StopStrings s = new StopStrings(List.of("b", "abc"));
        assertThat(s.append("xabc")).isEqualTo("x");
        assertThat(s.text()).isEqualTo("x");
        assertThat(s.stopped()).isTrue();
    }

    @Test
    void withoutStopStringsEverythingIsShownAtOnce() {
        StopStrings s = new StopStrings(List.of());
        assertThat(s.append("ab")).isEqualTo("ab");
        assertThat(s.append("c")).isEqualTo("c");
        assertThat(s.finish()).isEmpty();
        assertThat(s.text()).isEqualTo("abc");
    }
}
