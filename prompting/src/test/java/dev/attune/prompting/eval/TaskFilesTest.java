package dev.attune.prompting.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TaskFilesTest {

    @TempDir
    Path dir;

    private Path file(String name, String... lines) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, String.join("\n", lines) + "\n");
        return f;
    }

    @Test
    void readsEveryTypeAndKeepsLineNumbers() throws IOException {
        List<TaskItem> mc = TaskFiles.read(file("mc.jsonl",
                "{\"context\": \"2+2=\", \"choices\": [\"4\", \"5\"], \"gold\": 0, \"id\": 7}",
                "",
                "{\"context\": \"Sky?\", \"choices\": [\"red\", \"blue\", \"green\"], \"gold\": 1}"), TaskType.MC);
        assertThat(mc).hasSize(2);
        assertThat(mc.get(0).fields()).containsEntry("context", "2+2=").containsEntry("id", "7");
        assertThat(mc.get(1).line()).isEqualTo(3);
        assertThat(mc.get(1).choices()).containsExactly("red", "blue", "green");
        assertThat(mc.get(1).balanceLabel()).isEqualTo("1");

        List<TaskItem> cls = TaskFiles.read(file("cls.jsonl", "{\"text\": \"great\", \"label\": 1}"), TaskType.CLS);
        assertThat(cls.get(0).label()).isEqualTo("1");

        List<TaskItem> gen = TaskFiles.read(file("gen.jsonl", "{\"prompt\": \"Capital of France?\", \"answer\": \"Paris\"}",
                "{\"prompt\": \"Two?\", \"answers\": [\"2\", \"two\"]}"), TaskType.GENERATE);
        assertThat(gen.get(0).answers()).containsExactly("Paris");
        assertThat(gen.get(1).answers()).containsExactly("2", "two");

        assertThat(TaskFiles.read(file("lm.jsonl", "{\"text\": \"Some text.\"}"), TaskType.LM)).hasSize(1);
    }

    @Test
    void errorsNameFileLineAndField() throws IOException {
        Path badGold = file("gold.jsonl", "{\"context\": \"a\", \"choices\": [\"x\", \"y\"], \"gold\": 0}",
                "{\"context\": \"b\", \"choices\": [\"x\", \"y\"], \"gold\": 2}");
        assertThatThrownBy(() -> TaskFiles.read(badGold, TaskType.MC)).isInstanceOf(TaskFileException.class)
                .hasMessage(badGold + ":2: field \"gold\": index 2 is outside the 2 choices");

        Path badChoice = file("choice.jsonl", "{\"context\": \"a\", \"choices\": [\"x\", 3], \"gold\": 0}");
        assertThatThrownBy(() -> TaskFiles.read(badChoice, TaskType.MC))
                .hasMessageContaining("choice.jsonl:1: field \"choices\": element 1 must be a string, got number");

        Path notJson = file("broken.jsonl", "{\"text\": \"a\", \"label\": \"x\"}", "{\"text\": ");
        assertThatThrownBy(() -> TaskFiles.read(notJson, TaskType.CLS))
                .hasMessageContaining("broken.jsonl:2: not valid JSON");

        Path both = file("both.jsonl", "{\"prompt\": \"p\", \"answer\": \"a\", \"answers\": [\"a\"]}");
        assertThatThrownBy(() -> TaskFiles.read(both, TaskType.GENERATE))
                .hasMessageContaining("both.jsonl:1: field \"answers\": give \"answer\" or \"answers\", not both");

        Path noLabel = file("nolabel.jsonl", "{\"text\": \"a\"}");
        assertThatThrownBy(() -> TaskFiles.read(noLabel, TaskType.CLS))
                .hasMessageContaining("nolabel.jsonl:1: field \"label\": missing");

        Path nested = file("nested.jsonl", "{\"text\": {\"a\": 1}}");
        assertThatThrownBy(() -> TaskFiles.read(nested, TaskType.LM))
                .hasMessageContaining("nested.jsonl:1: field \"text\": must be a string or number, got object");

        assertThatThrownBy(() -> TaskFiles.read(file("empty.jsonl", ""), TaskType.LM))
                .hasMessageContaining("no items");
    }
}
