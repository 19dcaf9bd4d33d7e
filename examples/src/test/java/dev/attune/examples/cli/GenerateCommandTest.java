package dev.attune.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.config.GptConfig;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.GenerationResult;
import dev.attune.core.generate.Generator;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code attune generate} on a small checkpoint written by the library, compared with the library's own output. */
class GenerateCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    private static Generator library;


    @BeforeAll
    static void writeCheckpoint() throws Exception {
        // full GPT-2 vocabulary so --prompt text works with GPT-2's tokenizer; everything else tiny
        GptConfig config = GptConfig.builder().layers(1).heads(2).embeddingSize(16).contextLength(32)
                .initializerRange(0.3).build();
        HfCheckpoint.save(GptModel.create(config, 5), dir);
        library = Generator.of(HfCheckpoint.load(dir), Tokenizer.gpt2());
    }

    private static List<Integer> ids(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        for (Iterator<JsonNode> it = array.elements(); it.hasNext(); ) {
            out.add(it.next().intValue());
        }
        return out;
    }

    private static List<Integer> list(int[] ids) {
        List<Integer> out = new ArrayList<>();
        for (int id : ids) {
            out.add(id);
        }
        return out;
    }

    @Test
    void jsonOutputHasExactlyIdsTextAndFinishReason() throws Exception {
        Cli r = Cli.run("generate", "--model", dir.toString(), "--ids", "464,3290,318", "--max-new-tokens", "6",
                "--output", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode o = JSON.readTree(r.out());
        List<String> keys = new ArrayList<>();
        o.fieldNames().forEachRemaining(keys::add);
        assertThat(keys).containsExactly("ids", "text", "finish_reason");
        GenerationResult expected = library.generate(new int[] {464, 3290, 318}, GenerationConfig.greedy(6));
        assertThat(ids(o.get("ids"))).isEqualTo(list(expected.ids()));
        assertThat(o.get("text").asText()).isEqualTo(expected.text());
        assertThat(o.get("finish_reason").asText()).isEqualTo(expected.finishReason().label());
    }

    @Test
    void textOutputStreamsTheSameTextAsJson() throws Exception {
        Cli text = Cli.run("generate", "--model", dir.toString(), "--prompt", "The dog is", "--max-new-tokens", "8",
                "--temperature", "0.9", "--top-k", "50", "--top-p", "0.95", "--seed", "3");
        assertThat(text.exitCode()).as(text.err()).isZero();
        Cli json = Cli.run("generate", "--model", dir.toString(), "--prompt", "The dog is", "--max-new-tokens", "8",
                "--temperature", "0.9", "--top-k", "50", "--top-p", "0.95", "--seed", "3", "--output", "json");
        JsonNode o = JSON.readTree(json.out());
        assertThat(text.out()).isEqualTo(o.get("text").asText() + System.lineSeparator());
        GenerationResult expected = library.generate("The dog is", GenerationConfig.builder().maxNewTokens(8)
                .doSample(true).temperature(0.9).topK(50).topP(0.95).seed(3).build());
        assertThat(ids(o.get("ids"))).isEqualTo(list(expected.ids()));
    }

    @Test
    void beamsMatchTheLibrary() throws Exception {
        Cli r = Cli.run("generate", "--model", dir.toString(), "--ids", "1,2,3", "--max-new-tokens", "5", "--beams", "3",
                "--output", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        GenerationResult expected = library.generate(new int[] {1, 2, 3},
                GenerationConfig.builder().maxNewTokens(5).numBeams(3).build());
        assertThat(ids(JSON.readTree(r.out()).get("ids"))).isEqualTo(list(expected.ids()));
    }

    @Test
    void theTokenizerComesFromTheModelDirectoryWhenItHasOne(@TempDir Path own) throws Exception {
        assertThat(ModelDirectory.tokenizer(dir).vocabSize()).isEqualTo(50257); // no files: GPT-2's
        Tokenizer.gpt2().withSpecialTokens("<|sep|>").save(own);
        assertThat(ModelDirectory.tokenizer(own).vocabSize()).isEqualTo(50258);
        assertThat(ModelDirectory.tokenizer(own).specialTokens()).containsKey("<|sep|>");
    }

    @Test
    void badInputGivesAClearErrorAndNonZeroExit() {
        Cli both = Cli.run("generate", "--model", dir.toString(), "--prompt", "x", "--ids", "1", "--max-new-tokens", "3");
        assertThat(both.exitCode()).isNotZero();
        assertThat(both.err()).contains("mutually exclusive");

        Cli badTopP = Cli.run("generate", "--model", dir.toString(), "--ids", "1", "--max-new-tokens", "3",
                "--top-p", "1.5");
        assertThat(badTopP.exitCode()).isNotZero();
        assertThat(badTopP.err()).contains("topP must be in (0, 1], got 1.5");

        Cli tooLong = Cli.run("generate", "--model", dir.toString(), "--ids", "1,".repeat(40) + "1",
                "--max-new-tokens", "3");
        assertThat(tooLong.exitCode()).isNotZero();
        assertThat(tooLong.err()).contains("prompt has 41 tokens but the model's context holds 32");

        Cli noModel = Cli.run("generate", "--model", dir.resolve("missing").toString(), "--ids", "1",
                "--max-new-tokens", "3");
        assertThat(noModel.exitCode()).isNotZero();
        assertThat(noModel.err()).contains("missing");
    }

    @Test
    void aLongPromptIsCutFromTheLeftWhenAskedAndTooManyNewTokensWarn() throws Exception {
        String ids = "1,".repeat(40) + "7";
        Cli cut = Cli.run("generate", "--model", dir.toString(), "--ids", ids, "--max-new-tokens", "4",
                "--truncate", "left", "--output", "json");
        assertThat(cut.exitCode()).as(cut.err()).isZero();
        assertThat(cut.err()).contains("the prompt's first 13 of 41 tokens are dropped (--truncate left)");
        int[] kept = new int[28];
        java.util.Arrays.fill(kept, 1);
        kept[27] = 7;
        GenerationResult expected = library.generate(kept, GenerationConfig.greedy(4));
        assertThat(ids(JSON.readTree(cut.out()).get("ids"))).isEqualTo(list(expected.ids()));

        Cli tooMany = Cli.run("generate", "--model", dir.toString(), "--ids", "1,2,3", "--max-new-tokens", "40",
                "--output", "json");
        assertThat(tooMany.exitCode()).as(tooMany.err()).isZero();
        assertThat(tooMany.err()).contains("--max-new-tokens 40 is more than the 29 positions left after the prompt's 3"
                + " tokens (context 32); at most 29 tokens will be generated");
        assertThat(JSON.readTree(tooMany.out()).get("ids")).hasSize(29);

        Cli fits = Cli.run("generate", "--model", dir.toString(), "--ids", "1,2,3", "--max-new-tokens", "29");
        assertThat(fits.err()).isEmpty();

        Cli tooLong = Cli.run("generate", "--model", dir.toString(), "--ids", ids, "--max-new-tokens", "3");
        assertThat(tooLong.err()).contains("pass --truncate left");
    }
}
