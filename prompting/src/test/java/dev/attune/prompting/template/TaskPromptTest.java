package dev.attune.prompting.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.prompting.verbalizer.Verbalizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TaskPromptTest {

    @Test
    void loadsEveryPartWithDefaults(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("p.yaml");
        Files.writeString(f, """
                template: "Review: {text}\\nSentiment:"
                instruction: Classify the reviews.
                verbalizer:
                  pos: [great, very good]
                  neg: bad
                """);
        TaskPrompt p = TaskPrompt.load(f);
        assertThat(p.template().render("text", "Fine.")).isEqualTo("Review: Fine.\nSentiment:");
        assertThat(p.format()).isEqualTo(new FewShotFormat("Classify the reviews.", " ", "\n\n"));
        assertThat(p.verbalizer().words("pos")).containsExactly("great", "very good");
        assertThat(p.verbalizer().words("neg")).containsExactly("bad");

        Path back = dir.resolve("back.json");
        p.save(back);
        assertThat(TaskPrompt.load(back)).isEqualTo(p);
    }

    @Test
    void badVerbalizerNamesFileAndField(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, "{\"template\": \"{text}\", \"verbalizer\": {\"pos\": [1]}}");
        assertThatThrownBy(() -> TaskPrompt.load(f)).hasMessageContaining("bad.json")
                .hasMessageContaining("\"verbalizer\".\"pos\"[0] must be a string");
        Map<String, List<String>> m = new LinkedHashMap<>();
        m.put("a", List.of("x"));
        assertThat(TaskPrompt.of(PromptTemplate.of("{t}")).withVerbalizer(Verbalizer.of(m)).verbalizer().labels())
                .containsExactly("a");
    }
}
