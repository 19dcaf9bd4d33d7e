package dev.attune.examples.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.generate.FinishReason;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.GenerationResult;
import dev.attune.core.generate.Generator;
import dev.attune.core.generate.TokenLogprobs;
import dev.attune.core.tokenizer.Tokenizer;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * OpenAI's {@code /v1/completions}, {@code /v1/chat/completions} and {@code /v1/models}: request fields checked
 * strictly, sequences handed to the {@link BatchEngine}, answers as one JSON object or as server-sent events.
 *
 * <p>Sampling follows OpenAI: {@code temperature} defaults to 1 (sampling); {@code temperature: 0} is greedy, and
 * then equals {@code attune generate} without sampling options. Extensions beyond OpenAI (as vLLM has them):
 * {@code top_k}, {@code min_p}, {@code repetition_penalty}. Log-probabilities are returned in whole responses only,
 * not in streams.
 */
final class CompletionEndpoints {
    private static final Set<String> SHARED = Set.of("model", "max_tokens", "temperature", "top_p", "n", "stream",
            "stream_options", "stop", "seed", "user", "presence_penalty", "frequency_penalty", "logit_bias",
            "top_k", "min_p", "repetition_penalty");
    private static final Set<String> COMPLETION_FIELDS = union(SHARED, "prompt", "logprobs", "echo", "best_of",
            "suffix");
    private static final Set<String> CHAT_FIELDS = union(SHARED, "messages", "max_completion_tokens", "logprobs",
            "top_logprobs");
    private static final int MAX_LOGPROBS = 5;
    private static final int MAX_STOPS = 4;

    private final ObjectMapper json;
    private final Generator generator;
    private final Tokenizer tokenizer;
    private final BatchEngine engine;
    private final ServerConfig config;
    private final ChatPrompts chat;
    private final int vocabSize;
    private final int contextLength;
    private final int eos;
    private final long created = Instant.now().getEpochSecond();
    private final ObjectNode modelDetails;

    /** @param modelDetails fields that {@code /v1/models} adds to the model's entry (the adapter, the classifier) */
    CompletionEndpoints(ObjectMapper json, Generator generator, Tokenizer tokenizer, BatchEngine engine,
                        ServerConfig config, ChatPrompts chat, ObjectNode modelDetails) {
        this.modelDetails = modelDetails.deepCopy();
        this.json = json;
        this.generator = generator;
        this.tokenizer = tokenizer;
        this.engine = engine;
        this.config = config;
        this.chat = chat;
        this.vocabSize = generator.model().config().vocabSize();
        this.contextLength = generator.model().config().contextLength();
        this.eos = generator.model().config().eosTokenId();
    }

    private static Set<String> union(Set<String> base, String... more) {
        Set<String> out = new java.util.HashSet<>(base);
        out.addAll(List.of(more));
        return Set.copyOf(out);
    }

    // ------------------------------------------------------------------------------------------------- models

    ObjectNode models() {
        ObjectNode root = json.createObjectNode().put("object", "list");
        root.putArray("data").add(modelEntry());
        return root;
    }

    ObjectNode model(String id) {
        ApiError.requireServed(id, config);
        return modelEntry();
    }

    private ObjectNode modelEntry() {
        ObjectNode m = json.createObjectNode();
        m.put("id", config.modelName()).put("object", "model").put("created", created).put("owned_by", "attune");
        m.put("context_length", contextLength);
        m.putNull("adapter");
        m.putNull("classifier");
        m.setAll(modelDetails.deepCopy());
        return m;
    }

    // -------------------------------------------------------------------------------------------- completions

    /** What a parsed request asks for. */
    private record Request(boolean chat, List<int[]> prompts, int n, GenerationConfig config, boolean stream,
                           boolean includeUsage, int logprobs) {
    }

    void complete(Context ctx, byte[] body, boolean isChat) throws IOException {
        RequestFields f = RequestFields.parse(json, body, isChat ? CHAT_FIELDS : COMPLETION_FIELDS);
        Request r = parse(f, isChat);
        int promptTokens = r.prompts.stream().mapToInt(p -> p.length).sum();
        ctx.attribute(AttuneServer.PROMPT_TOKENS, promptTokens);
        String id = (isChat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");

        LinkedBlockingQueue<Object> events = new LinkedBlockingQueue<>();
        List<Generator.Sequence> sequences = new ArrayList<>();
        for (int p = 0; p < r.prompts.size(); p++) {
            for (int i = 0; i < r.n; i++) {
                int choice = p * r.n + i;
                try {
                    sequences.add(generator.sequence(r.prompts.get(p), r.config, i,
                            r.stream ? piece -> events.add(new Text(choice, piece)) : null));
                } catch (IllegalArgumentException e) {
                    throw ApiError.badRequest(isChat ? "messages" : "prompt", e.getMessage());
                }
            }
        }
        BatchEngine.Job job = new BatchEngine.Job(sequences, new BatchEngine.Listener() {
            @Override
            public void onText(int choice, String piece) {
            }

            @Override
            public void onFinished(int choice, GenerationResult result) {
                if (r.stream) {
                    events.add(new Finished(choice, result));
                }
            }
        });
        engine.submit(job); // 429 or 503 here, before any byte of the answer
        if (r.stream) {
            job.done.whenComplete((results, failure) -> events.add(new End(failure)));
            stream(ctx, r, id, job, events, promptTokens);
            return;
        }
        List<GenerationResult> results;
        try {
            results = job.done.get();
        } catch (InterruptedException e) {
            job.cancel();
            Thread.currentThread().interrupt();
            throw ApiError.unavailable("interrupted", "the request was interrupted");
        } catch (ExecutionException e) {
            throw failure(e.getCause());
        }
        int completionTokens = results.stream().mapToInt(g -> g.ids().length).sum();
        ctx.attribute(AttuneServer.COMPLETION_TOKENS, completionTokens);
        ObjectNode root = json.createObjectNode();
        root.put("id", id).put("object", isChat ? "chat.completion" : "text_completion")
                .put("created", Instant.now().getEpochSecond()).put("model", config.modelName());
        ArrayNode choices = root.putArray("choices");
        for (int c = 0; c < results.size(); c++) {
            GenerationResult g = results.get(c);
            ObjectNode choice = choices.addObject().put("index", c);
            if (isChat) {
                choice.putObject("message").put("role", "assistant").put("content", g.text());
                choice.set("logprobs", r.logprobs >= 0 ? chatLogprobs(g) : null);
            } else {
                choice.put("text", g.text());
                choice.set("logprobs", r.logprobs >= 0 ? completionLogprobs(g) : null);
            }
            choice.put("finish_reason", finishReason(g.finishReason()));
        }
        root.set("usage", usage(promptTokens, completionTokens));
        ctx.contentType("application/json").result(root.toString());
    }

    private static ApiError failure(Throwable cause) {
        if (cause instanceof ApiError e) {
            return e;
        }
        if (cause instanceof CancellationException) {
            return ApiError.unavailable("cancelled", "the request was cancelled");
        }
        return ApiError.internal("generation failed: " + cause);
    }

    private Request parse(RequestFields f, boolean isChat) {
        ApiError.requireServed(f.string("model", null), config);
        JsonNode zero = IntNode.valueOf(0);
        f.unsupportedUnless("presence_penalty", zero, "use repetition_penalty");
        f.unsupportedUnless("frequency_penalty", zero, "use repetition_penalty");
        f.unsupportedUnless("logit_bias", JsonNodeFactory.instance.objectNode(), "logit biases are not implemented");
        if (!isChat) {
            f.unsupportedUnless("echo", JsonNodeFactory.instance.booleanNode(false), "the prompt is not echoed");
            f.unsupportedUnless("best_of", IntNode.valueOf(1), "use n");
            f.unsupportedUnless("suffix", JsonNodeFactory.instance.textNode(""), "insertion is not implemented");
        }
        f.string("user", null);
        boolean stream = f.bool("stream", false);
        boolean includeUsage = false;
        JsonNode options = f.raw("stream_options");
        if (options != null) {
            if (!options.isObject()) {
                throw RequestFields.wrongType("stream_options", "an object", options);
            }
            for (var it = options.fieldNames(); it.hasNext(); ) {
                String name = it.next();
                if (!name.equals("include_usage")) {
                    throw ApiError.badRequest("stream_options." + name, "unknown field 'stream_options." + name
                            + "'; stream_options accepts include_usage");
                }
            }
            JsonNode usage = options.get("include_usage");
            if (usage != null && !usage.isNull() && !usage.isBoolean()) {
                throw RequestFields.wrongType("stream_options.include_usage", "true or false", usage);
            }
            includeUsage = usage != null && usage.asBoolean(false);
        }

        List<String> stops = new ArrayList<>(f.stringOrStrings("stop", MAX_STOPS));
        for (int i = 0; i < stops.size(); i++) {
            if (stops.get(i).isEmpty()) {
                throw ApiError.badRequest("stop", "'stop' entries must not be empty");
            }
        }
        List<int[]> prompts;
        int logprobs = -1;
        int maxTokens;
        if (isChat) {
            prompts = List.of(encode(chat.render(f.raw("messages")), "messages"));
            stops.addAll(chat.stopStrings());
            String maxField = f.has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
            maxTokens = f.integer(maxField, config.maxTokens(), 1, config.maxTokens());
            boolean wantLogprobs = f.bool("logprobs", false);
            int top = f.integer("top_logprobs", 0, 0, MAX_LOGPROBS);
            if (top > 0 && !wantLogprobs) {
                throw ApiError.badRequest("top_logprobs", "'top_logprobs' needs \"logprobs\": true");
            }
            logprobs = wantLogprobs ? top : -1;
        } else {
            prompts = prompts(f.raw("prompt"));
            maxTokens = f.integer("max_tokens", Math.min(16, config.maxTokens()), 1, config.maxTokens());
            logprobs = f.has("logprobs") ? f.integer("logprobs", 0, 0, MAX_LOGPROBS) : -1;
        }
        if (stream && logprobs >= 0) {
            throw ApiError.badRequest("logprobs", "log-probabilities are returned only without \"stream\": true");
        }
        int n = f.integer("n", 1, 1, config.maxBatch());
        if (prompts.size() * n > config.maxBatch()) {
            throw ApiError.badRequest("n", prompts.size() + " prompts times n=" + n + " make " + prompts.size() * n
                    + " sequences; the server decodes at most " + config.maxBatch() + " per request");
        }

        double temperature = f.number("temperature", 1.0, 0.0, 2.0);
        double topP = f.number("top_p", 1.0, 0.0, 1.0);
        if (topP == 0) {
            throw ApiError.badRequest("top_p", "'top_p' must be greater than 0");
        }
        int topK = f.integer("top_k", 0, 0, vocabSize);
        double minP = f.number("min_p", 0.0, 0.0, 0.999999);
        double repetition = f.number("repetition_penalty", 1.0, 1e-6, 100.0);
        Long seed = f.longValue("seed");
        GenerationConfig.Builder b = GenerationConfig.builder().maxNewTokens(maxTokens).stopStrings(stops)
                .repetitionPenalty(repetition);
        boolean sample = temperature > 0;
        b.doSample(sample);
        if (sample) {
            b.temperature(temperature).topP(topP).topK(topK).minP(minP);
        }
        if (seed != null) {
            b.seed(seed);
        }
        if (logprobs >= 0) {
            b.logprobs(logprobs);
        }
        GenerationConfig gc;
        try {
            gc = b.build();
        } catch (IllegalArgumentException e) {
            throw ApiError.badRequest(null, e.getMessage());
        }
        return new Request(isChat, prompts, n, gc, stream, includeUsage, logprobs);
    }

    /** OpenAI's {@code prompt}: a string, strings, token ids, or arrays of token ids; absent means EOS. */
    private List<int[]> prompts(JsonNode prompt) {
        if (prompt == null) {
            return List.of(new int[] {eos});
        }
        if (prompt.isTextual()) {
            return List.of(encode(prompt.asText(), "prompt"));
        }
        if (!prompt.isArray() || prompt.isEmpty()) {
            throw RequestFields.wrongType("prompt", "a string, an array of strings, an array of token ids or an"
                    + " array of such arrays (not empty)", prompt);
        }
        if (prompt.get(0).isIntegralNumber()) {
            return List.of(tokenIds(prompt, "prompt"));
        }
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < prompt.size(); i++) {
            JsonNode p = prompt.get(i);
            String at = "prompt[" + i + "]";
            if (p.isTextual()) {
                out.add(encode(p.asText(), at));
            } else if (p.isArray() && !p.isEmpty()) {
                out.add(tokenIds(p, at));
            } else {
                throw RequestFields.wrongType(at, "a string or a non-empty array of token ids", p);
            }
        }
        return out;
    }

    private int[] tokenIds(JsonNode array, String at) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = array.get(i);
            if (!t.isIntegralNumber() || !t.canConvertToInt() || t.asInt() < 0 || t.asInt() >= vocabSize) {
                throw ApiError.badRequest(at, at + "[" + i + "] must be a token id in [0, " + vocabSize + "), got "
                        + t);
            }
            ids[i] = t.asInt();
        }
        return checkLength(ids, at);
    }

    private int[] encode(String text, String at) {
        int[] ids = text.isEmpty() ? new int[] {eos} : tokenizer.encode(text);
        return checkLength(ids, at);
    }

    private int[] checkLength(int[] ids, String at) {
        int limit = config.maxPromptTokens() == 0 ? contextLength - 1
                : Math.min(config.maxPromptTokens(), contextLength - 1);
        if (ids.length > limit) {
            throw ApiError.badRequest(at, at + " has " + ids.length + " tokens; at most " + limit
                    + " are allowed (model context " + contextLength + ")");
        }
        return ids;
    }

    // ----------------------------------------------------------------------------------------------- streaming

    private record Text(int choice, String piece) {
    }

    private record Finished(int choice, GenerationResult result) {
    }

    private record End(Throwable failure) {
    }

    private void stream(Context ctx, Request r, String id, BatchEngine.Job job, LinkedBlockingQueue<Object> events,
                        int promptTokens) {
        ctx.status(200);
        ctx.res().setContentType("text/event-stream; charset=utf-8");
        ctx.res().setHeader("Cache-Control", "no-cache");
        ctx.res().setHeader("X-Accel-Buffering", "no");
        int completionTokens = 0;
        try {
            OutputStream out = ctx.res().getOutputStream();
            if (r.chat) {
                for (int c = 0; c < job.sequences.size(); c++) {
                    ObjectNode delta = JsonNodeFactory.instance.objectNode().put("role", "assistant").put("content",
                            "");
                    send(out, chunk(r, id, c, delta, null));
                }
            } else {
                out.flush(); // headers now: the client knows the request was accepted
            }
            while (true) {
                Object e = events.poll(1, TimeUnit.SECONDS);
                if (e == null) {
                    out.write(": keep-alive\n\n".getBytes(StandardCharsets.US_ASCII)); // also finds gone clients
                    out.flush();
                } else if (e instanceof Text t) {
                    ObjectNode delta = JsonNodeFactory.instance.objectNode().put("content", t.piece());
                    send(out, r.chat ? chunk(r, id, t.choice(), delta, null) : textChunk(id, t.choice(), t.piece(),
                            null));
                } else if (e instanceof Finished done) {
                    completionTokens += done.result().ids().length;
                    String reason = finishReason(done.result().finishReason());
                    send(out, r.chat ? chunk(r, id, done.choice(), JsonNodeFactory.instance.objectNode(), reason)
                            : textChunk(id, done.choice(), "", reason));
                } else if (e instanceof End end) {
                    if (end.failure() != null) {
                        ApiError error = failure(end.failure());
                        send(out, error.body());
                    } else if (r.includeUsage) {
                        ObjectNode last = base(r, id);
                        last.putArray("choices");
                        last.set("usage", usage(promptTokens, completionTokens));
                        send(out, last);
                    }
                    out.write("data: [DONE]\n\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    break;
                }
            }
        } catch (IOException e) {
            job.cancel(); // the client went away: free its rows now
        } catch (InterruptedException e) {
            job.cancel();
            Thread.currentThread().interrupt();
        } finally {
            ctx.attribute(AttuneServer.COMPLETION_TOKENS, completionTokens);
        }
    }

    private static void send(OutputStream out, ObjectNode event) throws IOException {
        out.write(("data: " + event + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private ObjectNode base(Request r, String id) {
        ObjectNode o = json.createObjectNode();
        o.put("id", id).put("object", r.chat ? "chat.completion.chunk" : "text_completion")
                .put("created", Instant.now().getEpochSecond()).put("model", config.modelName());
        return o;
    }

    private ObjectNode chunk(Request r, String id, int choice, ObjectNode delta, String finishReason) {
        ObjectNode o = base(r, id);
        ObjectNode c = o.putArray("choices").addObject().put("index", choice);
        c.set("delta", delta);
        c.putNull("logprobs");
        c.put("finish_reason", finishReason);
        return o;
    }

    private ObjectNode textChunk(String id, int choice, String text, String finishReason) {
        ObjectNode o = json.createObjectNode();
        o.put("id", id).put("object", "text_completion").put("created", Instant.now().getEpochSecond())
                .put("model", config.modelName());
        ObjectNode c = o.putArray("choices").addObject().put("index", choice).put("text", text);
        c.putNull("logprobs");
        c.put("finish_reason", finishReason);
        return o;
    }

    // --------------------------------------------------------------------------------------------- formatting

    private static String finishReason(FinishReason reason) {
        return reason == FinishReason.LENGTH ? "length" : "stop";
    }

    private ObjectNode usage(int prompt, int completion) {
        ObjectNode u = json.createObjectNode();
        u.put("prompt_tokens", prompt).put("completion_tokens", completion).put("total_tokens", prompt + completion);
        return u;
    }

    /** OpenAI's legacy completions shape: tokens, token_logprobs, top_logprobs, text_offset. */
    private ObjectNode completionLogprobs(GenerationResult g) {
        ObjectNode lp = json.createObjectNode();
        ArrayNode tokens = lp.putArray("tokens");
        ArrayNode values = lp.putArray("token_logprobs");
        ArrayNode tops = lp.putArray("top_logprobs");
        ArrayNode offsets = lp.putArray("text_offset");
        int offset = 0;
        for (TokenLogprobs t : g.logprobs()) {
            String text = tokenizer.decode(new int[] {t.id()});
            tokens.add(text);
            values.add(t.logprob());
            ObjectNode top = tops.addObject();
            for (TokenLogprobs.Alternative a : t.top()) {
                top.put(tokenizer.decode(new int[] {a.id()}), a.logprob());
            }
            offsets.add(offset);
            offset += text.length();
        }
        return lp;
    }

    /** OpenAI's chat shape: content = [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]. */
    private ObjectNode chatLogprobs(GenerationResult g) {
        ObjectNode lp = json.createObjectNode();
        ArrayNode content = lp.putArray("content");
        for (TokenLogprobs t : g.logprobs()) {
            ObjectNode entry = tokenEntry(content.addObject(), t.id(), t.logprob());
            ArrayNode top = entry.putArray("top_logprobs");
            for (TokenLogprobs.Alternative a : t.top()) {
                tokenEntry(top.addObject(), a.id(), a.logprob());
            }
        }
        return lp;
    }

    private ObjectNode tokenEntry(ObjectNode o, int id, float logprob) {
        String text = tokenizer.decode(new int[] {id});
        o.put("token", text).put("logprob", logprob);
        ArrayNode bytes = o.putArray("bytes");
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            bytes.add(b & 0xff);
        }
        return o;
    }
}
