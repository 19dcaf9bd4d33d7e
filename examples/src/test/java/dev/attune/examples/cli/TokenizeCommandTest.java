package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.tokenizer.BpeTrainer;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code attune tokenize} and {@code attune detokenize}, run in-process. */
class TokenizeCommandTest {

    @Test
    void tokenizePrintsAJsonArray() {
        // Reference ids from OpenAI's GPT-2 encoder (see core's Gpt2TokenizerTest).
        assertThat(Cli.run("tokenize", "--text", "Hello world")).isEqualTo(new Cli(0, "[15496, 995]\n", ""));
        assertThat(Cli.run("tokenize", "--text", " Hello world").out()).isEqualTo("[18435, 995]\n");
        assertThat(Cli.run("tokenize", "--text", "").out()).isEqualTo("[]\n");
        assertThat(Cli.run("tokenize", "--text", "a<|endoftext|>").out()).isEqualTo("[64, 27, 91, 437, 1659, 5239, 91, 29]\n");
        assertThat(Cli.run("tokenize", "--allow-special", "--text", "a<|endoftext|>").out()).isEqualTo("[64, 50256]\n");
    }

    @Test
    void tokenizeJsonlPrintsOneArrayPerLine(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("texts.jsonl");
        Files.writeString(file, "\"Hello world\"\n\" Hello world\"\n\"caf\\u00e9\\n\"\n", StandardCharsets.UTF_8);
        Cli r = Cli.run("tokenize", "--jsonl", file.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        String cafe = TokenizeCommand.jsonArray(Tokenizer.gpt2().encode("caf\u00e9\n"));
        assertThat(r.out()).isEqualTo("[15496, 995]\n[18435, 995]\n" + cafe + "\n");

        Files.writeString(file, "\"ok\"\n{\"text\": 1}\n");
        Cli bad = Cli.run("tokenize", "--jsonl", file.toString());
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("texts.jsonl, line 2").contains("expected a JSON string");

        Files.writeString(file, "\"ok\"\n\"\\ud800\"\n");
        assertThat(Cli.run("tokenize", "--jsonl", file.toString()).err()).contains("texts.jsonl, line 2")
                .contains("lone surrogate");
    }

    @Test
    void detokenizePrintsTheText() {
        assertThat(Cli.run("detokenize", "--ids", "15496,995")).isEqualTo(new Cli(0, "Hello world\n", ""));
        assertThat(Cli.run("detokenize", "--ids", "[18435, 995, 50256]").out()).isEqualTo(" Hello world<|endoftext|>\n");
        assertThat(Cli.run("detokenize", "--skip-special", "--ids", "18435,995,50256").out()).isEqualTo(" Hello world\n");
        String text = "na\u00EFve \uD83D\uDE42 \u65E5\u672C";
        String ids = TokenizeCommand.jsonArray(Tokenizer.gpt2().encode(text));
        assertThat(Cli.run("detokenize", "--ids", ids).out()).isEqualTo(text + "\n");
    }

    @Test
    void badIdsAreClearErrors() {
        Cli r = Cli.run("detokenize", "--ids", "15496,50257");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("token id 50257 at position 1 is outside the vocabulary");
        assertThat(Cli.run("detokenize", "--ids", "1,x").err()).contains("\"x\" (item 2) is not an integer id");
        assertThat(Cli.run("tokenize").exitCode()).isEqualTo(2); // --text or --jsonl is required
    }

    @Test
    void modelDirectorySelectsItsTokenizer(@TempDir Path dir) throws IOException {
        // A tokenizer trained on "ab ab ab abc" learns "a b" (id 256) then "Ġ ab" (id 257) (see BpeTrainerTest).
        BpeTrainer.builder().vocabSize(1000).minFrequency(2).build().train(List.of("ab ab ab abc")).save(dir);
        assertThat(Cli.run("tokenize", "--model", dir.toString(), "--text", "ab ab").out()).isEqualTo("[256, 257]\n");
        assertThat(Cli.run("detokenize", "--model", dir.toString(), "--ids", "256,257").out()).isEqualTo("ab ab\n");
        Cli missing = Cli.run("tokenize", "--model", dir.resolve("nope").toString(), "--text", "x");
        assertThat(missing.exitCode()).isEqualTo(1);
        assertThat(missing.err()).contains("nope");
    }
}
