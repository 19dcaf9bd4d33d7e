package dev.attune.examples.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.model.ForwardResult;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.Output;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.Tokenizer;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;

/**
 * {@code POST /v1/score}: the log-likelihood of continuations after a prompt, as lm-evaluation-harness's
 * {@code loglikelihood} computes it. Request: {@code {"prompt": "...", "continuations": ["...", ...]}}; answer per
 * continuation: {@code logprob} (sum of log p(token | everything before it) over the continuation's tokens),
 * {@code tokens} (how many) and {@code greedy} (every token was the most likely one). Prompt and continuation are
 * tokenized separately; an empty prompt stands for the EOS token.
 */
final class ScoreEndpoint {
    private static final Set<String> FIELDS = Set.of("model", "prompt", "continuations");
    private static final int MAX_CONTINUATIONS = 64;

    private final ObjectMapper json;
    private final GptModel model;
    private final Tokenizer tokenizer;
    private final BatchEngine engine;
    private final ServerConfig config;

    ScoreEndpoint(ObjectMapper json, GptModel model, Tokenizer tokenizer, BatchEngine engine, ServerConfig config) {
        this.json = json;
        this.model = model;
        this.tokenizer = tokenizer;
        this.engine = engine;
        this.config = config;
    }

    /** One continuation's score. */
    record Score(double logprob, int tokens, boolean greedy) {
    }

    void score(Context ctx, byte[] body) {
        RequestFields f = RequestFields.parse(json, body, FIELDS);
        ApiError.requireServed(f.string("model", null), config);
        String prompt = f.requiredString("prompt");
        JsonNode conts = f.raw("continuations");
        if (conts == null || !conts.isArray() || conts.isEmpty()) {
            throw ApiError.badRequest("continuations", "'continuations' must be a non-empty array of strings");
        }
        if (conts.size() > MAX_CONTINUATIONS) {
            throw ApiError.badRequest("continuations", "'continuations' holds " + conts.size() + " entries, at most "
                    + MAX_CONTINUATIONS + " are allowed");
        }
        int context = model.config().contextLength();
        int[] promptIds = prompt.isEmpty() ? new int[] {model.config().eosTokenId()} : tokenizer.encode(prompt);
        List<int[]> continuations = new ArrayList<>();
        int tokens = promptIds.length;
        for (int i = 0; i < conts.size(); i++) {
            String at = "continuations[" + i + "]";
            JsonNode c = conts.get(i);
            if (!c.isTextual() || c.asText().isEmpty()) {
                throw RequestFields.wrongType(at, "a non-empty string", c);
            }
            int[] ids = tokenizer.encode(c.asText());
            if (promptIds.length + ids.length > context) {
                throw ApiError.badRequest(at, "prompt and " + at + " make " + (promptIds.length + ids.length)
                        + " tokens, more than the model's context of " + context);
            }
            continuations.add(ids);
            tokens += ids.length;
        }
        ctx.attribute(AttuneServer.PROMPT_TOKENS, tokens);
        List<Score> scores;
        try {
            scores = engine.call(() -> compute(promptIds, continuations)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiError.unavailable("interrupted", "the request was interrupted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof ApiError a ? a : ApiError.internal("scoring failed: " + e.getCause());
        }
        ObjectNode root = json.createObjectNode().put("object", "list").put("model", config.modelName());
        ArrayNode data = root.putArray("data");
        for (int i = 0; i < scores.size(); i++) {
            Score s = scores.get(i);
            data.addObject().put("index", i).put("logprob", s.logprob()).put("tokens", s.tokens())
                    .put("greedy", s.greedy());
        }
        root.putObject("usage").put("prompt_tokens", tokens).put("total_tokens", tokens);
        ctx.contentType("application/json").result(root.toString());
    }

    /**
     * Runs on the engine thread: one forward pass over all continuations, right-padded, that asks the model only for
     * the log-probabilities of the continuation tokens (prompt tokens and padding are not counted).
     */
    List<Score> compute(int[] prompt, List<int[]> continuations) {
        int rows = continuations.size();
        int length = prompt.length + continuations.stream().mapToInt(c -> c.length).max().orElse(0) - 1;
        int[][] inputs = new int[rows][length];
        int[][] targets = new int[rows][length];
        for (int r = 0; r < rows; r++) {
            int[] cont = continuations.get(r);
            Arrays.fill(inputs[r], model.config().eosTokenId());
            Arrays.fill(targets[r], TokenBatch.IGNORE);
            // input i predicts token i + 1 of prompt + continuation
            int[] seq = Arrays.copyOf(prompt, prompt.length + cont.length);
            System.arraycopy(cont, 0, seq, prompt.length, cont.length);
            System.arraycopy(seq, 0, inputs[r], 0, seq.length - 1);
            System.arraycopy(cont, 0, targets[r], prompt.length - 1, cont.length);
        }
        ForwardResult result = model.forward(TokenBatch.of(inputs, targets), Output.TARGET_LOGPROBS);
        List<Score> out = new ArrayList<>();
        for (int r = 0; r < rows; r++) {
            out.add(new Score(result.targetLogProbs()[r], result.targetCounts()[r], result.greedy()[r]));
        }
        return out;
    }
}
