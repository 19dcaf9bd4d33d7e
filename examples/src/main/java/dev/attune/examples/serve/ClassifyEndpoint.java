package dev.attune.examples.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.finetune.tribuo.LmClassifierModel;
import io.javalin.http.Context;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;

/**
 * {@code POST /v1/classify}: texts through a classifier trained by {@code attune classify train}. Request:
 * {@code {"input": "text"}} or {@code {"input": ["text", ...]}}; answer per text: {@code label} (the most probable)
 * and {@code scores} (every label's probability), the same numbers {@code attune classify predict} prints. The texts
 * of one request run together in padded batches of {@link ServerConfig#maxBatch()} on the engine thread, between
 * decoding steps, since neither model is thread-safe.
 */
final class ClassifyEndpoint {
    private static final Set<String> FIELDS = Set.of("model", "input");
    static final int MAX_INPUTS = 64;

    private final ObjectMapper json;
    private final LmClassifierModel classifier;
    private final BatchEngine engine;
    private final ServerConfig config;
    private final ServerMetrics metrics;
    private final int maxTokens;

    ClassifyEndpoint(ObjectMapper json, LmClassifierModel classifier, BatchEngine engine, ServerConfig config,
                     ServerMetrics metrics) {
        this.json = json;
        this.metrics = metrics;
        this.classifier = classifier;
        this.engine = engine;
        this.config = config;
        int context = classifier.classifier().model().config().contextLength();
        this.maxTokens = config.maxPromptTokens() > 0 ? Math.min(config.maxPromptTokens(), context) : context;
        classifier.setBatchSize(config.maxBatch());
    }

    /** What {@code /v1/models} says about the classifier: its labels and how it was trained. */
    static ObjectNode describe(ObjectMapper json, LmClassifierModel classifier, java.nio.file.Path directory) {
        ObjectNode o = json.createObjectNode();
        o.put("path", directory.toString());
        ArrayNode labels = o.putArray("labels");
        classifier.classifier().labels().forEach(labels::add);
        o.put("method", classifier.method().name().toLowerCase(Locale.ROOT));
        return o;
    }

    void classify(Context ctx, byte[] body) {
        RequestFields f = RequestFields.parse(json, body, FIELDS);
        ApiError.requireServed(f.string("model", null), config);
        if (!f.has("input")) {
            throw ApiError.badRequest("input", "missing required field 'input' (a string or an array of strings)");
        }
        List<String> texts = f.stringOrStrings("input", MAX_INPUTS);
        if (texts.isEmpty()) {
            throw ApiError.badRequest("input", "'input' must hold at least one text");
        }
        int tokens = 0;
        for (int i = 0; i < texts.size(); i++) {
            String at = f.raw("input").isArray() ? "input[" + i + "]" : "input";
            int count = classifier.classifier().tokenizer().encode(texts.get(i)).length;
            if (count == 0) {
                throw ApiError.badRequest(at, "'" + at + "' is empty: a classifier needs at least one token");
            }
            if (count > maxTokens) {
                throw ApiError.badRequest(at, "'" + at + "' has " + count + " tokens, more than the " + maxTokens
                        + " allowed");
            }
            tokens += count;
        }
        ctx.attribute(AttuneServer.PROMPT_TOKENS, tokens);
        List<Prediction<Label>> predictions;
        try {
            predictions = engine.call(() -> classifier.predictTexts(texts)).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw ApiError.unavailable("interrupted", "the request was interrupted");
        } catch (ExecutionException e) {
            throw e.getCause() instanceof ApiError a ? a : ApiError.internal("classification failed: " + e.getCause());
        }
        metrics.textsClassified.increment(texts.size());
        ObjectNode root = json.createObjectNode().put("object", "list").put("model", config.modelName());
        ArrayNode data = root.putArray("data");
        List<String> labels = classifier.classifier().labels();
        for (int i = 0; i < predictions.size(); i++) {
            Prediction<Label> p = predictions.get(i);
            ObjectNode d = data.addObject().put("index", i).put("label", p.getOutput().getLabel());
            ObjectNode scores = d.putObject("scores");
            for (String label : labels) {
                scores.put(label, p.getOutputScores().get(label).getScore());
            }
        }
        root.putObject("usage").put("prompt_tokens", tokens).put("total_tokens", tokens);
        ctx.contentType("application/json").result(root.toString());
    }
}
