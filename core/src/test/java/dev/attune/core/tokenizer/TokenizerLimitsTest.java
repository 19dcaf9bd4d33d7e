package dev.attune.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokenizer files that used to be read wrongly or exhaust memory, and the long-piece merge. */
class TokenizerLimitsTest {

    @TempDir
    Path dir;

    /** Every byte as a token (ids 0..255), one merge "a b" -> "ab" (256). */
    private static String vocab(String extra) {
        StringBuilder v = new StringBuilder("{");
        for (int b = 0; b < 256; b++) {
            String spelled = ByteLevel.encode(new byte[] {(byte) b});
            v.append('"').append(spelled.equals("\"") ? "\\\"" : spelled.equals("\\") ? "\\\\" : spelled)
                    .append("\": ").append(b).append(",\n");
        }
        return v.append("\"ab\": 256").append(extra).append("}\n").toString();
    }

    @Test
    void anIdFarBeyondTheEntryCountIsRefusedBeforeAnythingIsAllocated() throws IOException {
        Files.writeString(dir.resolve("vocab.json"), vocab(",\n\"abc\": 2000000000"));
        Files.writeString(dir.resolve("merges.txt"), "a b\n");
        assertThatThrownBy(() -> Tokenizer.load(dir)).hasMessageContaining("vocab.json")
                .hasMessageContaining("id 2000000000 of \"abc\" is not below the number of entries (258)");

        Files.writeString(dir.resolve("vocab.json"), vocab(""));
        Files.writeString(dir.resolve("added_tokens.json"), "{\"<pad>\": 2000000000}");
        assertThatThrownBy(() -> Tokenizer.load(dir)).hasMessageContaining("added token \"<pad>\" has id 2000000000");
    }

    @Test
    void tokenizerJsonRefusesAVocabularyKeyGivenTwiceAsVocabJsonDoes() throws IOException {
        String vocab = vocab(",\n\"ab\": 257");
        Files.writeString(dir.resolve("tokenizer.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": " + vocab
                + ", \"merges\": [\"a b\"]}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}");
        assertThatThrownBy(() -> Tokenizer.load(dir)).hasMessageContaining("tokenizer.json, line 258")
                .hasMessageContaining("the key \"ab\" appears twice");

        Files.delete(dir.resolve("tokenizer.json"));
        Files.writeString(dir.resolve("vocab.json"), vocab);
        Files.writeString(dir.resolve("merges.txt"), "a b\n");
        assertThatThrownBy(() -> Tokenizer.load(dir)).hasMessageContaining("vocab.json line 258")
                .hasMessageContaining("\"ab\" appears twice");
    }

    @Test
    void longPiecesMergeExactlyLikeTheDirectAlgorithm() {
        // BpeModel.merge switches to the heap for pieces over 256 symbols; both must apply the same merges
        BpeTokenizer gpt2 = Tokenizer.gpt2();
        SplittableRandom r = new SplittableRandom(9);
        String alphabet = "aab.=+/0";
        for (int trial = 0; trial < 20; trial++) {
            StringBuilder s = new StringBuilder();
            int n = 257 + r.nextInt(2000);
            char run = alphabet.charAt(r.nextInt(alphabet.length()));
            for (int i = 0; i < n; i++) {
                s.append(r.nextInt(4) == 0 ? alphabet.charAt(r.nextInt(alphabet.length())) : run);
            }
            byte[] bytes = s.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
            int[] heap = gpt2.model().encode(bytes);
            int[] direct = BpeModel.mergeDirect(gpt2.model().initialSymbols(bytes), gpt2.model().pairs());
            assertThat(heap).as("trial %d", trial).containsExactly(direct);
            assertThat(gpt2.decode(heap)).isEqualTo(s.toString());
        }
    }

    @Test
    void theMinHeapPollsInOrder() {
        BpeModel.LongHeap heap = new BpeModel.LongHeap(1);
        long[] values = new SplittableRandom(3).longs(5000, 0, 1000).toArray();
        for (long v : values) {
            heap.add(v);
        }
        Arrays.sort(values);
        for (long v : values) {
            assertThat(heap.poll()).isEqualTo(v);
        }
        assertThat(heap.isEmpty()).isTrue();
    }
}
