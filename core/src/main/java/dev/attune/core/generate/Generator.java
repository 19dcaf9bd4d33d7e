package dev.attune.core.generate;

import dev.attune.core.config.GptConfig;
import dev.attune.core.generate.GenerationConfig.ContextOverflow;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.StreamingDecoder;
import dev.attune.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Generates text with a language model, like Hugging Face's {@code generate()}: greedy, sampling or beam search
 * (see {@link GenerationConfig}), for one prompt or a batch.
 *
 * <p>The prompt runs through the model once (prefill) and fills a key/value cache; then each step feeds only the
 * newest token of each row, so a step costs the same at every position apart from attention over the cache.
 * Batched prompts are left-padded and masked: padding never shifts positions nor enters penalties, so each row's
 * output equals generating that row alone (up to floating-point ties). Finished rows ride along as padding until
 * the whole batch is done.
 *
 * <p>Streaming: a listener receives text pieces as tokens are generated, cut only at complete characters (a
 * character split over tokens waits for its last byte), and never any part of a stop string; the pieces add up to
 * {@link GenerationResult#text()}. Beam search only knows its winner at the end, so it delivers the text in one
 * piece then.
 *
 * <p>Context limits: see {@link ContextOverflow}. Rows also stop with {@link FinishReason#LENGTH} when their
 * prompt plus generated tokens fill the model's context.
 *
 * <p>Not thread-safe (the model's buffers are reused); use one generator per thread.
 */
public final class Generator {

    /** Receives generated text as it appears: the batch row and a piece of text. */
    @FunctionalInterface
    public interface TextListener {
        void onText(int row, String piece);
    }

    private final CausalLm lm;
    private final Tokenizer tokenizer;

    private Generator(CausalLm lm, Tokenizer tokenizer) {
        this.lm = Objects.requireNonNull(lm, "lm");
        this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    }

    /** A generator over the model's KV-cache forward pass; the tokenizer encodes prompts and decodes output. */
    public static Generator of(GptModel model, Tokenizer tokenizer) {
        return new Generator(CausalLm.of(model), tokenizer);
    }

    /** A generator over any {@link CausalLm} (an adapted model, for instance). */
    public static Generator of(CausalLm lm, Tokenizer tokenizer) {
        return new Generator(lm, tokenizer);
    }

    /** The model this generator drives. */
    public CausalLm model() {
        return lm;
    }

    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** Generates a continuation of {@code prompt} (encoded with the tokenizer). */
    public GenerationResult generate(String prompt, GenerationConfig config) {
        return generate(tokenizer.encode(prompt), config, null);
    }

    /** Generates a continuation of {@code prompt}, handing text pieces to {@code onText} as they are produced. */
    public GenerationResult generate(String prompt, GenerationConfig config, Consumer<String> onText) {
        return generate(tokenizer.encode(prompt), config, onText);
    }

    /** Generates a continuation of the prompt token ids. */
    public GenerationResult generate(int[] prompt, GenerationConfig config) {
        return generate(prompt, config, null);
    }

    /** Generates a continuation of the prompt token ids, streaming text pieces to {@code onText} (may be null). */
    public GenerationResult generate(int[] prompt, GenerationConfig config, Consumer<String> onText) {
        TextListener listener = onText == null ? null : (row, piece) -> onText.accept(piece);
        return generateBatch(List.of(prompt), config, listener).get(0);
    }

    /** Generates a continuation of each prompt in one batch; results come in prompt order. */
    public List<GenerationResult> generateBatch(List<int[]> prompts, GenerationConfig config) {
        return generateBatch(prompts, config, null);
    }

    /**
     * Generates a continuation of each prompt in one batch, streaming text to {@code listener} (may be null) with
     * the prompt's index as the row.
     */
    public List<GenerationResult> generateBatch(List<int[]> prompts, GenerationConfig config, TextListener listener) {
        Objects.requireNonNull(config, "config");
        Batch batch = prepare(prompts, config);
        return config.isBeamSearch() ? beamSearch(batch, listener) : sampleOrGreedy(batch, listener);
    }

    /** Beam search even for one beam (greedy's twin): lets tests compare the two code paths. */
    List<GenerationResult> beamSearch(List<int[]> prompts, GenerationConfig config) {
        return beamSearch(prepare(prompts, config), null);
    }

    // -------------------------------------------------------------------------------------------- preparation

    /** Prompts fitted to the context, each row's token budget, and the settings every row shares. */
    private record Batch(GenerationConfig config, int[][] prompts, int[] budgets, int[] eos, int pad,
                         List<LogitsProcessor> processors, List<LogitsProcessor> warpers) {
        int rows() {
            return prompts.length;
        }

        int longestPrompt() {
            return Arrays.stream(prompts).mapToInt(p -> p.length).max().orElse(0);
        }

        int largestBudget() {
            return Arrays.stream(budgets).max().orElse(0);
        }

        boolean isEos(int token) {
            for (int e : eos) {
                if (e == token) {
                    return true;
                }
            }
            return false;
        }
    }

    private Batch prepare(List<int[]> prompts, GenerationConfig config) {
        if (prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompts given");
        }
        GptConfig model = lm.config();
        int context = lm.contextLength();
        int[][] fitted = new int[prompts.size()][];
        int[] budgets = new int[prompts.size()];
        for (int r = 0; r < fitted.length; r++) {
            int[] p = prompts.get(r);
            String which = prompts.size() == 1 ? "prompt" : "prompt " + r;
            if (p.length == 0) {
                throw new IllegalArgumentException(which + " is empty: give at least one token");
            }
            for (int i = 0; i < p.length; i++) {
                if (p[i] < 0 || p[i] >= model.vocabSize()) {
                    throw new IllegalArgumentException(which + " has token id " + p[i] + " at position " + i
                            + ", outside the model's vocabulary [0, " + model.vocabSize() + ")");
                }
            }
            if (config.contextOverflow() == ContextOverflow.TRUNCATE_LEFT) {
                int keep = Math.max(1, context - config.maxNewTokens());
                p = p.length > keep ? Arrays.copyOfRange(p, p.length - keep, p.length) : p;
            } else if (p.length >= context) {
                throw new IllegalArgumentException(which + " has " + p.length + " tokens but the model's context"
                        + " holds " + context + ", leaving no room to generate; shorten it or use"
                        + " ContextOverflow.TRUNCATE_LEFT");
            }
            fitted[r] = p;
            budgets[r] = Math.min(config.maxNewTokens(), context - p.length);
        }
        int[] eos = eosIds(config, model);
        for (int id : eos) {
            if (id >= model.vocabSize()) {
                throw new IllegalArgumentException("eos token id " + id + " is outside the model's vocabulary [0, "
                        + model.vocabSize() + ")");
            }
        }
        if (config.topLogprobs() > model.vocabSize()) {
            throw new IllegalArgumentException("topLogprobs " + config.topLogprobs() + " exceeds the vocabulary size "
                    + model.vocabSize());
        }
        return new Batch(config, fitted, budgets, eos, model.eosTokenId(), LogitsProcessor.processors(config, eos),
                LogitsProcessor.warpers(config));
    }

    private static int[] eosIds(GenerationConfig config, GptConfig model) {
        if (config.ignoreEos()) {
            return new int[0];
        }
        if (config.eosTokenIds().isEmpty()) {
            return new int[] {model.eosTokenId()};
        }
        return config.eosTokenIds().stream().mapToInt(Integer::intValue).toArray();
    }

    /** Left-pads each prompt (repeated {@code copies} times) to the longest; mask is null when nothing is padded. */
    private static float[][] prefill(CausalLm.Session session, Batch batch, int copies) {
        int longest = batch.longestPrompt();
        int rows = batch.rows() * copies;
        int[][] tokens = new int[rows][longest];
        boolean[][] mask = new boolean[rows][longest];
        boolean padded = false;
        for (int r = 0; r < rows; r++) {
            int[] p = batch.prompts()[r / copies];
            int pad = longest - p.length;
            Arrays.fill(tokens[r], 0, pad, batch.pad());
            System.arraycopy(p, 0, tokens[r], pad, p.length);
            Arrays.fill(mask[r], pad, longest, true);
            padded |= pad > 0;
        }
        return session.next(tokens, padded ? mask : null);
    }

    /** One step for every row: live rows feed their newest token, finished rows a masked pad. */
    private static float[][] step(CausalLm.Session session, int[] newest, boolean[] live, int pad) {
        int[][] tokens = new int[newest.length][1];
        boolean[][] mask = new boolean[newest.length][1];
        boolean allLive = true;
        for (int r = 0; r < newest.length; r++) {
            tokens[r][0] = live[r] ? newest[r] : pad;
            mask[r][0] = live[r];
            allLive &= live[r];
        }
        return session.next(tokens, allLive ? null : mask);
    }

    /** The raw log-softmax entry for the chosen token and the top alternatives of that row. */
    private static TokenLogprobs logprobs(float[] rawLogprobs, int token, int top) {
        List<TokenLogprobs.Alternative> alternatives = new ArrayList<>(top);
        if (top > 0) {
            for (int id : TopN.indices(rawLogprobs, top)) {
                alternatives.add(new TokenLogprobs.Alternative(id, rawLogprobs[id]));
            }
        }
        return new TokenLogprobs(token, rawLogprobs[token], alternatives);
    }

    // ---------------------------------------------------------------------------------------- greedy, sampling

    /**
     * Opens a step-wise greedy or sampled generation of one prompt, for callers that run the model themselves
     * (a server that batches requests as they come and go). Hand each next-token logits row of this sequence to
     * {@link Sequence#next(float[])} until {@link Sequence#finished()}; the result equals
     * {@link #generate(int[], GenerationConfig, Consumer)} for the same logits.
     *
     * @param prompt token ids; fitted to the context as {@link #generate} does (see {@link Sequence#prompt()})
     * @param config greedy or sampling (not beam search)
     * @param index  the row of a {@link #generateBatch} this sequence stands for: sampling draws from
     *               {@code seed + index}, so index 0 with a seeded config reproduces a single generation
     * @param onText receives text pieces as they are settled (may be null)
     */
    public Sequence sequence(int[] prompt, GenerationConfig config, int index, Consumer<String> onText) {
        Objects.requireNonNull(config, "config");
        if (config.isBeamSearch()) {
            throw new IllegalArgumentException("step-wise generation supports greedy and sampling, not beam search ("
                    + config.numBeams() + " beams)");
        }
        if (index < 0) {
            throw new IllegalArgumentException("index must be >= 0, got " + index);
        }
        Batch batch = prepare(List.of(prompt), config);
        long seed = config.seed().orElseGet(() -> ThreadLocalRandom.current().nextLong());
        TextListener listener = onText == null ? null : (row, piece) -> onText.accept(piece);
        return new Sequence(batch, index, batch.prompts()[0], batch.budgets()[0], seed, listener);
    }

    /**
     * One greedy or sampled sequence being generated: its tokens, its text as streamed so far, how it ended. Each
     * step applies the config's logits processors and warpers, then picks a token with argmax or the sampler, and
     * follows EOS, stop strings and the token budget. Not thread-safe.
     */
    public final class Sequence {
        private final Batch batch;
        private final int index;
        private final TokenHistory history;
        private final int budget;
        private final SplittableRandom rng;
        private final StreamingDecoder decoder = tokenizer.streamingDecoder();
        private final StopStrings text;
        private final List<TokenLogprobs> logprobs = new ArrayList<>();
        private final TextListener listener;
        private FinishReason finished;

        private Sequence(Batch batch, int index, int[] prompt, int budget, long seed, TextListener listener) {
            this.batch = batch;
            this.index = index;
            this.history = new TokenHistory(prompt);
            this.budget = budget;
            this.rng = new SplittableRandom(seed + index);
            this.text = new StopStrings(batch.config().stopStrings());
            this.listener = listener;
        }

        /** The prompt the model must see: as given, or cut from the left under {@code TRUNCATE_LEFT}. */
        public int[] prompt() {
            return Arrays.copyOf(history.tokensView(), history.promptLength());
        }

        /** Most tokens this sequence may generate: {@code maxNewTokens}, or fewer where the context ends. */
        public int budget() {
            return budget;
        }

        /** Tokens generated so far. */
        public int generated() {
            return history.generated();
        }

        /** True once EOS, a stop string or the budget ended the sequence. */
        public boolean finished() {
            return finished != null;
        }

        /**
         * Chooses the next token from the model's next-token logits for this sequence and records it.
         *
         * @param logits [V] raw logits of the last position; used as scratch (changed in place)
         * @return the chosen token id, which the model must be fed next unless {@link #finished()}
         */
        public int next(float[] logits) {
            if (finished != null) {
                throw new IllegalStateException("sequence already finished (" + finished.label() + ")");
            }
            GenerationConfig config = batch.config();
            float[] raw = null;
            if (config.returnLogprobs()) {
                raw = new float[logits.length];
                Sampler.logSoftmax(logits, raw);
            }
            LogitsProcessor.applyAll(batch.processors(), logits, history);
            LogitsProcessor.applyAll(batch.warpers(), logits, history);
            int token = config.doSample() ? Sampler.sample(logits, rng) : Sampler.argmax(logits);
            accept(token, raw == null ? null : logprobs(raw, token, config.topLogprobs()), batch.isEos(token));
            return token;
        }

        private void accept(int token, TokenLogprobs lp, boolean isEos) {
            history.append(token);
            if (lp != null) {
                logprobs.add(lp);
            }
            if (isEos) {
                finish(FinishReason.EOS);
                return;
            }
            emit(text.append(decoder.push(token)));
            if (text.stopped()) {
                finished = FinishReason.STOP;
            } else if (history.generated() >= budget) {
                finish(FinishReason.LENGTH);
            }
        }

        private void finish(FinishReason reason) {
            emit(text.append(decoder.finish())); // bytes of an unfinished character, if any
            emit(text.finish());
            finished = text.stopped() ? FinishReason.STOP : reason;
        }

        private void emit(String piece) {
            if (listener != null && !piece.isEmpty()) {
                listener.onText(index, piece);
            }
        }

        /** What was generated; valid once {@link #finished()}. */
        public GenerationResult result() {
            if (finished == null) {
                throw new IllegalStateException("sequence not finished: " + history.generated() + " of at most "
                        + budget + " tokens generated");
            }
            return new GenerationResult(history.generatedIds(), text.text(), finished, history.promptLength(),
                    logprobs);
        }
    }

    private List<GenerationResult> sampleOrGreedy(Batch batch, TextListener listener) {
        GenerationConfig config = batch.config();
        long seed = config.seed().orElseGet(() -> ThreadLocalRandom.current().nextLong());
        int n = batch.rows();
        Sequence[] rows = new Sequence[n];
        for (int r = 0; r < n; r++) {
            rows[r] = new Sequence(batch, r, batch.prompts()[r], batch.budgets()[r], seed, listener);
        }
        try (CausalLm.Session session = lm.start(n, batch.longestPrompt() + batch.largestBudget())) {
            float[][] logits = prefill(session, batch, 1);
            int[] newest = new int[n];
            boolean[] live = new boolean[n];
            while (true) {
                boolean anyLive = false;
                for (int r = 0; r < n; r++) {
                    Sequence row = rows[r];
                    if (row.finished()) {
                        live[r] = false;
                        continue;
                    }
                    newest[r] = row.next(logits[r]);
                    live[r] = !row.finished();
                    anyLive |= live[r];
                }
                if (!anyLive) {
                    break;
                }
                logits = step(session, newest, live, batch.pad());
            }
            List<GenerationResult> results = new ArrayList<>(n);
            for (Sequence row : rows) {
                results.add(row.result());
            }
            return results;
        }
    }

    // -------------------------------------------------------------------------------------------- beam search

    /** A live beam: its tokens and their log-probabilities. */
    private record Beam(TokenHistory history, List<TokenLogprobs> logprobs) {
    }

    /** A finished beam-search sequence. */
    private record Finished(int[] ids, FinishReason reason, List<TokenLogprobs> logprobs) {
    }

    /** One prompt's beam search: its beams, the search bookkeeping, and the raw log-probabilities of this step. */
    private final class PromptBeams implements BeamSearch.Beams<Finished> {
        final Batch batch;
        final int budget;
        final BeamSearch<Finished> search;
        Beam[] beams;
        float[][] raw;
        Finished result;

        PromptBeams(Batch batch, int[] prompt, int budget) {
            GenerationConfig c = batch.config();
            this.batch = batch;
            this.budget = budget;
            this.search = new BeamSearch<>(c.numBeams(), c.lengthPenalty(), c.earlyStopping(), budget);
            this.beams = new Beam[c.numBeams()];
            for (int b = 0; b < beams.length; b++) {
                beams[b] = new Beam(new TokenHistory(prompt), List.of());
            }
        }

        @Override
        public FinishReason finishes(int beam, int token) {
            if (batch.isEos(token)) {
                return FinishReason.EOS;
            }
            List<String> stops = batch.config().stopStrings();
            if (!stops.isEmpty()) {
                int[] ids = appended(beams[beam].history().generatedIds(), token);
                StopStrings s = new StopStrings(stops);
                s.append(tokenizer.decode(ids));
                if (s.stopped()) {
                    return FinishReason.STOP;
                }
            }
            return null;
        }

        @Override
        public Finished capture(int beam, int token, FinishReason reason) {
            Beam from = beams[beam];
            int[] ids = from.history().generatedIds();
            List<TokenLogprobs> lps = from.logprobs();
            if (token >= 0) {
                ids = appended(ids, token);
                lps = withLogprob(lps, beam, token);
            }
            return new Finished(ids, reason, lps);
        }

        List<TokenLogprobs> withLogprob(List<TokenLogprobs> lps, int beam, int token) {
            if (!batch.config().returnLogprobs()) {
                return lps;
            }
            List<TokenLogprobs> out = new ArrayList<>(lps.size() + 1);
            out.addAll(lps);
            out.add(logprobs(raw[beam], token, batch.config().topLogprobs()));
            return out;
        }

        GenerationResult toResult() {
            int[] ids = result.ids();
            int textEnd = result.reason() == FinishReason.EOS ? ids.length - 1 : ids.length;
            StopStrings text = new StopStrings(batch.config().stopStrings());
            text.append(tokenizer.decode(Arrays.copyOf(ids, textEnd)));
            return new GenerationResult(ids, text.text(), result.reason(), beams[0].history().promptLength(),
                    result.logprobs());
        }
    }

    private static int[] appended(int[] ids, int token) {
        int[] out = Arrays.copyOf(ids, ids.length + 1);
        out[ids.length] = token;
        return out;
    }

    private List<GenerationResult> beamSearch(Batch batch, TextListener listener) {
        GenerationConfig config = batch.config();
        int k = config.numBeams();
        int n = batch.rows();
        PromptBeams[] prompts = new PromptBeams[n];
        for (int p = 0; p < n; p++) {
            prompts[p] = new PromptBeams(batch, batch.prompts()[p], batch.budgets()[p]);
        }
        try (CausalLm.Session session = lm.start(n * k, batch.longestPrompt() + batch.largestBudget())) {
            float[][] logits = prefill(session, batch, k);
            int[] newest = new int[n * k];
            boolean[] live = new boolean[n * k];
            for (int generated = 0; ; generated++) {
                int[] parents = new int[n * k];
                boolean anyLive = false;
                for (int p = 0; p < n; p++) {
                    PromptBeams pb = prompts[p];
                    for (int b = 0; b < k; b++) {
                        parents[p * k + b] = p * k + b;
                    }
                    if (pb.result != null) {
                        continue;
                    }
                    // Hugging Face scores beams on log-softmax outputs, processed after normalisation.
                    pb.raw = new float[k][];
                    float[][] processed = new float[k][];
                    for (int b = 0; b < k; b++) {
                        float[] row = logits[p * k + b];
                        Sampler.logSoftmax(row, row);
                        pb.raw[b] = row.clone();
                        LogitsProcessor.applyAll(batch.processors(), row, pb.beams[b].history());
                        processed[b] = row;
                    }
                    BeamSearch.Selection sel = pb.search.step(processed, generated, pb);
                    Beam[] next = new Beam[k];
                    for (int i = 0; i < k; i++) {
                        int parent = sel.parents()[i];
                        int token = sel.tokens()[i];
                        TokenHistory h = pb.beams[parent].history().copy();
                        h.append(token);
                        next[i] = new Beam(h, pb.withLogprob(pb.beams[parent].logprobs(), parent, token));
                        parents[p * k + i] = p * k + parent;
                        newest[p * k + i] = token;
                    }
                    pb.beams = next;
                    if (pb.search.done() || generated + 1 >= pb.budget) {
                        pb.result = pb.search.finish(generated + 1, pb).value();
                        GenerationResult r = pb.toResult();
                        if (listener != null && !r.text().isEmpty()) {
                            listener.onText(p, r.text());
                        }
                    }
                    for (int b = 0; b < k; b++) {
                        live[p * k + b] = pb.result == null;
                    }
                    anyLive |= pb.result == null;
                }
                if (!anyLive) {
                    break;
                }
                session.reorder(parents);
                logits = step(session, newest, live, batch.pad());
            }
            List<GenerationResult> results = new ArrayList<>(n);
            for (PromptBeams pb : prompts) {
                results.add(pb.toResult());
            }
            return results;
        }
    }
}
