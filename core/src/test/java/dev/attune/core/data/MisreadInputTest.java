package dev.attune.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.tokenizer.BatchEncoding;
import dev.attune.core.tokenizer.BatchOptions;
import dev.attune.core.tokenizer.Encoding;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Data files that used to be read wrongly without a word: each is now an error naming file and line, or read right. */
class MisreadInputTest {

    @TempDir
    Path dir;

    private static final Tokenizer GPT2 = Tokenizer.gpt2();

    @Test
    void jsonlWithTwoObjectsOnALineTrailingTextOrADuplicateKeyIsRefusedNamingTheLine() throws IOException {
        Path file = dir.resolve("pairs.jsonl");
        String good = "{\"prompt\": \"a\", \"completion\": \"b\"}";
        Files.writeString(file, good + "\n" + good + good + "\n");
        assertThatThrownBy(() -> PromptCompletionData.readJsonl(file, GPT2))
                .hasMessageContaining("pairs.jsonl, line 2, column")
                .hasMessageContaining("text after the JSON value (expected one value per line)");

        Files.writeString(file, good + " trailing words\n");
        assertThatThrownBy(() -> PromptCompletionData.readJsonl(file, GPT2))
                .hasMessageContaining("pairs.jsonl, line 1");

        Files.writeString(file, good + "\n{\"prompt\": \"a\", \"completion\": \"b\", \"completion\": \"c\"}\n");
        assertThatThrownBy(() -> PromptCompletionData.readJsonl(file, GPT2))
                .hasMessageContaining("pairs.jsonl, line 2, column")
                .hasMessageContaining("the key \"completion\" appears twice");
    }

    @Test
    void invalidUtf8NamesItsLineAndAByteOrderMarkIsSkipped() throws IOException {
        Path file = dir.resolve("pairs.jsonl");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.writeBytes("{\"prompt\": \"a\", \"completion\": \"b\"}\n\n".getBytes(StandardCharsets.UTF_8));
        bytes.writeBytes("{\"prompt\": \"caf".getBytes(StandardCharsets.UTF_8));
        bytes.write(0xE9); // Latin-1 e-acute
        bytes.writeBytes("\", \"completion\": \"b\"}\n".getBytes(StandardCharsets.UTF_8));
        Files.write(file, bytes.toByteArray());
        assertThatThrownBy(() -> PromptCompletionData.readJsonl(file, GPT2))
                .hasMessageContaining("pairs.jsonl, line 3, byte 16: not valid UTF-8 (0xE9)");

        Files.writeString(file, "\uFEFF{\"prompt\": \"Hello\", \"completion\": \" world\"}\n");
        PromptCompletionData withBom = PromptCompletionData.readJsonl(file, GPT2);
        assertThat(withBom.examples().get(0).prompt()).containsExactly(15496);

        Path corpus = dir.resolve("bom.txt");
        Files.writeString(corpus, "\uFEFFHello world");
        TokenFile.tokenize(dir.resolve("bom.bin"), GPT2, List.of(corpus));
        assertThat(TokenFile.open(dir.resolve("bom.bin")).read(0, 3)).containsExactly(15496, 995, 50256);

        Path broken = dir.resolve("broken.txt");
        Files.write(broken, "one\ntwo\nthr\u00ff".getBytes(StandardCharsets.ISO_8859_1));
        assertThatThrownBy(() -> TokenFile.tokenize(dir.resolve("x.bin"), GPT2, List.of(broken)))
                .hasMessageContaining("broken.txt, line 3: not UTF-8 text (byte 11 of the file is 0xFF)");
    }

    /** Counts what the file tokenizer hands the tokenizer: linear work shows as bounded pieces and scans. */
    static final class Counting implements Tokenizer {
        final Tokenizer inner;
        long largestEncode;
        long encoded;
        long scanned;

        Counting(Tokenizer inner) {
            this.inner = inner;
        }

        @Override
        public int[] encode(String text) {
            largestEncode = Math.max(largestEncode, text.length());
            encoded += text.length();
            return inner.encode(text);
        }

        @Override
        public int safeSplit(CharSequence text) {
            scanned += text.length();
            return inner.safeSplit(text);
        }

        @Override
        public int vocabSize() {
            return inner.vocabSize();
        }

        @Override
        public int[] encode(String text, Set<String> allowedSpecial) {
            return inner.encode(text, allowedSpecial);
        }

        @Override
        public Encoding encodeWithOffsets(String text, Set<String> allowedSpecial) {
            return inner.encodeWithOffsets(text, allowedSpecial);
        }

        @Override
        public BatchEncoding encodeBatch(List<String> texts, BatchOptions options) {
            return inner.encodeBatch(texts, options);
        }

        @Override
        public String decode(int[] ids) {
            return inner.decode(ids);
        }

        @Override
        public String decode(int[] ids, boolean skipSpecialTokens) {
            return inner.decode(ids, skipSpecialTokens);
        }

        @Override
        public byte[] tokenBytes(int id) {
            return inner.tokenBytes(id);
        }

        @Override
        public Map<String, Integer> specialTokens() {
            return inner.specialTokens();
        }

        @Override
        public boolean isSpecial(int id) {
            return inner.isSpecial(id);
        }

        @Override
        public OptionalInt bosId() {
            return inner.bosId();
        }

        @Override
        public OptionalInt eosId() {
            return inner.eosId();
        }

        @Override
        public OptionalInt padId() {
            return inner.padId();
        }
    }

    @Test
    void aCorpusWithoutLineBreaksIsEncodedInBoundedPiecesWithTheIdsOfTheWhole() throws IOException {
        Random r = new Random(5);
        StringBuilder text = new StringBuilder();
        String[] words = {"the", "cat", "sat", "on", "mat", "42", "...", "  ", "don't", "caf\u00e9", "\t", "x1y2"};
        while (text.length() < 60_000) {
            text.append(words[r.nextInt(words.length)]).append(r.nextInt(4) == 0 ? "" : " ");
        }
        Path file = Files.writeString(dir.resolve("one-line.txt"), text);
        Counting counting = new Counting(GPT2);
        TokenFile.tokenize(dir.resolve("one-line.bin"), counting, List.of(file), 2000);
        int[] whole = GPT2.encode(text.toString());
        TokenFile f = TokenFile.open(dir.resolve("one-line.bin"));
        assertThat(f.read(0, whole.length)).as("pieces cut on pre-tokenizer boundaries encode like the whole text")
                .containsExactly(whole);
        assertThat(counting.largestEncode).as("no piece grows with the file").isLessThan(2 * 2000 + 64 * 1024);
        assertThat(counting.encoded).isEqualTo(text.length());
        assertThat(counting.scanned).as("the buffer is never rescanned as it grows").isLessThan(3L * text.length());
    }

    @Test
    void oneLongRunOfOneCharacterIsScannedLinearlyAndEncodedExactly() throws IOException {
        for (String c : new String[] {"a", " ", "."}) {
            String text = c.repeat(150_000);
            Path file = Files.writeString(dir.resolve("run.txt"), text);
            Counting counting = new Counting(GPT2);
            TokenFile.tokenize(dir.resolve("run.bin"), counting, List.of(file), 2000);
            int[] whole = GPT2.encode(text);
            assertThat(TokenFile.open(dir.resolve("run.bin")).read(0, whole.length)).containsExactly(whole);
            assertThat(counting.scanned).as("searching for a cut doubles its distance: linear, not quadratic")
                    .isLessThan(4L * text.length());
        }
    }
}
