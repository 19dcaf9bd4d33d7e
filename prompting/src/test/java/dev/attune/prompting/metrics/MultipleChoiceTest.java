package dev.attune.prompting.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class MultipleChoiceTest {

    @Test
    void accNormDividesByCharactersAndCanDisagreeWithAcc() {
        // -2/1 = -2 against -4/4 = -1: the longer choice wins once normalised
        MultipleChoice.Prediction p = MultipleChoice.predict(new double[] {-2, -4}, List.of("a", "bbbb"));
        assertThat(p.acc()).isEqualTo(0);
        assertThat(p.accNorm()).isEqualTo(1);
        assertThat(p.accBytes()).isEqualTo(1);
    }

    @Test
    void accBytesCountsUtf8BytesWhileAccNormCountsCharacters() {
        // "é" is 1 character, 2 bytes: per char -2 vs -1.1 (choice 1); per byte -1 vs -1.1 (choice 0)
        MultipleChoice.Prediction p = MultipleChoice.predict(new double[] {-2, -2.2}, List.of("é", "ab"));
        assertThat(p.acc()).isEqualTo(0);
        assertThat(p.accNorm()).isEqualTo(1);
        assertThat(p.accBytes()).isEqualTo(0);
        // a character outside the BMP is one character (two UTF-16 units), four bytes
        MultipleChoice.Prediction q = MultipleChoice.predict(new double[] {-3, -5}, List.of("😀", "abcd"));
        assertThat(q.accNorm()).isEqualTo(1);  // -3/1 vs -5/4
        assertThat(q.accBytes()).isEqualTo(0); // -3/4 vs -5/4
    }

    @Test
    void tiesGoToTheFirstChoice() {
        // -2/2 == -4/4 == -1 for acc_norm; equal raw scores for acc
        MultipleChoice.Prediction p = MultipleChoice.predict(new double[] {-4, -2, -4}, List.of("abcd", "ab", "wxyz"));
        assertThat(p.acc()).isEqualTo(1);
        assertThat(p.accNorm()).isEqualTo(0);
        MultipleChoice.Prediction q = MultipleChoice.predict(new double[] {-1, -1}, List.of("x", "y"));
        assertThat(q.acc()).isEqualTo(0);
        assertThat(MultipleChoice.argmax(new double[] {Double.NaN, -3, -3})).isEqualTo(1);
    }
}
