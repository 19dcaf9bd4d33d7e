package dev.attune.examples.support;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.prompting.template.ChatMessage;
import dev.attune.prompting.template.ChatTemplate;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SupportExampleTest {

    @Test
    void replayedConversationAfterFineTuning(@TempDir Path out) throws Exception {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        SupportExample.Settings s = SupportExample.Settings.defaults().reduced()
                .withPaths(Path.of("base-model"), Path.of("data", "support"), out).withProgress(false);
        SupportExample.Result r = SupportExample.run(s, new PrintStream(text, true, StandardCharsets.UTF_8), null);

        assertThat(r.rougeLAfter()).isGreaterThan(r.rougeLBefore() + 0.2);
        assertThat(r.conversation()).hasSize(1 + 2 * SupportExample.SCRIPT.size());
        assertThat(r.conversation().get(1)).isEqualTo(ChatMessage.user(SupportExample.SCRIPT.get(0)));
        assertThat(r.conversation().get(2).role()).isEqualTo("assistant");
        // the reply to the password question is the one the training dialogues teach, or close to it
        assertThat(r.conversation().get(2).content().toLowerCase()).contains("password");
        String report = text.toString(StandardCharsets.UTF_8);
        assertThat(report).contains("you> Hi! I forgot my password.").contains("assistant> ");
    }

    @Test
    void typedTurnsEndAtAnEmptyLine(@TempDir Path out) throws Exception {
        var lm = dev.attune.core.checkpoint.Pretrained.load(Path.of("base-model"));
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        List<ChatMessage> d = SupportExample.chat(lm, ChatTemplate.simple(), new PrintStream(text, true,
                StandardCharsets.UTF_8), new BufferedReader(new StringReader("Hello\n\nnot read\n")));
        assertThat(d).hasSize(3);
        assertThat(d.get(1)).isEqualTo(ChatMessage.user("Hello"));
    }

    @Test
    void everyAssistantTurnIsACompletionOfTheDialogueBeforeIt() {
        List<ChatMessage> d = List.of(ChatMessage.system("S"), ChatMessage.user("U1"), ChatMessage.assistant("A1"),
                ChatMessage.user("U2"), ChatMessage.assistant("A2"));
        var pairs = SupportExample.pairs(ChatTemplate.simple(), List.of(d));
        assertThat(pairs).hasSize(2);
        assertThat(pairs.get(0).prompt()).isEqualTo("System: S\nUser: U1\nAssistant: ");
        assertThat(pairs.get(0).completion()).isEqualTo("A1");
        assertThat(pairs.get(1).prompt()).isEqualTo("System: S\nUser: U1\nAssistant: A1\nUser: U2\nAssistant: ");
    }
}
