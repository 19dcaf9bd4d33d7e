package dev.attune.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerFilesTest {

    private static final BpeTokenizer GPT2 = Tokenizer.gpt2();

    /** A tiny byte-level vocabulary: byte b has id b, then merges "a b" -> "ab", "ab c" -> "abc", "Ġ a" -> "Ġa". */
    private static void writeTinyVocab(Path dir) throws IOException {
        StringBuilder vocab = new StringBuilder("{");
        for (int b = 0; b < 256; b++) {
            String spelled = ByteLevel.encode(new byte[] {(byte) b});
            vocab.append('"').append(spelled.equals("\"") ? "\\\"" : spelled.equals("\\") ? "\\\\" : spelled)
                    .append("\": ").append(b).append(",\n");
        }
        vocab.append("\"ab\": 256,\n\"abc\": 257,\n\"\u0120a\": 258,\n\"<|endoftext|>\": 259}\n");
        Files.writeString(dir.resolve("vocab.json"), vocab.toString());
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b\nab c\n\u0120 a\n");
    }

    @Test
    void loadsVocabAndMergesFromAModelDirectory(@TempDir Path dir) throws IOException {
        writeTinyVocab(dir);
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"gpt2\"}");
        BpeTokenizer t = Tokenizer.load(dir);
        assertThat(t.vocabSize()).isEqualTo(260);
        assertThat(t.mergeCount()).isEqualTo(3);
        assertThat(t.eosId()).hasValue(259);
        // By hand (byte ids = byte values): "abc" -> a b c -> ab c -> abc. " abd" -> Ġ a b d: "a b" (rank 0)
        // outranks "Ġ a" (rank 2), giving Ġ ab d, and "Ġ ab" is no merge. " ac" -> Ġ a c -> Ġa c.
        assertThat(t.encode("abc abd ac")).containsExactly(257, ' ', 256, 'd', 258, 'c');
        assertThat(t.decode(t.encode("abc abd ac"))).isEqualTo("abc abd ac");
    }

    @Test
    void readsAddedTokensAndRolesBesideVocabAndMerges(@TempDir Path dir) throws IOException {
        writeTinyVocab(dir);
        Files.writeString(dir.resolve("added_tokens.json"), "{\"<pad>\": 260}");
        Files.writeString(dir.resolve("special_tokens_map.json"),
                "{\"pad_token\": {\"content\": \"<pad>\"}, \"eos_token\": \"<|endoftext|>\", \"bos_token\": null}");
        BpeTokenizer t = Tokenizer.load(dir);
        assertThat(t.vocabSize()).isEqualTo(261);
        assertThat(t.padId()).hasValue(260);
        assertThat(t.eosId()).hasValue(259);
        assertThat(t.bosId()).isEmpty();
        assertThat(t.encode("ab<pad>", Set.of("<pad>"))).containsExactly(256, 260);

        Files.writeString(dir.resolve("added_tokens.json"), "{\"<pad>\": \"x\"}");
        assertThatThrownBy(() -> Tokenizer.load(dir)).hasMessageContaining("added_tokens.json")
                .hasMessageContaining("<pad>");
    }

    @Test
    void saveThenLoadGivesTheSameTokenizer(@TempDir Path dir) throws IOException {
        BpeTokenizer chat = GPT2.withSpecialTokens("<|user|>").withPadToken("<|pad|>");
        chat.save(dir);
        assertThat(dir.resolve("vocab.json")).exists();
        assertThat(dir.resolve("merges.txt")).exists();
        assertThat(dir.resolve("tokenizer.json")).exists();
        BpeTokenizer fromJson = Tokenizer.load(dir);
        Files.delete(dir.resolve("tokenizer.json"));
        BpeTokenizer fromVocab = Tokenizer.load(dir);
        for (BpeTokenizer t : new BpeTokenizer[] {fromJson, fromVocab}) {
            assertThat(t.vocabSize()).isEqualTo(chat.vocabSize());
            assertThat(t.specialTokens()).isEqualTo(chat.specialTokens());
            assertThat(t.padId()).isEqualTo(chat.padId());
            assertThat(t.eosId()).hasValue(50256);
            Random random = new Random(1);
            for (int i = 0; i < 200; i++) {
                String s = TokenizerTestData.randomText(random, 30) + "<|user|>";
                assertThat(t.encode(s, Set.of("<|user|>"))).containsExactly(chat.encode(s, Set.of("<|user|>")));
            }
        }
    }

    @Test
    void readsHuggingFaceTokenizerJson(@TempDir Path dir) throws IOException {
        // Newer tokenizers write merges as pairs; older as "a b" strings. Both are read.
        String json = """
                {"version": "1.0", "added_tokens": [{"id": 5, "content": "<eos>", "special": true}],
                 "normalizer": null,
                 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true},
                 "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "\u0120": 3, "\u0120ab": 4},
                           "merges": [["a", "b"], "\u0120 ab"]}}
                """;
        Files.writeString(dir.resolve("tokenizer.json"), json);
        Files.writeString(dir.resolve("special_tokens_map.json"), "{\"eos_token\": \"<eos>\"}");
        BpeTokenizer t = Tokenizer.load(dir);
        assertThat(t.encode("ab ab")).containsExactly(2, 4);
        assertThat(t.encode("ab<eos>", Set.of("<eos>"))).containsExactly(2, 5);
        assertThat(t.eosId()).hasValue(5);
        assertThat(t.bosId()).isEmpty();
        assertThatThrownBy(() -> t.encode("c")).hasMessageContaining("byte 0x63 has no token");
    }

    @Test
    void malformedFilesNameTheFileAndLine(@TempDir Path dir) throws IOException {
        writeTinyVocab(dir);
        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b\nab  c\n");
        assertThatThrownBy(() -> Tokenizer.load(dir)).isInstanceOf(IOException.class)
                .hasMessageContaining("merges.txt line 3").hasMessageContaining("two tokens");

        Files.writeString(dir.resolve("merges.txt"), "#version: 0.2\na b\nab q\u0120\n");
        assertThatThrownBy(() -> Tokenizer.load(dir)).hasMessageContaining("merges.txt line 3")
                .hasMessageContaining("not in the vocabulary");

        Files.writeString(dir.resolve("merges.txt"), "a b\n");
        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0,\n\"b\": 1,\n\"ab\": \"two\"}");
        assertThatThrownBy(() -> Tokenizer.load(dir)).hasMessageContaining("vocab.json line 3")
                .hasMessageContaining("\"ab\"");

        Files.writeString(dir.resolve("vocab.json"), "{\"a\": 0,\n\"b\": 1,\n\"ab\" 2}");
        assertThatThrownBy(() -> Tokenizer.load(dir)).hasMessageContaining("vocab.json line 3")
                .hasMessageContaining("not valid JSON");

        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"WordPiece\"}}");
        assertThatThrownBy(() -> Tokenizer.load(dir)).hasMessageContaining("tokenizer.json")
                .hasMessageContaining("WordPiece");

        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": \n{\"type\": \"BPE\",, }}");
        assertThatThrownBy(() -> Tokenizer.load(dir)).hasMessageContaining("tokenizer.json, line 2, column 16");
    }

    @Test
    void missingFilesAreNamed(@TempDir Path dir) throws IOException {
        assertThatThrownBy(() -> Tokenizer.load(dir.resolve("nope"))).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("nope");
        Files.writeString(dir.resolve("vocab.json"), "{}", StandardCharsets.UTF_8);
        assertThatThrownBy(() -> Tokenizer.load(dir)).isInstanceOf(NoSuchFileException.class)
                .hasMessageContaining("merges.txt");
    }
}
