package dev.attune.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StreamingDecoderTest {

    private static final BpeTokenizer GPT2 = Tokenizer.gpt2();

    @Test
    void holdsBackASplitCharacterUntilItIsComplete() {
        String text = "hi \uD83D\uDE42!"; // "hi 🙂!"
        int[] ids = GPT2.encode(text);
        StreamingDecoder decoder = GPT2.streamingDecoder();
        List<String> pieces = new ArrayList<>();
        for (int id : ids) {
            pieces.add(decoder.push(id));
        }
        pieces.add(decoder.finish());
        assertThat(String.join("", pieces)).isEqualTo(text);
        // Every emitted piece is whole text: no replacement characters, no lone surrogates.
        for (String p : pieces) {
            assertThat(p).doesNotContain("\uFFFD");
            assertThat(p.getBytes(StandardCharsets.UTF_8)).isEqualTo(
                    new String(p.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)
                            .getBytes(StandardCharsets.UTF_8));
            if (!p.isEmpty()) {
                assertThat(Character.isLowSurrogate(p.charAt(0))).isFalse();
                assertThat(Character.isHighSurrogate(p.charAt(p.length() - 1))).isFalse();
            }
        }
        assertThat(pieces).contains(""); // the emoji's first byte token emitted nothing
    }

    @Test
    void byteByByte() {
        // GPT-2 has a token for every single byte: feed the UTF-8 of "é€😀" one byte at a time.
        byte[] utf8 = "\u00E9\u20AC\uD83D\uDE00".getBytes(StandardCharsets.UTF_8);
        StreamingDecoder decoder = GPT2.streamingDecoder();
        StringBuilder out = new StringBuilder();
        List<Integer> emittedAt = new ArrayList<>();
        for (int i = 0; i < utf8.length; i++) {
            String s = decoder.push(byteToken(utf8[i]));
            if (!s.isEmpty()) {
                emittedAt.add(i);
            }
            out.append(s);
        }
        assertThat(out.toString()).isEqualTo("\u00E9\u20AC\uD83D\uDE00");
        assertThat(emittedAt).containsExactly(1, 4, 8); // after the 2nd, 5th and 9th byte
        assertThat(decoder.pendingBytes()).isZero();
    }

    /** The id of the single-byte token for {@code b}, found by decoding (independent of the encoder). */
    private static int byteToken(byte b) {
        for (int id = 0; id < 256; id++) {
            byte[] bytes = GPT2.tokenBytes(id);
            if (bytes.length == 1 && bytes[0] == b) {
                return id;
            }
        }
        throw new AssertionError("no token for byte " + b);
    }

    @Test
    void concatenationEqualsDecodeForRandomIds() {
        // Random ids include invalid UTF-8 sequences; the stream must still agree with decode().
        Random random = new Random(5);
        for (int trial = 0; trial < 2000; trial++) {
            int[] ids = new int[random.nextInt(12)];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = random.nextInt(3) == 0 ? random.nextInt(256) : random.nextInt(GPT2.vocabSize());
            }
            StreamingDecoder decoder = GPT2.streamingDecoder();
            StringBuilder out = new StringBuilder();
            for (int id : ids) {
                out.append(decoder.push(id));
            }
            out.append(decoder.finish());
            assertThat(out.toString()).isEqualTo(GPT2.decode(ids));
        }
    }

    @Test
    void concatenationEqualsTextForRandomText() {
        Random random = new Random(6);
        for (int trial = 0; trial < 500; trial++) {
            String text = TokenizerTestData.randomText(random, random.nextInt(30));
            StreamingDecoder decoder = GPT2.streamingDecoder();
            StringBuilder out = new StringBuilder();
            for (int id : GPT2.encode(text)) {
                String s = decoder.push(id);
                assertThat(s).doesNotContain("\uFFFD");
                out.append(s);
            }
            assertThat(decoder.pendingBytes()).isZero();
            assertThat(out.append(decoder.finish()).toString()).isEqualTo(text);
        }
    }

    @Test
    void finishFlushesAnIncompleteCharacterAsReplacement() {
        int[] ids = GPT2.encode("\uD83D\uDE42");
        StreamingDecoder decoder = GPT2.streamingDecoder();
        assertThat(decoder.push(ids[0])).isEmpty();
        assertThat(decoder.finish()).isEqualTo("\uFFFD");
        assertThat(decoder.pendingBytes()).isZero();
        assertThatThrownBy(() -> decoder.push(99999)).hasMessageContaining("99999");
    }
}
