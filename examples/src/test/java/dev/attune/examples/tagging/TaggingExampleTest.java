package dev.attune.examples.tagging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.examples.common.LabelTable;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class TaggingExampleTest {

    @Test
    void crfAndHeadTagEntitiesWellAboveTheAllOutsideBaseline() throws Exception {
        TaggingExample.Settings s = TaggingExample.Settings.defaults().reduced()
                .withPaths(Path.of("base-model"), Path.of("data", "tagging"));
        LabelTable t = TaggingExample.run(s, new PrintStream(OutputStream.nullOutputStream()));

        assertThat(t.rows()).extracting(LabelTable.Row::method).containsExactly(TaggingExample.CRF,
                TaggingExample.HEAD);
        // tagging every word O scores O's share of the words (0.665 of these 80 sentences' 835 words) with a
        // macro-F1 of (2 * 0.665 / 1.665) / 6 = 0.133
        for (LabelTable.Row row : t.rows()) {
            assertThat(row.f1PerLabel()).containsOnlyKeys(TaggingExample.TAGS);
            assertThat(row.accuracy()).as(row.method()).isGreaterThanOrEqualTo(0.64);
            assertThat(row.macroF1()).as(row.method()).isGreaterThan(0.2);
        }
        // the CRF's word features (capitals, neighbours) fit these templated sentences almost perfectly
        assertThat(t.rows().get(0).macroF1()).isGreaterThan(0.9);
    }

    @Test
    void wordStatesAreOnePerWordWithTheNextWordsStateBeside() throws Exception {
        var lm = dev.attune.core.checkpoint.Pretrained.load(Path.of("base-model"));
        float[][] states = TaggingExample.wordStates(lm, List.of("Anika", "Berg", "left", "."));
        int c = lm.model().config().embeddingSize();
        assertThat(states).hasNumberOfRows(4);
        assertThat(states[0]).hasSize(2 * c);
        for (int j = 0; j < c; j++) {
            assertThat(states[0][c + j]).isEqualTo(states[1][j]);
            assertThat(states[3][c + j]).isZero();
        }
    }
}
