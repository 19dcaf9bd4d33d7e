package dev.attune.prompting.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class SquadTest {

    @Test
    void normalisationDropsCasePunctuationArticlesAndExtraSpace() {
        assertThat(Squad.normalize("The  Cat's, a hat!")).isEqualTo("cats hat");
        assertThat(Squad.normalize("  An apple\tthe END. ")).isEqualTo("apple end");
        // articles only as whole words
        assertThat(Squad.normalize("Theatre and anathema")).isEqualTo("theatre and anathema");
    }

    @Test
    void exactMatchAfterNormalisationAgainstAnyAnswer() {
        assertThat(Squad.exactMatch("The Eiffel Tower!", List.of("Louvre", "eiffel tower"))).isEqualTo(1.0);
        assertThat(Squad.exactMatch("Eiffel", List.of("eiffel tower"))).isEqualTo(0.0);
    }

    @Test
    void tokenF1ByHand() {
        // pred {cat, sat}, gold {cat, sat, down}: P = 1, R = 2/3, F1 = 0.8
        assertThat(Squad.f1("the cat sat", "a cat sat down")).isCloseTo(0.8, within(1e-12));
        // repeated tokens are clipped: pred {the->dropped, dog, dog, dog}, gold {dog, bit}: same = 1
        // P = 1/3, R = 1/2, F1 = 0.4
        assertThat(Squad.f1("dog dog dog", "dog bit")).isCloseTo(0.4, within(1e-12));
        assertThat(Squad.f1("Paris.", List.of("London", "paris"))).isEqualTo(1.0);
        assertThat(Squad.f1("blue", "red")).isEqualTo(0.0);
        // an answer that normalises to nothing matches only an empty prediction
        assertThat(Squad.f1("the", "a")).isEqualTo(1.0);
        assertThat(Squad.f1("x", "the")).isEqualTo(0.0);
    }
}
