package dev.attune.prompting.verbalizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class VerbalizerTest {

    @Test
    void labelsKeepOrderAndFirstWordIsTheTarget() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("positive", List.of("great", "very good"));
        m.put("negative", List.of("terrible"));
        Verbalizer v = Verbalizer.of(m);
        assertThat(v.labels()).containsExactly("positive", "negative");
        assertThat(v.target("positive")).isEqualTo("great");
        assertThat(v.words("positive")).containsExactly("great", "very good");
        assertThat(v.indexOf("negative")).isEqualTo(1);
        assertThat(Verbalizer.combine(new double[] {-3.5, -1.25, -7})).isEqualTo(-1.25);
        assertThatThrownBy(() -> v.words("neutral")).hasMessageContaining("\"neutral\"");
    }

    @Test
    void rejectsLabelsWithoutWords() {
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("a", List.of());
        m.put("b", List.of(" "));
        assertThatThrownBy(() -> Verbalizer.of(m))
                .hasMessageContaining("label \"a\" has no words")
                .hasMessageContaining("label \"b\" word 0 is blank");
    }
}
