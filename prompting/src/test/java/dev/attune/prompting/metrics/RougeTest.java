package dev.attune.prompting.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class RougeTest {

    private static final Rouge ROUGE = Rouge.create();

    @Test
    void rougeLOnLinsWorkedExample() {
        // Lin (2004) section 3.1: reference "police killed the gunman"
        // S2 "police kill the gunman": LCS "police the gunman" = 3 of 4 on both sides -> F = 0.75
        Rouge.Scores s2 = ROUGE.score("police kill the gunman", List.of("police killed the gunman"));
        assertThat(s2.rougeL()).isCloseTo(0.75, within(1e-12));
        assertThat(s2.rouge1()).isCloseTo(0.75, within(1e-12));
        // bigrams: only "the gunman" of three on each side
        assertThat(s2.rouge2()).isCloseTo(1.0 / 3, within(1e-12));
        // S3 "the gunman kill police": LCS 2 ("the gunman") -> F = 0.5
        Rouge.Scores s3 = ROUGE.score("the gunman kill police", List.of("police killed the gunman"));
        assertThat(s3.rougeL()).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void stemmingMakesKillAndKilledOneToken() {
        Rouge.Scores s = Rouge.create(true).score("police kill the gunman", List.of("police killed the gunman"));
        assertThat(s.rouge1()).isEqualTo(1.0);
        assertThat(s.rouge2()).isEqualTo(1.0);
        assertThat(s.rougeL()).isEqualTo(1.0);
        assertThat(Rouge.create(true).tokenize("The runners were running")).containsExactly("the", "runner",
                "were", "run");
    }

    @Test
    void rougeLsumUnionLcsOnLinsSummaryExample() {
        // Lin (2004) section 3.2: r = w1 w2 w3 w4 w5, c1 = w1 w2 w6 w7 w8, c2 = w1 w3 w8 w9 w5
        // union LCS = w1 w2 w3 w5: recall 4/5, precision 4/10, F = 2 * 0.4 * 0.8 / 1.2
        String reference = "one two three four five.";
        String prediction = "one two six seven eight.\none three eight nine five.";
        Rouge.Scores s = ROUGE.score(prediction, List.of(reference));
        assertThat(s.rougeLsum()).isCloseTo(2 * 0.4 * 0.8 / 1.2, within(1e-12));
        // plain ROUGE-L sees one sequence: LCS(one two three four five, one two six ... five) = one two three five
        assertThat(s.rougeL()).isCloseTo(2 * (4.0 / 10) * (4.0 / 5) / (4.0 / 10 + 4.0 / 5), within(1e-12));
    }

    @Test
    void sentencesComeFromOpenNlpWithinLines() {
        assertThat(ROUGE.sentences("The cat sat. Then it left!\nA new line"))
                .containsExactly("The cat sat.", "Then it left!", "A new line");
    }

    @Test
    void tokensAreLowerCasedAndPunctuationFree() {
        assertThat(ROUGE.tokenize("Hello, World! It's 3.5 km.")).containsExactly("hello", "world", "it", "s", "3",
                "5", "km");
    }

    @Test
    void bestReferenceCountsAndEmptyTextScoresZero() {
        Rouge.Scores s = ROUGE.score("a b c", List.of("x y z", "a b c"));
        assertThat(s.rouge1()).isEqualTo(1.0);
        assertThat(s.rougeLsum()).isEqualTo(1.0);
        Rouge.Scores empty = ROUGE.score("", List.of("a b c"));
        assertThat(empty).isEqualTo(new Rouge.Scores(0, 0, 0, 0));
    }
}
