package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.tokenizer.BpeTrainer;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code attune tokenize} and {@code attune detokenize}, run in-process. */
class TokenizeCommandTest {

    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = AttuneCli.run(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void tokenizePrintsAJsonArray() {
        // Reference ids from OpenAI's GPT-2 encoder (see core's Gpt2TokenizerTest).
        assertThat(run("tokenize", "--text", "Hello world")).isEqualTo(new Run(0, "[15496, 995]\n", ""));
        assertThat(run("tokenize", "--text", " Hello world").out()).isEqualTo("[18435, 995]\n");
        assertThat(run("tokenize", "--text", "").out()).isEqualTo("[]\n");
        assertThat(run("tokenize", "--text", "a<|endoftext|>").out()).isEqualTo("[64, 27, 91, 437, 1659, 5239, 91, 29]\n");
        assertThat(run("tokenize", "--allow-special", "--text", "a<|endoftext|>").out()).isEqualTo("[64, 50256]\n");
    }

    @Test
    void tokenizeJsonlPrintsOneArrayPerLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("texts.jsonl");
        Files.writeString(file, "\"Hello world\"\n\" Hello world\"\n\n\"caf\\u00e9\\n\"\n", StandardCharsets.UTF_8);
        Run r = run("tokenize", "--jsonl", file.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        String cafe = TokenizeCommand.jsonArray(Tokenizer.gpt2().encode("caf\u00e9\n"));
        assertThat(r.out()).isEqualTo("[15496, 995]\n[18435, 995]\n" + cafe + "\n");

        Files.writeString(file, "\"ok\"\n{\"text\": 1}\n");
        Run bad = run("tokenize", "--jsonl", file.toString());
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("texts.jsonl line 2").contains("expected a JSON string");

        Files.writeString(file, "\"ok\"\n\"\\ud800\"\n");
        assertThat(run("tokenize", "--jsonl", file.toString()).err()).contains("texts.jsonl line 2")
                .contains("lone surrogate");
    }

    @Test
    void detokenizePrintsTheText() {
        assertThat(run("detokenize", "--ids", "15496,995")).isEqualTo(new Run(0, "Hello world\n", ""));
        assertThat(run("detokenize", "--ids", "[18435, 995, 50256]").out()).isEqualTo(" Hello world<|endoftext|>\n");
        assertThat(run("detokenize", "--skip-special", "--ids", "18435,995,50256").out()).isEqualTo(" Hello world\n");
        String text = "na\u00EFve \uD83D\uDE42 \u65E5\u672C";
        String ids = TokenizeCommand.jsonArray(Tokenizer.gpt2().encode(text));
        assertThat(run("detokenize", "--ids", ids).out()).isEqualTo(text + "\n");
    }

    @Test
    void badIdsAreClearErrors() {
        Run r = run("detokenize", "--ids", "15496,50257");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("token id 50257 at position 1 is outside the vocabulary");
        assertThat(run("detokenize", "--ids", "1,x").err()).contains("\"x\" (item 2) is not an integer id");
        assertThat(run("tokenize").exitCode()).isEqualTo(2); // --text or --jsonl is required
    }

    @Test
    void modelDirectorySelectsItsTokenizer(@TempDir Path dir) throws IOException {
        // A tokenizer trained on "ab ab ab abc" learns "a b" (id 256) then "Ġ ab" (id 257) (see BpeTrainerTest).
        BpeTrainer.builder().vocabSize(1000).minFrequency(2).build().train(List.of("ab ab ab abc")).save(dir);
        assertThat(run("tokenize", "--model", dir.toString(), "--text", "ab ab").out()).isEqualTo("[256, 257]\n");
        assertThat(run("detokenize", "--model", dir.toString(), "--ids", "256,257").out()).isEqualTo("ab ab\n");
        Run missing = run("tokenize", "--model", dir.resolve("nope").toString(), "--text", "x");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains("nope");
    }
}
