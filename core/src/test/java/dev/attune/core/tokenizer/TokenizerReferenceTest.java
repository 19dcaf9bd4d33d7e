package dev.attune.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.junit.jupiter.api.Test;

/**
 * GPT-2's tokenizer against ids that three independent implementations agreed on: tiktoken (r50k_base ranks),
 * OpenAI's original encoder.py algorithm and Hugging Face tokenizers' ByteLevel BPE, written by
 * {@code scripts/interop/make_tokenizer_fixtures.py} into {@code tokenizer/gpt2-reference-ids.jsonl} (hand-picked
 * tricky strings, prose in several scripts, and 1,500 random strings of mixed scripts, whitespace, digits and
 * contractions).
 */
class TokenizerReferenceTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private record Case(String text, int[] ids) {
    }

    private static List<Case> cases() throws IOException {
        List<Case> out = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(Objects.requireNonNull(
                TokenizerReferenceTest.class.getResourceAsStream("/tokenizer/gpt2-reference-ids.jsonl")),
                StandardCharsets.UTF_8))) {
            JsonNode header = JSON.readTree(in.readLine());
            assertThat(header.get("made_by").asText()).isEqualTo("scripts/interop/make_tokenizer_fixtures.py");
            String line;
            while ((line = in.readLine()) != null) {
                JsonNode n = JSON.readTree(line);
                int[] ids = new int[n.get("ids").size()];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = n.get("ids").get(i).intValue();
                }
                out.add(new Case(n.get("text").asText(), ids));
            }
        }
        return out;
    }

    @Test
    void encodesAsTiktokenOpenAiAndHuggingFaceDo() throws IOException {
        List<Case> cases = cases();
        assertThat(cases).hasSizeGreaterThan(1500);
        Tokenizer gpt2 = Tokenizer.gpt2();
        List<String> wrong = new ArrayList<>();
        for (Case c : cases) {
            int[] got = gpt2.encode(c.text());
            if (!java.util.Arrays.equals(got, c.ids())) {
                wrong.add(JSON.valueToTree(c.text()) + ": " + java.util.Arrays.toString(got) + " expected "
                        + java.util.Arrays.toString(c.ids()));
            }
        }
        assertThat(wrong).as("strings encoded differently from the reference implementations").isEmpty();
    }

    @Test
    void decodingTheReferenceIdsGivesTheTextBack() throws IOException {
        Tokenizer gpt2 = Tokenizer.gpt2();
        for (Case c : cases()) {
            assertThat(gpt2.decode(c.ids())).isEqualTo(c.text());
        }
    }
}
