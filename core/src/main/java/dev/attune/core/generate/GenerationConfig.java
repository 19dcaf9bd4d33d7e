package dev.attune.core.generate;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * How to generate text: length limits, the decoding strategy and its knobs, when to stop, what to return.
 *
 * <p>Immutable; make one with {@link #builder()} (or {@link #greedy(int)}). {@link Builder#build()} validates every
 * field and names each problem. Names and meanings follow Hugging Face's {@code GenerationConfig}; where Attune
 * differs it says so below.
 *
 * <p>Decoding strategy: greedy by default; sampling when {@code doSample} is true; beam search when
 * {@code numBeams > 1} (beam sampling is not supported). Sampling knobs set while {@code doSample} is false are an
 * error rather than silently ignored.
 *
 * <p>Logits are processed in Hugging Face's order: repetition penalty, no-repeat n-gram ban, EOS suppression
 * before {@code minNewTokens}; then, when sampling, temperature, top-k, top-p, min-p. Penalties look at the row's
 * own prompt and generated tokens only (never at left padding), so a row of a batch decodes exactly as it would
 * alone.
 *
 * @param maxNewTokens      the most tokens to generate (the context length may stop generation earlier)
 * @param minNewTokens      EOS is suppressed until this many tokens were generated
 * @param doSample          sample from the processed distribution instead of taking its arg-max
 * @param temperature       divides the logits before sampling; {@code > 0}
 * @param topK              keep only the k most likely tokens (ties at the k-th score are kept); 0 = off. Unlike
 *                          transformers, whose default is 50, the default is off
 * @param topP              nucleus sampling: keep the smallest set of most likely tokens whose probability reaches
 *                          {@code topP}; in (0, 1], 1 = off
 * @param minP              drop tokens whose probability is below {@code minP} times the top token's; in [0, 1),
 *                          0 = off
 * @param repetitionPenalty tokens already in the sequence get positive logits divided and negative logits
 *                          multiplied by this; 1 = off
 * @param noRepeatNgramSize bans any token that would repeat an n-gram of this size already in the sequence;
 *                          0 = off
 * @param numBeams          beams for beam search; 1 = greedy or sampling
 * @param lengthPenalty     a finished beam's score is its summed log-probability divided by
 *                          {@code generatedLength ^ lengthPenalty} (positive values favour longer output)
 * @param earlyStopping     when beam search stops (see {@link EarlyStopping})
 * @param eosTokenIds       tokens that end a sequence; empty = the model's {@code eos_token_id}
 * @param ignoreEos         never stop at EOS (generate until a length limit or a stop string)
 * @param stopStrings       generation stops as soon as the generated text contains one of these; matched on
 *                          decoded text, so a stop string may span tokens. The returned and streamed text ends
 *                          just before the stop string; the returned ids keep every generated token, up to and
 *                          including the one that completed it
 * @param seed              seeds sampling; row {@code r} of a batch samples like a single request with
 *                          {@code seed + r}. Empty = a random seed
 * @param returnLogprobs    return each generated token's log-probability under the model (log-softmax of the
 *                          raw logits, before penalties, temperature and filtering)
 * @param topLogprobs       also return this many most likely alternatives at each step (needs
 *                          {@code returnLogprobs})
 * @param contextOverflow   what to do with a prompt that leaves no room in the model's context
 */
public record GenerationConfig(
        int maxNewTokens,
        int minNewTokens,
        boolean doSample,
        double temperature,
        int topK,
        double topP,
        double minP,
        double repetitionPenalty,
        int noRepeatNgramSize,
        int numBeams,
        double lengthPenalty,
        EarlyStopping earlyStopping,
        List<Integer> eosTokenIds,
        boolean ignoreEos,
        List<String> stopStrings,
        OptionalLong seed,
        boolean returnLogprobs,
        int topLogprobs,
        ContextOverflow contextOverflow) {

    /** When beam search stops, as Hugging Face's {@code early_stopping}. */
    public enum EarlyStopping {
        /** {@code True}: stop a prompt's search as soon as {@code numBeams} finished hypotheses exist. */
        EAGER,
        /**
         * {@code False} (the default): stop when the best running beam, scored at the current length, can no longer
         * beat the worst finished hypothesis.
         */
        HEURISTIC,
        /** {@code "never"}: canonical beam search; stop only when no better hypothesis is reachable. */
        NEVER
    }

    /** What to do when the prompt does not fit the model's context. */
    public enum ContextOverflow {
        /**
         * The default: a prompt that fills the context (leaving no room for one new token) is an error; a shorter
         * prompt generates until the context is full and finishes with {@link FinishReason#LENGTH}.
         */
        ERROR,
        /**
         * Drop the oldest prompt tokens so that the prompt plus {@code maxNewTokens} fits the context (at least one
         * prompt token is kept). {@link GenerationResult#promptTokens()} reports how many were used.
         */
        TRUNCATE_LEFT
    }

    public GenerationConfig {
        eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
        stopStrings = stopStrings == null ? List.of() : List.copyOf(stopStrings);
        seed = seed == null ? OptionalLong.empty() : seed;
        List<String> problems = new ArrayList<>();
        if (maxNewTokens < 1) {
            problems.add("maxNewTokens must be at least 1, got " + maxNewTokens);
        }
        if (minNewTokens < 0 || minNewTokens > maxNewTokens) {
            problems.add("minNewTokens must be in [0, maxNewTokens=" + maxNewTokens + "], got " + minNewTokens);
        }
        if (!(temperature > 0) || Double.isInfinite(temperature)) {
            problems.add("temperature must be positive and finite, got " + temperature);
        }
        if (topK < 0) {
            problems.add("topK must be >= 0 (0 = off), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            problems.add("topP must be in (0, 1], got " + topP);
        }
        if (!(minP >= 0 && minP < 1)) {
            problems.add("minP must be in [0, 1), got " + minP);
        }
        if (!(repetitionPenalty > 0) || Double.isInfinite(repetitionPenalty)) {
            problems.add("repetitionPenalty must be positive and finite (1 = off), got " + repetitionPenalty);
        }
        if (noRepeatNgramSize < 0) {
            problems.add("noRepeatNgramSize must be >= 0 (0 = off), got " + noRepeatNgramSize);
        }
        if (numBeams < 1) {
            problems.add("numBeams must be at least 1, got " + numBeams);
        }
        if (!Double.isFinite(lengthPenalty)) {
            problems.add("lengthPenalty must be finite, got " + lengthPenalty);
        }
        if (earlyStopping == null) {
            problems.add("earlyStopping must not be null");
        }
        if (contextOverflow == null) {
            problems.add("contextOverflow must not be null");
        }
        for (Integer id : eosTokenIds) {
            if (id < 0) {
                problems.add("eos token ids must be >= 0, got " + id);
            }
        }
        for (String s : stopStrings) {
            if (s.isEmpty()) {
                problems.add("stop strings must not be empty");
            }
        }
        if (topLogprobs < 0) {
            problems.add("topLogprobs must be >= 0, got " + topLogprobs);
        }
        if (topLogprobs > 0 && !returnLogprobs) {
            problems.add("topLogprobs=" + topLogprobs + " needs returnLogprobs (use logprobs(" + topLogprobs + "))");
        }
        if (!doSample) {
            List<String> unused = new ArrayList<>();
            if (temperature != 1.0) {
                unused.add("temperature=" + temperature);
            }
            if (topK != 0) {
                unused.add("topK=" + topK);
            }
            if (topP != 1.0) {
                unused.add("topP=" + topP);
            }
            if (minP != 0.0) {
                unused.add("minP=" + minP);
            }
            if (!unused.isEmpty()) {
                problems.add(String.join(", ", unused) + " only act when sampling: set doSample(true)");
            }
        } else if (numBeams > 1) {
            problems.add("beam sampling (doSample with numBeams=" + numBeams + ") is not supported");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("Invalid generation config: " + String.join("; ", problems));
        }
    }

    /** Greedy decoding of at most {@code maxNewTokens} tokens, everything else at its default. */
    public static GenerationConfig greedy(int maxNewTokens) {
        return builder().maxNewTokens(maxNewTokens).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxNewTokens = maxNewTokens;
        b.minNewTokens = minNewTokens;
        b.doSample = doSample;
        b.temperature = temperature;
        b.topK = topK;
        b.topP = topP;
        b.minP = minP;
        b.repetitionPenalty = repetitionPenalty;
        b.noRepeatNgramSize = noRepeatNgramSize;
        b.numBeams = numBeams;
        b.lengthPenalty = lengthPenalty;
        b.earlyStopping = earlyStopping;
        b.eosTokenIds = eosTokenIds;
        b.ignoreEos = ignoreEos;
        b.stopStrings = stopStrings;
        b.seed = seed;
        b.returnLogprobs = returnLogprobs;
        b.topLogprobs = topLogprobs;
        b.contextOverflow = contextOverflow;
        return b;
    }

    /** True when beam search runs ({@code numBeams > 1}). */
    public boolean isBeamSearch() {
        return numBeams > 1;
    }

    /** Fluent builder; defaults: greedy, 20 new tokens, no penalties, the model's EOS, errors on context overflow. */
    public static final class Builder {
        private int maxNewTokens = 20;
        private int minNewTokens;
        private boolean doSample;
        private double temperature = 1.0;
        private int topK;
        private double topP = 1.0;
        private double minP;
        private double repetitionPenalty = 1.0;
        private int noRepeatNgramSize;
        private int numBeams = 1;
        private double lengthPenalty = 1.0;
        private EarlyStopping earlyStopping = EarlyStopping.HEURISTIC;
        private List<Integer> eosTokenIds = List.of();
        private boolean ignoreEos;
        private List<String> stopStrings = List.of();
        private OptionalLong seed = OptionalLong.empty();
        private boolean returnLogprobs;
        private int topLogprobs;
        private ContextOverflow contextOverflow = ContextOverflow.ERROR;

        private Builder() {
        }

        public Builder maxNewTokens(int n) { this.maxNewTokens = n; return this; }
        public Builder minNewTokens(int n) { this.minNewTokens = n; return this; }
        public Builder doSample(boolean sample) { this.doSample = sample; return this; }
        public Builder temperature(double t) { this.temperature = t; return this; }
        public Builder topK(int k) { this.topK = k; return this; }
        public Builder topP(double p) { this.topP = p; return this; }
        public Builder minP(double p) { this.minP = p; return this; }
        public Builder repetitionPenalty(double penalty) { this.repetitionPenalty = penalty; return this; }
        public Builder noRepeatNgramSize(int n) { this.noRepeatNgramSize = n; return this; }
        public Builder numBeams(int beams) { this.numBeams = beams; return this; }
        public Builder lengthPenalty(double penalty) { this.lengthPenalty = penalty; return this; }
        public Builder earlyStopping(EarlyStopping mode) { this.earlyStopping = mode; return this; }

        /** Hugging Face's boolean form: true = {@link EarlyStopping#EAGER}, false = {@link EarlyStopping#HEURISTIC}. */
        public Builder earlyStopping(boolean stopEarly) {
            this.earlyStopping = stopEarly ? EarlyStopping.EAGER : EarlyStopping.HEURISTIC;
            return this;
        }

        /** Tokens that end generation; none given = the model's {@code eos_token_id}. */
        public Builder eosTokenIds(int... ids) {
            List<Integer> list = new ArrayList<>(ids.length);
            for (int id : ids) {
                list.add(id);
            }
            this.eosTokenIds = list;
            return this;
        }

        public Builder ignoreEos(boolean ignore) { this.ignoreEos = ignore; return this; }

        public Builder stopStrings(String... strings) { this.stopStrings = List.of(strings); return this; }

        public Builder stopStrings(List<String> strings) { this.stopStrings = strings; return this; }

        public Builder seed(long s) { this.seed = OptionalLong.of(s); return this; }

        /** Return per-token log-probabilities and the {@code alternatives} most likely tokens at each step. */
        public Builder logprobs(int alternatives) {
            this.returnLogprobs = true;
            this.topLogprobs = alternatives;
            return this;
        }

        public Builder returnLogprobs(boolean ret) { this.returnLogprobs = ret; return this; }
        public Builder topLogprobs(int n) { this.topLogprobs = n; return this; }
        public Builder contextOverflow(ContextOverflow policy) { this.contextOverflow = policy; return this; }

        /** Validates and builds; the message lists every problem found. */
        public GenerationConfig build() {
            return new GenerationConfig(maxNewTokens, minNewTokens, doSample, temperature, topK, topP, minP,
                    repetitionPenalty, noRepeatNgramSize, numBeams, lengthPenalty, earlyStopping, eosTokenIds,
                    ignoreEos, stopStrings, seed, returnLogprobs, topLogprobs, contextOverflow);
        }
    }
}
