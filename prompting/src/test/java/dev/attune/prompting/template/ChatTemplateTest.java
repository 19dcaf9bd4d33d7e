package dev.attune.prompting.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChatTemplateTest {

    private static final List<ChatMessage> DIALOGUE = List.of(
            ChatMessage.system("You are terse."), ChatMessage.user("Hi"), ChatMessage.assistant("Hello."),
            ChatMessage.user("Bye"));

    @Test
    void simpleRendersRolesLineByLineAndEndsWithTheAssistantPrefix() {
        ChatTemplate t = ChatTemplate.simple();
        assertThat(t.render(DIALOGUE, true))
                .isEqualTo("System: You are terse.\nUser: Hi\nAssistant: Hello.\nUser: Bye\nAssistant: ");
        assertThat(t.render(DIALOGUE, false))
                .isEqualTo("System: You are terse.\nUser: Hi\nAssistant: Hello.\nUser: Bye");
        assertThat(t.render(List.of(), true)).isEqualTo("Assistant: ");
        assertThat(t.stopStrings()).containsExactly("\nUser:", "\nSystem:");
    }

    @Test
    void chatMlStyleMarkersAndDerivedStops() {
        ChatTemplate t = ChatTemplate.builder()
                .systemPrefix("<|im_start|>system\n").systemSuffix("<|im_end|>")
                .userPrefix("<|im_start|>user\n").userSuffix("<|im_end|>")
                .assistantPrefix("<|im_start|>assistant\n").assistantSuffix("<|im_end|>")
                .separator("\n").build();
        assertThat(t.render(List.of(ChatMessage.user("2+2?"), ChatMessage.assistant("4")), true)).isEqualTo(
                "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|im_start|>assistant\n");
        assertThat(t.stopStrings())
                .containsExactly("<|im_end|>", "\n<|im_start|>user", "\n<|im_start|>system");
    }

    @Test
    void explicitStopStringsReplaceTheDerivedOnes() {
        ChatTemplate t = ChatTemplate.builder().stopStrings("###").build();
        assertThat(t.stopStrings()).containsExactly("###");
    }

    @Test
    void buildNamesEveryProblem() {
        assertThatThrownBy(() -> ChatTemplate.builder().userPrefix("").assistantPrefix(null).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("assistantPrefix must not be null");
        assertThatThrownBy(() -> ChatTemplate.builder().userPrefix("").build())
                .hasMessageContaining("userPrefix must not be empty");
        assertThatThrownBy(() -> ChatTemplate.builder().userPrefix("X: ").assistantPrefix("X: ").build())
                .hasMessageContaining("must differ");
        assertThatThrownBy(() -> ChatTemplate.builder().stopStrings("a", "").build())
                .hasMessageContaining("stopStrings[1]");
    }

    @Test
    void messagesValidateTheirRole() {
        assertThatThrownBy(() -> new ChatMessage("bot", "x")).hasMessageContaining("\"bot\"");
        assertThatThrownBy(() -> new ChatMessage("user", null)).hasMessageContaining("user message content");
    }

    @Test
    void savesAndLoadsJsonAndYaml(@TempDir Path dir) throws IOException {
        ChatTemplate t = ChatTemplate.builder().userPrefix("### Human: ").assistantPrefix("### Bot: ")
                .separator("\n\n").stopStrings("###").build();
        for (String name : List.of("chat.json", "chat.yaml")) {
            Path file = dir.resolve(name);
            t.save(file);
            ChatTemplate back = ChatTemplate.load(file);
            assertThat(back).isEqualTo(t);
            assertThat(back.render(DIALOGUE, true)).isEqualTo(t.render(DIALOGUE, true));
        }
        assertThat(Files.readString(dir.resolve("chat.json"))).contains("\"user_prefix\" : \"### Human: \"");
    }

    @Test
    void loadFillsDefaultsAndNamesBadFields(@TempDir Path dir) throws IOException {
        Path partial = dir.resolve("partial.json");
        Files.writeString(partial, "{\"separator\": \"\\n\\n\"}");
        assertThat(ChatTemplate.load(partial).render(DIALOGUE.subList(1, 3), false))
                .isEqualTo("User: Hi\n\nAssistant: Hello.");

        Path typo = dir.resolve("typo.json");
        Files.writeString(typo, "{\"user_prefx\": \"U: \"}");
        assertThatThrownBy(() -> ChatTemplate.load(typo)).isInstanceOf(IOException.class)
                .hasMessageContaining("typo.json").hasMessageContaining("user_prefx");

        Path wrongType = dir.resolve("wrong.yaml");
        Files.writeString(wrongType, "user_prefix: [1, 2]\n");
        assertThatThrownBy(() -> ChatTemplate.load(wrongType))
                .hasMessageContaining("wrong.yaml").hasMessageContaining("\"user_prefix\" must be a string");

        Path invalid = dir.resolve("invalid.json");
        Files.writeString(invalid, "{\"assistant_prefix\": \"\"}");
        assertThatThrownBy(() -> ChatTemplate.load(invalid))
                .hasMessageContaining("invalid.json").hasMessageContaining("assistantPrefix must not be empty");
    }
}
