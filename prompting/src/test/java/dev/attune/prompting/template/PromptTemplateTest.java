package dev.attune.prompting.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PromptTemplateTest {

    @Test
    void rendersVariablesInOrderWithDefaults() {
        PromptTemplate t = PromptTemplate.builder("Q: {question}\nTopic: {topic}\nA:")
                .defaultValue("topic", "general").build();
        assertThat(t.variables()).containsExactly("question", "topic");
        assertThat(t.render("question", "Why?")).isEqualTo("Q: Why?\nTopic: general\nA:");
        assertThat(t.render(Map.of("question", "Why?", "topic", "science")))
                .isEqualTo("Q: Why?\nTopic: science\nA:");
    }

    @Test
    void doubledBracesAreLiteral() {
        PromptTemplate t = PromptTemplate.of("{{\"q\": \"{q}\"}} {{x}}");
        assertThat(t.variables()).containsExactly("q");
        assertThat(t.render("q", 1)).isEqualTo("{\"q\": \"1\"} {x}");
    }

    @Test
    void renderNamesEveryMissingAndUnusedVariable() {
        PromptTemplate t = PromptTemplate.of("{a} {b} {c}");
        assertThatThrownBy(() -> t.render(Map.of("a", 1, "d", 2, "e", 3)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("missing variable(s) [b, c]")
                .hasMessageContaining("unused variable(s) [d, e]");
        assertThat(t.validate(Set.of("a", "b", "c"))).isEmpty();
    }

    @Test
    void syntaxErrorsGivePositions() {
        assertThatThrownBy(() -> PromptTemplate.of("a {b"))
                .hasMessageContaining("unclosed '{' at position 2");
        assertThatThrownBy(() -> PromptTemplate.of("a } b"))
                .hasMessageContaining("unmatched '}' at position 2");
        assertThatThrownBy(() -> PromptTemplate.of("{1x} {a b}"))
                .hasMessageContaining("bad variable name \"1x\" at position 0")
                .hasMessageContaining("bad variable name \"a b\" at position 5");
        assertThatThrownBy(() -> PromptTemplate.builder("{a}").defaultValue("b", "x").build())
                .hasMessageContaining("default(s) for unused variable(s) [b]");
    }

    @Test
    void savesAndLoadsJsonAndYaml(@TempDir Path dir) throws IOException {
        PromptTemplate t = PromptTemplate.builder("{{literal}} {text}\n{suffix}").defaultValue("suffix", "Label:")
                .build();
        for (String name : List.of("t.json", "t.yml")) {
            Path f = dir.resolve(name);
            t.save(f);
            PromptTemplate back = PromptTemplate.load(f);
            assertThat(back).isEqualTo(t);
            assertThat(back.render("text", "x")).isEqualTo("{literal} x\nLabel:");
        }
    }

    @Test
    void loadErrorsNameFileAndField(@TempDir Path dir) throws IOException {
        Path noTemplate = dir.resolve("none.json");
        Files.writeString(noTemplate, "{\"defaults\": {}}");
        assertThatThrownBy(() -> PromptTemplate.load(noTemplate))
                .hasMessageContaining("none.json").hasMessageContaining("missing field \"template\"");
        Path bad = dir.resolve("bad.yaml");
        Files.writeString(bad, "template: \"{x\"\n");
        assertThatThrownBy(() -> PromptTemplate.load(bad))
                .hasMessageContaining("bad.yaml").hasMessageContaining("field \"template\"")
                .hasMessageContaining("unclosed '{' at position 0");
        Path extra = dir.resolve("extra.json");
        Files.writeString(extra, "{\"template\": \"{x}\", \"defualts\": {}}");
        assertThatThrownBy(() -> PromptTemplate.load(extra)).hasMessageContaining("defualts");
    }

    @Test
    void fewShotFormatUsesLmEvalDelimiters() {
        FewShotFormat f = FewShotFormat.LM_EVAL.withInstruction("Answer the questions.");
        String context = f.context(List.of(new FewShotFormat.Demo("Q: 1+1?\nA:", "2"),
                new FewShotFormat.Demo("Q: 2+2?\nA:", "4")), "Q: 3+3?\nA:");
        assertThat(context).isEqualTo("Answer the questions.\n\nQ: 1+1?\nA: 2\n\nQ: 2+2?\nA: 4\n\nQ: 3+3?\nA:");
        assertThat(f.continuation("6")).isEqualTo(" 6");
        assertThat(FewShotFormat.LM_EVAL.context(List.of(), "Q")).isEqualTo("Q");
        FewShotFormat custom = FewShotFormat.LM_EVAL.withTargetDelimiter("\n").withFewshotDelimiter("\n###\n");
        assertThat(custom.context(List.of(new FewShotFormat.Demo("a", "b")), "c")).isEqualTo("a\nb\n###\nc");
    }
}
