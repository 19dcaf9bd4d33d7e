package dev.attune.prompting.scoring;

import dev.attune.core.generate.CausalLm;
import dev.attune.core.model.ForwardResult;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.Output;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Batched log-likelihood scoring, lm-evaluation-harness's {@code loglikelihood} and
 * {@code loglikelihood_rolling}, with scores that do not depend on the batch size.
 *
 * <p>How requests run:
 * <ul>
 *   <li>Each request becomes one row {@code context + continuation} (left-truncated to the model's context), whose
 *       targets are the continuation's tokens only. Rows are sorted by length, longest first (as lm-eval reorders
 *       them), cut into batches of {@link Builder#batchSize(int)} and right-padded; the model's
 *       {@link Output#TARGET_LOGPROBS} output gives each row's sum, count and greedy flag. Causal attention never
 *       lets a real token see the padding after it, so padding changes nothing; identical rows run once.</li>
 *   <li>When several requests share a context and every continuation is a single token (letter answers,
 *       one-token verbalizers), the context runs once for all of them: one row per distinct context, its
 *       last-position distribution read for every choice ({@link Builder#shareContexts(boolean)}).</li>
 * </ul>
 * Results come back in request order. Scores agree across batch sizes to float32 rounding of the matrix products
 * (the tests hold them to 1e-5).
 *
 * <p>Scoring an adapted model needs nothing special: adapters attach inside {@link GptModel}. Not thread-safe
 * (the model reuses its buffers).
 */
public final class LoglikelihoodScorer {

    private final GptModel model;
    private final Tokenizer tokenizer;
    private final int batchSize;
    private final int maxLength;
    private final boolean shareContexts;
    private final Progress progress;
    private final int prefixToken;
    private final int padToken;

    private LoglikelihoodScorer(Builder b) {
        this.model = b.model;
        this.tokenizer = b.tokenizer;
        this.batchSize = b.batchSize;
        this.maxLength = b.maxLength > 0 ? b.maxLength : model.config().contextLength();
        this.shareContexts = b.shareContexts;
        this.progress = b.progress;
        this.prefixToken = tokenizer.eosId().orElse(model.config().eosTokenId());
        this.padToken = model.config().eosTokenId(); // in the model's vocabulary whatever the tokenizer
    }

    public static Builder builder(GptModel model, Tokenizer tokenizer) {
        return new Builder(model, tokenizer);
    }

    public GptModel model() {
        return model;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    public int batchSize() {
        return batchSize;
    }

    /** The log-likelihood of {@code continuation} after {@code context}. */
    public Loglikelihood loglikelihood(String context, String continuation) {
        return loglikelihood(List.of(new Request(context, continuation))).get(0);
    }

    /** Scores every request, batched; results in request order. */
    public List<Loglikelihood> loglikelihood(List<Request> requests) {
        List<int[]> contexts = new ArrayList<>(requests.size());
        List<int[]> continuations = new ArrayList<>(requests.size());
        for (Request r : requests) {
            int[][] pair = encodePair(r.context(), r.continuation());
            contexts.add(pair[0]);
            continuations.add(pair[1]);
        }
        return loglikelihoodTokens(contexts, continuations);
    }

    /**
     * Tokenizes a request as lm-eval's {@code _encode_pair}: trailing whitespace of the context moves to the
     * continuation, the pair is encoded whole and the continuation is what follows the context's own tokens; an
     * empty context becomes the end-of-text token.
     *
     * @return {context ids, continuation ids}
     */
    public int[][] encodePair(String context, String continuation) {
        int spaces = context.length() - context.stripTrailing().length();
        if (spaces > 0) {
            continuation = context.substring(context.length() - spaces) + continuation;
            context = context.substring(0, context.length() - spaces);
        }
        int[] whole = tokenizer.encode(context + continuation);
        int[] ctx = tokenizer.encode(context);
        int[] cont = Arrays.copyOfRange(whole, Math.min(ctx.length, whole.length), whole.length);
        if (cont.length == 0) {
            throw new IllegalArgumentException("continuation \"" + continuation + "\" encodes to no tokens after"
                    + " its context");
        }
        return new int[][] {ctx.length == 0 ? new int[] {prefixToken} : ctx, cont};
    }

    /** Scores token-level requests (contexts must not be empty); results in request order. */
    public List<Loglikelihood> loglikelihoodTokens(List<int[]> contexts, List<int[]> continuations) {
        if (contexts.size() != continuations.size()) {
            throw new IllegalArgumentException(contexts.size() + " contexts but " + continuations.size()
                    + " continuations");
        }
        int n = contexts.size();
        Loglikelihood[] out = new Loglikelihood[n];
        // contexts whose requests all continue with one token run once for all of them
        Map<Key, List<Integer>> shared = new LinkedHashMap<>();
        List<Integer> rowRequests = new ArrayList<>();
        if (shareContexts) {
            Map<Key, List<Integer>> byContext = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                byContext.computeIfAbsent(new Key(contexts.get(i)), k -> new ArrayList<>()).add(i);
            }
            for (Map.Entry<Key, List<Integer>> e : byContext.entrySet()) {
                boolean single = e.getValue().size() > 1 && e.getKey().ids.length <= maxLength
                        && e.getValue().stream().allMatch(i -> continuations.get(i).length == 1);
                if (single) {
                    shared.put(e.getKey(), e.getValue());
                } else {
                    rowRequests.addAll(e.getValue());
                }
            }
            rowRequests.sort(Comparator.naturalOrder());
        } else {
            for (int i = 0; i < n; i++) {
                rowRequests.add(i);
            }
        }
        progress.start("scoring", n, "requests");
        List<Row> rows = new ArrayList<>();
        for (int i : rowRequests) {
            rows.add(row(contexts.get(i), continuations.get(i), i));
        }
        RowScore[] scores = scoreRows(rows, true);
        for (int r = 0; r < rows.size(); r++) {
            out[rowRequests.get(r)] = new Loglikelihood(scores[r].sum, scores[r].greedy, scores[r].count);
        }
        scoreSharedContexts(shared, continuations, out);
        return List.of(out);
    }

    /** One request as a row: {@code (context + continuation)[-(maxLength + 1):]}, inputs all but the last. */
    private Row row(int[] context, int[] continuation, int request) {
        if (context.length == 0) {
            throw new IllegalArgumentException("request " + request + ": empty context (use the end-of-text token)");
        }
        if (continuation.length > maxLength) {
            throw new IllegalArgumentException("request " + request + ": continuation of " + continuation.length
                    + " tokens does not fit the model's context of " + maxLength);
        }
        int total = Math.min(context.length + continuation.length, maxLength + 1);
        int[] all = new int[total];
        int fromContext = total - continuation.length;
        System.arraycopy(context, context.length - fromContext, all, 0, fromContext);
        System.arraycopy(continuation, 0, all, fromContext, continuation.length);
        int[] inputs = Arrays.copyOf(all, total - 1);
        int[] targets = new int[total - 1];
        Arrays.fill(targets, TokenBatch.IGNORE);
        for (int t = fromContext - 1; t < total - 1; t++) {
            targets[t] = all[t + 1];
        }
        return new Row(inputs, targets);
    }

    /** Runs rows sorted by length in right-padded batches; identical rows run once. */
    private RowScore[] scoreRows(List<Row> rows, boolean reportProgress) {
        RowScore[] out = new RowScore[rows.size()];
        Map<Row, List<Integer>> unique = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            unique.computeIfAbsent(rows.get(i), k -> new ArrayList<>()).add(i);
        }
        List<Row> order = new ArrayList<>(unique.keySet());
        Map<Row, Integer> firstIndex = new HashMap<>();
        for (Map.Entry<Row, List<Integer>> e : unique.entrySet()) {
            firstIndex.put(e.getKey(), e.getValue().get(0));
        }
        // longest first (as lm-eval), ties in request order: the order never depends on the batch size
        order.sort(Comparator.comparingInt((Row r) -> -r.inputs.length).thenComparingInt(firstIndex::get));
        for (int start = 0; start < order.size(); start += batchSize) {
            List<Row> batch = order.subList(start, Math.min(order.size(), start + batchSize));
            int length = batch.get(0).inputs.length;
            int[] inputs = new int[batch.size() * length];
            int[] targets = new int[batch.size() * length];
            Arrays.fill(targets, TokenBatch.IGNORE);
            Arrays.fill(inputs, padToken); // padding: any valid id, never attended by real tokens
            for (int b = 0; b < batch.size(); b++) {
                Row r = batch.get(b);
                System.arraycopy(r.inputs, 0, inputs, b * length, r.inputs.length);
                System.arraycopy(r.targets, 0, targets, b * length, r.targets.length);
            }
            ForwardResult result = model.forward(new TokenBatch(batch.size(), length, inputs, targets),
                    Output.TARGET_LOGPROBS);
            double[] sums = result.targetLogProbs();
            int[] counts = result.targetCounts();
            boolean[] greedy = result.greedy();
            int done = 0;
            for (int b = 0; b < batch.size(); b++) {
                RowScore s = new RowScore(sums[b], counts[b], greedy[b]);
                for (int i : unique.get(batch.get(b))) {
                    out[i] = s;
                    done++;
                }
            }
            if (reportProgress) {
                progress.advance(done);
            }
        }
        return out;
    }

    /**
     * One decoding step per distinct context (left-padded batches through the KV-cache forward), then each
     * request's single continuation token is read from that context's next-token distribution.
     */
    private void scoreSharedContexts(Map<Key, List<Integer>> shared, List<int[]> continuations, Loglikelihood[] out) {
        List<Map.Entry<Key, List<Integer>>> groups = new ArrayList<>(shared.entrySet());
        groups.sort(Comparator.comparingInt((Map.Entry<Key, List<Integer>> e) -> -e.getKey().ids.length)
                .thenComparingInt(e -> e.getValue().get(0)));
        CausalLm lm = CausalLm.of(model);
        for (int start = 0; start < groups.size(); start += batchSize) {
            List<Map.Entry<Key, List<Integer>>> batch = groups.subList(start, Math.min(groups.size(),
                    start + batchSize));
            int length = batch.get(0).getKey().ids.length;
            int[][] tokens = new int[batch.size()][length];
            boolean[][] mask = new boolean[batch.size()][length];
            for (int b = 0; b < batch.size(); b++) {
                int[] ids = batch.get(b).getKey().ids;
                int pad = length - ids.length;
                Arrays.fill(tokens[b], padToken);
                System.arraycopy(ids, 0, tokens[b], pad, ids.length);
                Arrays.fill(mask[b], pad, length, true);
            }
            float[][] logits = lm.start(batch.size(), length).next(tokens, mask);
            int done = 0;
            for (int b = 0; b < batch.size(); b++) {
                float[] row = logits[b];
                double max = Double.NEGATIVE_INFINITY;
                int argmax = 0;
                for (int v = 0; v < row.length; v++) {
                    if (row[v] > max) {
                        max = row[v];
                        argmax = v;
                    }
                }
                double sum = 0;
                for (float x : row) {
                    sum += Math.exp(x - max);
                }
                double logZ = max + Math.log(sum);
                for (int i : batch.get(b).getValue()) {
                    int token = continuations.get(i)[0];
                    out[i] = new Loglikelihood(row[token] - logZ, token == argmax, 1);
                    done++;
                }
            }
            progress.advance(done);
        }
    }

    /**
     * Log-likelihood of whole texts with a strided sliding window, as Hugging Face's perplexity guide: windows of
     * at most {@code contextLength} tokens start every {@code stride} tokens, and each window scores only the
     * tokens the previous one did not, so every token after the first is scored exactly once, with at least
     * {@code contextLength - stride} tokens of context before it (fewer at the start of the text). The first token
     * has no context and is not scored. The stride must be below the window length (at equal lengths Hugging
     * Face's loop leaves the first token of every window unscored).
     *
     * @return per text: summed log-likelihood, tokens scored, UTF-8 bytes of the text
     */
    public List<Rolling> rolling(List<String> texts, int contextLength, int stride) {
        List<int[]> ids = new ArrayList<>(texts.size());
        for (String t : texts) {
            ids.add(tokenizer.encode(t));
        }
        List<Loglikelihood> scores = rollingTokens(ids, contextLength, stride);
        List<Rolling> out = new ArrayList<>();
        for (int d = 0; d < texts.size(); d++) {
            out.add(new Rolling(scores.get(d).logLikelihood(), scores.get(d).tokens(),
                    texts.get(d).getBytes(StandardCharsets.UTF_8).length));
        }
        return out;
    }

    /**
     * {@link #rolling} on token ids: per sequence the summed log-likelihood of every token after the first, the
     * number of tokens scored, and whether every one of them was the model's arg-max.
     */
    public List<Loglikelihood> rollingTokens(List<int[]> sequences, int contextLength, int stride) {
        if (contextLength < 2 || contextLength > maxLength + 1) {
            throw new IllegalArgumentException("window length must be in [2, " + (maxLength + 1) + "], got "
                    + contextLength);
        }
        if (stride < 1 || stride >= contextLength) {
            // at stride == window the windows are disjoint and each window's first token goes unscored
            throw new IllegalArgumentException("stride must be in [1, window length - 1 = " + (contextLength - 1)
                    + "], got " + stride);
        }
        List<Row> rows = new ArrayList<>();
        List<Integer> owner = new ArrayList<>();
        for (int d = 0; d < sequences.size(); d++) {
            int[] ids = sequences.get(d);
            for (Window w : windows(ids.length, contextLength, stride)) {
                int[] inputs = Arrays.copyOfRange(ids, w.begin(), w.end() - 1);
                int[] targets = new int[inputs.length];
                Arrays.fill(targets, TokenBatch.IGNORE);
                for (int t = w.firstTarget(); t < w.end(); t++) {
                    targets[t - w.begin() - 1] = ids[t];
                }
                rows.add(new Row(inputs, targets));
                owner.add(d);
            }
        }
        progress.start("scoring windows", rows.size(), "windows");
        RowScore[] scores = scoreRows(rows, true);
        double[] sums = new double[sequences.size()];
        int[] counts = new int[sequences.size()];
        boolean[] greedy = new boolean[sequences.size()];
        Arrays.fill(greedy, true);
        for (int r = 0; r < rows.size(); r++) {
            sums[owner.get(r)] += scores[r].sum;
            counts[owner.get(r)] += scores[r].count;
            greedy[owner.get(r)] &= scores[r].greedy;
        }
        List<Loglikelihood> out = new ArrayList<>();
        for (int d = 0; d < sequences.size(); d++) {
            out.add(new Loglikelihood(sums[d], greedy[d] && counts[d] > 0, counts[d]));
        }
        return out;
    }

    /** A text's rolling log-likelihood: summed nats over {@code tokens} scored tokens of a {@code bytes}-byte text. */
    public record Rolling(double logLikelihood, int tokens, int bytes) {
    }

    /**
     * A window over token positions [begin, end) whose targets are positions [firstTarget, end).
     */
    public record Window(int begin, int end, int firstTarget) {
    }

    /** The windows of Hugging Face's strided perplexity loop over {@code n} tokens. */
    public static List<Window> windows(int n, int contextLength, int stride) {
        List<Window> out = new ArrayList<>();
        int previousEnd = 0;
        for (int begin = 0; begin < n; begin += stride) {
            int end = Math.min(begin + contextLength, n);
            int targetLength = end - previousEnd;
            int firstTarget = Math.max(begin + 1, end - targetLength);
            if (end - begin >= 2 && firstTarget < end) {
                out.add(new Window(begin, end, firstTarget));
            }
            previousEnd = end;
            if (end == n) {
                break;
            }
        }
        return out;
    }

    private record RowScore(double sum, int count, boolean greedy) {
    }

    private static final class Row {
        final int[] inputs;
        final int[] targets;
        private final int hash;

        Row(int[] inputs, int[] targets) {
            this.inputs = inputs;
            this.targets = targets;
            this.hash = 31 * Arrays.hashCode(inputs) + Arrays.hashCode(targets);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Row r && Arrays.equals(inputs, r.inputs) && Arrays.equals(targets, r.targets);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private static final class Key {
        final int[] ids;

        Key(int[] ids) {
            this.ids = ids;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.equals(ids, k.ids);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(ids);
        }
    }

    /** Options; defaults: batch 8, the model's context length, shared contexts on, silent. */
    public static final class Builder {
        private final GptModel model;
        private final Tokenizer tokenizer;
        private int batchSize = 8;
        private int maxLength;
        private boolean shareContexts = true;
        private Progress progress = Progress.silent();

        private Builder(GptModel model, Tokenizer tokenizer) {
            this.model = Objects.requireNonNull(model, "model");
            this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        }

        /** Rows per forward pass (more rows: fewer passes, more memory). */
        public Builder batchSize(int n) { this.batchSize = n; return this; }
        /** The most tokens a row may hold; contexts are cut from the left to fit. 0: the model's context length. */
        public Builder maxLength(int n) { this.maxLength = n; return this; }
        /** Run a context shared by single-token continuations once (default on). */
        public Builder shareContexts(boolean on) { this.shareContexts = on; return this; }
        public Builder progress(Progress p) { this.progress = Objects.requireNonNull(p, "progress"); return this; }

        public LoglikelihoodScorer build() {
            List<String> problems = new ArrayList<>();
            if (batchSize < 1) {
                problems.add("batchSize must be at least 1, got " + batchSize);
            }
            int context = model.config().contextLength();
            if (maxLength < 0 || maxLength > context) {
                problems.add("maxLength must be in [0, " + context + "] (0 = the model's), got " + maxLength);
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("scorer: " + String.join("; ", problems));
            }
            return new LoglikelihoodScorer(this);
        }
    }
}
