package dev.attune.finetune.tribuo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.attune.finetune.tribuo.EntityReport.Entity;
import dev.attune.finetune.tribuo.EntityReport.Scheme;
import java.util.List;
import org.junit.jupiter.api.Test;

class EntityReportTest {

    private static List<String> tags(String s) {
        return List.of(s.split(" "));
    }

    @Test
    void spansOfTheLenientAndTheStrictReading() {
        List<String> t = tags("B-PER I-PER O I-LOC I-LOC B-LOC B-ORG I-PER O");
        assertThat(EntityReport.entities(0, t, Scheme.CONLL)).containsExactly(new Entity(0, "PER", 0, 1),
                new Entity(0, "LOC", 3, 4), new Entity(0, "LOC", 5, 5), new Entity(0, "ORG", 6, 6),
                new Entity(0, "PER", 7, 7));
        // strict IOB2: an I- that continues no B-/I- of its type belongs to no entity
        assertThat(EntityReport.entities(0, t, Scheme.STRICT_IOB2)).containsExactly(new Entity(0, "PER", 0, 1),
                new Entity(0, "LOC", 5, 5), new Entity(0, "ORG", 6, 6));
        // an entity runs to the sentence's end, and never into the next sentence
        assertThat(EntityReport.entities(3, tags("O B-LOC I-LOC"), Scheme.CONLL))
                .containsExactly(new Entity(3, "LOC", 1, 2));
        // IOBES read as conlleval reads it
        assertThat(EntityReport.entities(0, tags("S-PER B-LOC E-LOC O"), Scheme.CONLL))
                .containsExactly(new Entity(0, "PER", 0, 0), new Entity(0, "LOC", 1, 2));
    }

    @Test
    void handComputedPrecisionRecallAndF1() {
        // truth: PER(0-1), LOC(4), LOC(6) | ORG(0-2)                          -> 4 entities
        // predicted: PER(0-1) right, LOC(4) right, LOC(5-6) wrong span | ORG(0-1) wrong span, PER(3) spurious
        List<List<String>> truth = List.of(tags("B-PER I-PER O O B-LOC O B-LOC"), tags("B-ORG I-ORG I-ORG O"));
        List<List<String>> predicted = List.of(tags("B-PER I-PER O O B-LOC B-LOC I-LOC"), tags("B-ORG I-ORG O B-PER"));
        EntityReport r = EntityReport.of(truth, predicted);
        assertThat(r.correct()).isEqualTo(2);
        assertThat(r.predicted()).isEqualTo(5);
        assertThat(r.actual()).isEqualTo(4);
        assertThat(r.precision()).isCloseTo(2 / 5.0, within(1e-12));
        assertThat(r.recall()).isCloseTo(2 / 4.0, within(1e-12));
        assertThat(r.f1()).isCloseTo(2 * 0.4 * 0.5 / 0.9, within(1e-12));
        assertThat(r.perType()).containsOnlyKeys("LOC", "ORG", "PER");
        assertThat(r.perType().get("LOC")).isEqualTo(new EntityReport.Scores(0.5, 0.5, 0.5, 2, 2, 1));
        assertThat(r.perType().get("ORG")).isEqualTo(new EntityReport.Scores(0, 0, 0, 1, 1, 0));
        assertThat(r.perType().get("PER").precision()).isEqualTo(0.5);
        assertThat(r.perType().get("PER").recall()).isEqualTo(1.0);
        assertThat(r.toString()).contains("micro avg").contains("LOC");

        EntityReport none = EntityReport.of(List.of(tags("O O")), List.of(tags("O O")));
        assertThat(none.f1()).isZero();
        assertThat(none.precision()).isZero();
    }

    /** The examples of seqeval's own README (its documented output for them). */
    @Test
    void seqevalsReadmeExamples() {
        List<List<String>> truth = List.of(tags("O O O B-MISC I-MISC I-MISC O"), tags("B-PER I-PER O"));
        List<List<String>> predicted = List.of(tags("O O B-MISC I-MISC I-MISC I-MISC O"), tags("B-PER I-PER O"));
        EntityReport r = EntityReport.of(truth, predicted);
        assertThat(r.f1()).isCloseTo(0.50, within(1e-12));           // f1_score(y_true, y_pred) -> 0.50
        assertThat(r.perType().get("MISC").f1()).isZero();           // MISC 0.00 0.00 0.00 1
        assertThat(r.perType().get("PER").f1()).isEqualTo(1.0);      // PER  1.00 1.00 1.00 1

        // mode="strict", scheme=IOB2: the chunk that starts with I- is no entity
        List<List<String>> t2 = List.of(tags("B-NP I-NP O"));
        List<List<String>> p2 = List.of(tags("I-NP I-NP O"));
        assertThat(EntityReport.of(t2, p2).perType().get("NP").f1()).isEqualTo(1.0);
        assertThat(EntityReport.of(t2, p2, Scheme.STRICT_IOB2).perType().get("NP").f1()).isZero();
    }

    @Test
    void mismatchedSequencesAreErrors() {
        assertThatThrownBy(() -> EntityReport.of(List.of(tags("O O")), List.of(tags("O"))))
                .hasMessageContaining("sentence 1: 2 true tags but 1 predicted");
        assertThatThrownBy(() -> EntityReport.of(List.of(tags("O")), List.of()))
                .hasMessageContaining("1 true tag sequences but 0 predicted");
        assertThatThrownBy(() -> EntityReport.entities(0, tags("O PER"), Scheme.STRICT_IOB2))
                .hasMessageContaining("word 2").hasMessageContaining("not IOB2");
    }
}
