package dev.attune.core.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingDataTest {

    @TempDir
    Path dir;

    private static int[] iota(int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) {
            t[i] = i;
        }
        return t;
    }

    @Test
    void descriptionsReadAsTheProgressLineUsesThem() {
        TokenWindows.Split split = TokenWindows.of(new int[2852]).split(0.1);
        assertThat(split.train().description()).isEqualTo("2,567 tokens held in memory (training part)");
        assertThat(split.validation().description()).isEqualTo("285 tokens held in memory (validation part)");
    }

    @Test
    void windowsAreConsecutiveTokensWithTargetsShiftedByOne() {
        TokenWindows data = TokenWindows.of(iota(1000));
        TokenBatch b = data.batch(3, 4, 16, 42);
        assertThat(b.batchSize()).isEqualTo(4);
        assertThat(b.length()).isEqualTo(16);
        Set<Integer> starts = new HashSet<>();
        for (int r = 0; r < 4; r++) {
            int start = b.inputs()[r * 16];
            starts.add(start);
            assertThat(start).isBetween(0, 1000 - 17);
            for (int i = 0; i < 16; i++) {
                assertThat(b.inputs()[r * 16 + i]).isEqualTo(start + i);
                assertThat(b.targets()[r * 16 + i]).isEqualTo(start + i + 1);
            }
        }
        assertThat(starts).as("rows draw different offsets").hasSizeGreaterThan(1);
        assertThat(data.batch(3, 4, 16, 42)).as("a pure function of index and seed").isEqualTo(b);
        assertThat(data.batch(4, 4, 16, 42)).isNotEqualTo(b);
        assertThat(data.batch(3, 4, 16, 43)).isNotEqualTo(b);
    }

    @Test
    void offsetsCoverTheWholeRangeIncludingTheLastWindow() {
        TokenWindows data = TokenWindows.of(iota(20));
        Set<Integer> starts = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            starts.add(data.batch(i, 1, 16, 0).inputs()[0]);
        }
        assertThat(starts).containsExactlyInAnyOrder(0, 1, 2, 3);
    }

    @Test
    void shortStreamsGiveShorterWindowsAndEvaluationTilesTheStream() throws IOException {
        TokenWindows tiny = TokenWindows.of(new int[] {5, 6, 7});
        TokenBatch b = tiny.batch(0, 2, 64, 1);
        assertThat(b.length()).isEqualTo(2);
        assertThat(b.inputs()).containsExactly(5, 6, 5, 6);
        assertThat(b.targets()).containsExactly(6, 7, 6, 7);

        Path file = dir.resolve("c.bin");
        TokenFile.write(file, 256, 255, List.of(iota(99))); // 100 tokens with the trailing EOS
        TokenWindows.Split split = TokenWindows.of(TokenFile.open(file)).split(0.25);
        assertThat(split.train().size()).isEqualTo(75);
        assertThat(split.validation().size()).isEqualTo(25);
        List<TokenBatch> eval = split.validation().evaluationBatches(2, 8, 0);
        // (25 - 1) / 8 = 3 windows: [75..83), [83..91), [91..99) in batches of 2 + 1
        assertThat(eval).hasSize(2);
        assertThat(eval.get(0).inputs()).startsWith(75, 76).contains(83);
        assertThat(eval.get(1).batchSize()).isEqualTo(1);
        assertThat(eval.get(1).targets()[7]).isEqualTo(255); // the EOS that ends the document
        assertThat(split.validation().evaluationBatches(2, 8, 1)).hasSize(1);
        for (int i = 0; i < 50; i++) {
            TokenBatch t = split.train().batch(i, 1, 8, 9);
            assertThat(t.targets()[7]).as("training windows stay in the training part").isLessThan(75);
        }
        assertThatThrownBy(() -> TokenWindows.of(new int[] {1})).hasMessageContaining("at least 2");
    }

    private static PromptCompletionData.Example ex(int[] prompt, int[] completion) {
        return new PromptCompletionData.Example(prompt, completion);
    }

    @Test
    void lossCountsOnlyCompletionAndEosAndPaddingIsIgnored() {
        int eos = 99;
        PromptCompletionData data = PromptCompletionData.of(List.of(
                ex(new int[] {1, 2, 3}, new int[] {4, 5}),
                ex(new int[] {10}, new int[] {11})), eos);
        TokenBatch b = data.evaluationBatches(2, 32, 0).get(0);
        // row 0: 1 2 3 4 5 eos -> 5 inputs; row 1: 10 11 eos -> 2 inputs, padded to 5
        assertThat(b.length()).isEqualTo(5);
        assertThat(Arrays.copyOfRange(b.inputs(), 0, 5)).containsExactly(1, 2, 3, 4, 5);
        assertThat(Arrays.copyOfRange(b.targets(), 0, 5)).containsExactly(-1, -1, 4, 5, eos);
        assertThat(Arrays.copyOfRange(b.inputs(), 5, 10)).containsExactly(10, 11, eos, eos, eos);
        assertThat(Arrays.copyOfRange(b.targets(), 5, 10)).containsExactly(11, eos, -1, -1, -1);
        assertThat(b.validTargets()).isEqualTo(5);
    }

    @Test
    void longExamplesLoseThePromptStartFirstThenTheCompletionEnd() {
        int eos = 0;
        PromptCompletionData.Example longPrompt = ex(new int[] {1, 2, 3, 4, 5, 6}, new int[] {7, 8});
        int[][] fitted = PromptCompletionData.fit(longPrompt, eos, 4); // at most 5 tokens: 2 prompt + 7 8 eos
        assertThat(fitted[0]).containsExactly(5, 6, 7, 8, 0);
        assertThat(fitted[1][0]).isEqualTo(2);

        PromptCompletionData.Example longCompletion = ex(new int[] {1, 2, 3}, new int[] {7, 8, 9, 10, 11, 12});
        fitted = PromptCompletionData.fit(longCompletion, eos, 4);
        assertThat(fitted[0]).containsExactly(3, 7, 8, 9, 10);
        assertThat(fitted[1][0]).isEqualTo(1);

        PromptCompletionData data = PromptCompletionData.of(List.of(longPrompt, longCompletion,
                ex(new int[] {1}, new int[] {2})), eos);
        assertThat(data.truncatedExamples(4)).isEqualTo(2);
        assertThat(data.truncatedExamples(100)).isZero();
        TokenBatch b = data.evaluationBatches(3, 4, 0).get(0);
        assertThat(b.length()).isEqualTo(4);
        for (int r = 0; r < 3; r++) {
            assertThat(Arrays.copyOfRange(b.targets(), r * 4, r * 4 + 4)).as("row %d has a target", r)
                    .matches(t -> Arrays.stream(t).anyMatch(x -> x >= 0));
        }
    }

    @Test
    void eachEpochVisitsEveryExampleOnceInASeededOrder() {
        List<PromptCompletionData.Example> list = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            list.add(ex(new int[] {i}, new int[] {100 + i}));
        }
        PromptCompletionData data = PromptCompletionData.of(list, 0);
        List<Integer> epoch0 = new ArrayList<>();
        List<Integer> epoch1 = new ArrayList<>();
        for (int index = 0; index < 10; index++) { // batches of 2: 5 per epoch
            TokenBatch b = data.batch(index, 2, 8, 7);
            for (int r = 0; r < 2; r++) {
                (index < 5 ? epoch0 : epoch1).add(b.inputs()[r * b.length()]);
            }
        }
        assertThat(epoch0).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(epoch1).containsExactlyInAnyOrder(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(epoch1).as("epochs are shuffled differently").isNotEqualTo(epoch0);
        assertThat(data.batch(7, 2, 8, 7)).isEqualTo(PromptCompletionData.of(list, 0).batch(7, 2, 8, 7));

        PromptCompletionData.Split split = data.split(0.3, 5);
        assertThat(split.validation().size()).isEqualTo(3);
        Set<PromptCompletionData.Example> all = new HashSet<>(split.train().examples());
        all.addAll(split.validation().examples());
        assertThat(all).hasSize(10);
        assertThatThrownBy(() -> PromptCompletionData.of(List.of(ex(new int[] {1}, new int[0])), 0))
                .hasMessageContaining("example 1: the completion is empty");
    }

    @Test
    void corpusFilesAreTokenizedWithEosAfterEachAndLargeFilesInPieces() throws IOException {
        Tokenizer gpt2 = Tokenizer.gpt2();
        Path a = Files.writeString(dir.resolve("a.txt"), "Hello world");
        StringBuilder big = new StringBuilder();
        for (int i = 0; big.length() < 20_000; i++) {
            big.append("Paragraph ").append(i).append(" has some words, and numbers like ").append(i * 7)
                    .append(".\nA second line.\n\n");
        }
        Path b = Files.writeString(dir.resolve("b.txt"), big.toString());
        Path out = dir.resolve("corpus.bin");
        long n = TokenFile.tokenize(out, gpt2, List.of(a, b), 1000); // pieces of about 1000 characters

        int[] whole = gpt2.encode(big.toString());
        TokenFile f = TokenFile.open(out);
        assertThat(n).isEqualTo(2 + 1 + whole.length + 1);
        assertThat(f.read(0, 3)).containsExactly(15496, 995, 50256);
        assertThat(f.read(3, whole.length)).as("pieces cut at blank lines encode like the whole text")
                .containsExactly(whole);
        assertThat(f.get(n - 1)).isEqualTo(50256);

        Files.write(dir.resolve("latin1.txt"), new byte[] {'c', 'a', 'f', (byte) 0xE9});
        assertThatThrownBy(() -> TokenFile.tokenize(dir.resolve("x.bin"), gpt2, List.of(dir.resolve("latin1.txt"))))
                .hasMessageContaining("latin1.txt, line 1: not UTF-8 text (byte 3 of the file is 0xE9)");
        assertThatThrownBy(() -> TokenFile.tokenize(dir.resolve("x.bin"), gpt2, List.of(dir.resolve("nope.txt"))))
                .hasMessageContaining("nope.txt");
    }

    @Test
    void promptCompletionJsonlIsTokenizedPerFieldAndErrorsNameTheLine() throws IOException {
        Tokenizer gpt2 = Tokenizer.gpt2();
        Path file = Files.writeString(dir.resolve("pairs.jsonl"),
                "{\"prompt\": \"Hello\", \"completion\": \" world\", \"id\": 1}\n\n"
                        + "{\"prompt\": \"\", \"completion\": \"Hello world\"}\n");
        PromptCompletionData data = PromptCompletionData.readJsonl(file, gpt2);
        assertThat(data.size()).isEqualTo(2);
        assertThat(data.examples().get(0).prompt()).containsExactly(15496);
        assertThat(data.examples().get(0).completion()).containsExactly(995);
        assertThat(data.examples().get(1).prompt()).isEmpty();
        assertThat(data.eosToken()).isEqualTo(50256);

        Files.writeString(file, "{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": \"a\"}\n");
        assertThatThrownBy(() -> PromptCompletionData.readJsonl(file, gpt2))
                .hasMessageContaining("pairs.jsonl, line 2: missing \"completion\"");
        Files.writeString(file, "{\"prompt\": 3, \"completion\": \"b\"}\n");
        assertThatThrownBy(() -> PromptCompletionData.readJsonl(file, gpt2))
                .hasMessageContaining("line 1: \"prompt\" must be a string, got number");
        Files.writeString(file, "{\"prompt\": \"a\", \"completion\": \"b\"\n");
        assertThatThrownBy(() -> PromptCompletionData.readJsonl(file, gpt2))
                .hasMessageContaining("line 1, column 34: not valid JSON");
    }
}
