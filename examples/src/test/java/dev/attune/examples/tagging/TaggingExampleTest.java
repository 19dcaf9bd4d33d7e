package dev.attune.examples.tagging;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.examples.common.LabelTable;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class TaggingExampleTest {

    @Test
    void crfAndFineTunedTaggerFindEntitiesWellAboveTheAllOutsideBaseline() throws Exception {
        TaggingExample.Settings s = TaggingExample.Settings.defaults().reduced()
                .withPaths(Path.of("base-model"), Path.of("data", "tagging"));
        TaggingExample.Result r = TaggingExample.run(s, new PrintStream(OutputStream.nullOutputStream()));
        LabelTable t = r.table();

        assertThat(t.rows()).extracting(LabelTable.Row::method).containsExactly(TaggingExample.CRF,
                TaggingExample.TAGGER);
        assertThat(r.entities()).containsOnlyKeys(TaggingExample.CRF, TaggingExample.TAGGER);
        // tagging every word O scores O's share of the words (0.665 of these 80 sentences' 835 words) with a
        // macro-F1 of (2 * 0.665 / 1.665) / 6 = 0.133, and finds no entity (entity-level F1 0)
        for (LabelTable.Row row : t.rows()) {
            assertThat(row.f1PerLabel()).containsOnlyKeys(TaggingExample.TAGS);
            assertThat(row.accuracy()).as(row.method()).isGreaterThan(0.74);
            assertThat(row.macroF1()).as(row.method()).isGreaterThan(0.35);
            assertThat(r.entities().get(row.method()).f1()).as(row.method()).isGreaterThan(0.25);
        }
        // the CRF's word features (capitals, the next word) fit these templated sentences almost perfectly; the
        // causal model tags a word at its first sub-token, before it has seen the words that follow (a test
        // name's surname or an organisation's "Bank"), and the test names never occur in training
        assertThat(t.rows().get(0).macroF1()).isGreaterThan(0.9);
        assertThat(r.entities().get(TaggingExample.CRF).f1()).isGreaterThan(0.9);
    }
}
