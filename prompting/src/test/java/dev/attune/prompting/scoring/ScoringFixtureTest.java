package dev.attune.prompting.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Against Hugging Face transformers as the reference (fixture made by scripts/prompting/make_scoring_fixture.py):
 * lm-evaluation-harness's way of scoring requests, left truncation included, and Hugging Face's strided
 * perplexity loop.
 */
class ScoringFixtureTest {

    private static final Path DIR = Path.of("src/test/resources/fixtures/hf-scoring");

    private static int[] ids(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    @Test
    void requestsAndRollingWindowsMatchTransformers() throws Exception {
        GptModel model = HfCheckpoint.load(DIR);
        JsonNode expected = new ObjectMapper().readTree(DIR.resolve("expected.json").toFile());
        assertThat(model.config().contextLength()).isEqualTo(expected.get("max_length").asInt());
        List<int[]> contexts = new ArrayList<>();
        List<int[]> continuations = new ArrayList<>();
        for (JsonNode r : expected.get("requests")) {
            contexts.add(ids(r.get("context")));
            continuations.add(ids(r.get("continuation")));
        }
        for (int batch : new int[] {1, 8}) {
            for (boolean share : new boolean[] {false, true}) {
                LoglikelihoodScorer scorer = LoglikelihoodScorer.builder(model, Tokenizer.gpt2()).batchSize(batch)
                        .shareContexts(share).build();
                List<Loglikelihood> got = scorer.loglikelihoodTokens(contexts, continuations);
                for (int i = 0; i < got.size(); i++) {
                    JsonNode r = expected.get("requests").get(i);
                    assertThat(got.get(i).logLikelihood()).as("request %d, batch %d, shared %s", i, batch, share)
                            .isCloseTo(r.get("loglikelihood").asDouble(), within(1e-4));
                    assertThat(got.get(i).greedy()).as("request %d greedy", i).isEqualTo(r.get("greedy").asBoolean());
                }
            }
        }
        assertThat(expected.get("requests").findValues("greedy")).anyMatch(JsonNode::asBoolean);

        LoglikelihoodScorer scorer = LoglikelihoodScorer.builder(model, Tokenizer.gpt2()).batchSize(4).build();
        for (JsonNode r : expected.get("rolling")) {
            Loglikelihood got = scorer.rollingTokens(List.of(ids(r.get("ids"))), r.get("window").asInt(),
                    r.get("stride").asInt()).get(0);
            assertThat(got.tokens()).isEqualTo(r.get("tokens").asInt()).isEqualTo(r.get("ids").size() - 1);
            assertThat(got.logLikelihood()).as("rolling %s", r.get("window") + "/" + r.get("stride"))
                    .isCloseTo(r.get("loglikelihood").asDouble(), within(1e-4));
        }
    }
}
