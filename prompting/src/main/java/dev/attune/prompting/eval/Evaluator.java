package dev.attune.prompting.eval;

import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.GenerationResult;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.prompting.fewshot.FewShotSampler;
import dev.attune.prompting.metrics.Bootstrap;
import dev.attune.prompting.metrics.MultipleChoice;
import dev.attune.prompting.metrics.Perplexity;
import dev.attune.prompting.metrics.Rouge;
import dev.attune.prompting.metrics.Squad;
import dev.attune.prompting.scoring.Loglikelihood;
import dev.attune.prompting.scoring.LoglikelihoodScorer;
import dev.attune.prompting.scoring.Progress;
import dev.attune.prompting.scoring.Request;
import dev.attune.prompting.template.FewShotFormat;
import dev.attune.prompting.template.PromptTemplate;
import dev.attune.prompting.template.TaskPrompt;
import dev.attune.prompting.verbalizer.Verbalizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Evaluates a model on a task the way lm-evaluation-harness does, with scores that do not depend on the batch size.
 *
 * <ul>
 *   <li>{@link TaskType#MC}: one log-likelihood request per choice, {@code context + " " + choice}; acc, acc_norm,
 *       acc_bytes ({@link MultipleChoice}).</li>
 *   <li>{@link TaskType#CLS}: one request per verbalizer word; a label scores its best word; acc.</li>
 *   <li>{@link TaskType#GENERATE}: greedy generation until the few-shot delimiter (or {@code maxNewTokens});
 *       the stripped text against the answers: exact_match and f1 (SQuAD), rouge1, rouge2, rougeL, rougeLsum.</li>
 *   <li>{@link TaskType#LM}: strided sliding-window log-likelihood of each text; perplexity and bits_per_byte over
 *       the whole corpus.</li>
 * </ul>
 * Every metric comes with a seeded bootstrap standard error over items. Few-shot demonstrations come from the task's
 * other items (never the item itself), chosen by the {@link FewShotSampler}; the report lists them.
 *
 * <p>Default prompts when none is given: {@code "{context}"} (mc), {@code "{text}\nLabel:"} with each label as its
 * own word (cls), {@code "{prompt}"} (generate); lm-eval's delimiters.
 */
public final class Evaluator {

    private final GptModel model;
    private final Tokenizer tokenizer;
    private final TaskPrompt prompt;
    private final int shots;
    private final FewShotSampler sampler;
    private final int batchSize;
    private final int maxNewTokens;
    private final boolean rougeStemming;
    private final int bootstrapIterations;
    private final long bootstrapSeed;
    private final int window;
    private final int stride;
    private final Progress progress;
    private final LoglikelihoodScorer scorer;

    private Evaluator(Builder b) {
        this.model = b.model;
        this.tokenizer = b.tokenizer;
        this.prompt = b.prompt;
        this.shots = b.shots;
        this.sampler = b.sampler;
        this.batchSize = b.batchSize;
        this.maxNewTokens = b.maxNewTokens;
        this.rougeStemming = b.rougeStemming;
        this.bootstrapIterations = b.bootstrapIterations;
        this.bootstrapSeed = b.bootstrapSeed;
        this.window = b.window > 0 ? b.window : model.config().contextLength();
        this.stride = b.stride > 0 ? b.stride : Math.max(1, this.window / 2);
        this.progress = b.progress;
        this.scorer = LoglikelihoodScorer.builder(model, tokenizer).batchSize(batchSize).progress(progress).build();
    }

    public static Builder builder(GptModel model, Tokenizer tokenizer) {
        return new Builder(model, tokenizer);
    }

    /** The scorer the evaluator uses (same model, tokenizer, batch size and progress). */
    public LoglikelihoodScorer scorer() {
        return scorer;
    }

    /**
     * Evaluates the items of one task.
     *
     * @param task  a name for the report (usually the file)
     * @param type  what kind of task the items are
     * @param items the task's items, as {@link TaskFiles#read} returns them
     */
    public EvalReport evaluate(String task, TaskType type, List<TaskItem> items) {
        if (items.isEmpty()) {
            throw new IllegalArgumentException(task + ": no items to evaluate");
        }
        long start = System.nanoTime();
        Map<String, double[]> metrics = new LinkedHashMap<>();
        List<EvalReport.ItemResult> results = new ArrayList<>();
        switch (type) {
            case MC -> multipleChoice(task, items, metrics, results);
            case CLS -> classification(task, items, metrics, results);
            case GENERATE -> generation(task, items, metrics, results);
            case LM -> languageModel(items, metrics, results);
        }
        return new EvalReport(task, type, metrics, type == TaskType.LM ? 0 : shots, sampler.toString(), results,
                (System.nanoTime() - start) / 1e9);
    }

    private TaskPrompt promptFor(TaskType type, List<TaskItem> items) {
        if (prompt != null) {
            if (type == TaskType.CLS && prompt.verbalizer() == null) {
                return prompt.withVerbalizer(labelsAsWords(items));
            }
            return prompt;
        }
        return switch (type) {
            case MC -> TaskPrompt.of(PromptTemplate.of("{context}"));
            case CLS -> TaskPrompt.of(PromptTemplate.of("{text}\nLabel:")).withVerbalizer(labelsAsWords(items));
            default -> TaskPrompt.of(PromptTemplate.of("{prompt}"));
        };
    }

    private static Verbalizer labelsAsWords(List<TaskItem> items) {
        Set<String> labels = new LinkedHashSet<>();
        for (TaskItem i : items) {
            labels.add(i.label());
        }
        return Verbalizer.identity(new ArrayList<>(labels));
    }

    /** The item's rendered input: the template's variables taken from the item's fields. */
    private static String render(String task, PromptTemplate template, TaskItem item) {
        Map<String, String> values = new LinkedHashMap<>();
        Set<String> missing = new LinkedHashSet<>();
        for (String v : template.variables()) {
            if (item.fields().containsKey(v)) {
                values.put(v, item.fields().get(v));
            } else if (!template.defaults().containsKey(v)) {
                missing.add(v);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException(task + ":" + item.line() + ": the template needs field(s) " + missing
                    + " that the item does not have (it has " + item.fields().keySet() + ")");
        }
        return template.render(values);
    }

    /** Per item: the pool indices of its demonstrations. */
    private int[][] demos(List<TaskItem> items, TaskType type) {
        int[][] out = new int[items.size()][];
        for (int i = 0; i < items.size(); i++) {
            int query = i;
            out[i] = sampler.select(shots, i, items.size(), j -> j == query,
                    sampler.strategy() == FewShotSampler.Strategy.BALANCED ? j -> {
                        String l = items.get(j).balanceLabel();
                        if (l == null) {
                            throw new IllegalArgumentException("balanced few-shot selection needs labels; "
                                    + type.cliName() + " items have none");
                        }
                        return l;
                    } : null);
        }
        return out;
    }

    private String context(String task, TaskPrompt p, List<TaskItem> items, int[] demoIndices, TaskItem query,
                           java.util.function.Function<TaskItem, String> target) {
        List<FewShotFormat.Demo> demos = new ArrayList<>();
        for (int d : demoIndices) {
            TaskItem item = items.get(d);
            demos.add(new FewShotFormat.Demo(render(task, p.template(), item), target.apply(item)));
        }
        return p.format().context(demos, render(task, p.template(), query));
    }

    private static int[] lines(List<TaskItem> items, int[] indices) {
        int[] out = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            out[i] = items.get(indices[i]).line();
        }
        return out;
    }

    private void multipleChoice(String task, List<TaskItem> items, Map<String, double[]> metrics,
                                List<EvalReport.ItemResult> results) {
        TaskPrompt p = promptFor(TaskType.MC, items);
        int[][] demos = demos(items, TaskType.MC);
        List<Request> requests = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            TaskItem item = items.get(i);
            String ctx = context(task, p, items, demos[i], item, d -> d.choices().get(d.gold()));
            for (String choice : item.choices()) {
                requests.add(new Request(ctx, p.format().continuation(choice)));
            }
        }
        List<Loglikelihood> scores = scorer.loglikelihood(requests);
        double[] acc = new double[items.size()];
        double[] accNorm = new double[items.size()];
        double[] accBytes = new double[items.size()];
        int next = 0;
        for (int i = 0; i < items.size(); i++) {
            TaskItem item = items.get(i);
            double[] ll = new double[item.choices().size()];
            for (int c = 0; c < ll.length; c++) {
                ll[c] = scores.get(next++).logLikelihood();
            }
            MultipleChoice.Prediction pred = MultipleChoice.predict(ll, item.choices());
            acc[i] = pred.acc() == item.gold() ? 1 : 0;
            accNorm[i] = pred.accNorm() == item.gold() ? 1 : 0;
            accBytes[i] = pred.accBytes() == item.gold() ? 1 : 0;
            results.add(new EvalReport.ItemResult(item.line(), lines(items, demos[i]), Integer.toString(pred.acc())));
        }
        putMean(metrics, "acc", acc);
        putMean(metrics, "acc_norm", accNorm);
        putMean(metrics, "acc_bytes", accBytes);
    }

    private void classification(String task, List<TaskItem> items, Map<String, double[]> metrics,
                                List<EvalReport.ItemResult> results) {
        TaskPrompt p = promptFor(TaskType.CLS, items);
        Verbalizer v = p.verbalizer();
        for (TaskItem item : items) {
            if (!v.labelSet().contains(item.label())) {
                throw new IllegalArgumentException(task + ":" + item.line() + ": field \"label\": \"" + item.label()
                        + "\" is not a verbalizer label " + v.labels());
            }
        }
        int[][] demos = demos(items, TaskType.CLS);
        List<Request> requests = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String ctx = context(task, p, items, demos[i], items.get(i), d -> v.target(d.label()));
            for (String label : v.labels()) {
                for (String word : v.words(label)) {
                    requests.add(new Request(ctx, p.format().continuation(word)));
                }
            }
        }
        List<Loglikelihood> scores = scorer.loglikelihood(requests);
        double[] acc = new double[items.size()];
        int next = 0;
        for (int i = 0; i < items.size(); i++) {
            double[] labelScores = new double[v.labels().size()];
            for (int l = 0; l < labelScores.length; l++) {
                double[] words = new double[v.words(v.labels().get(l)).size()];
                for (int w = 0; w < words.length; w++) {
                    words[w] = scores.get(next++).logLikelihood();
                }
                labelScores[l] = Verbalizer.combine(words);
            }
            String predicted = v.labels().get(MultipleChoice.argmax(labelScores));
            acc[i] = predicted.equals(items.get(i).label()) ? 1 : 0;
            results.add(new EvalReport.ItemResult(items.get(i).line(), lines(items, demos[i]), predicted));
        }
        putMean(metrics, "acc", acc);
    }

    private void generation(String task, List<TaskItem> items, Map<String, double[]> metrics,
                            List<EvalReport.ItemResult> results) {
        TaskPrompt p = promptFor(TaskType.GENERATE, items);
        int[][] demos = demos(items, TaskType.GENERATE);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            String ctx = context(task, p, items, demos[i], items.get(i), d -> d.answers().get(0));
            prompts.add(tokenizer.encode(ctx));
        }
        GenerationConfig.Builder config = GenerationConfig.builder().maxNewTokens(maxNewTokens)
                .contextOverflow(GenerationConfig.ContextOverflow.TRUNCATE_LEFT);
        if (!p.format().fewshotDelimiter().isEmpty()) {
            config.stopStrings(p.format().fewshotDelimiter());
        }
        Generator generator = Generator.of(model, tokenizer);
        List<String> predictions = new ArrayList<>();
        progress.start("generating", items.size(), "items");
        for (int start = 0; start < prompts.size(); start += batchSize) {
            List<int[]> batch = prompts.subList(start, Math.min(prompts.size(), start + batchSize));
            for (GenerationResult r : generator.generateBatch(batch, config.build())) {
                predictions.add(r.text().strip());
            }
            progress.advance(batch.size());
        }
        Rouge rouge = Rouge.create(rougeStemming);
        int n = items.size();
        double[] em = new double[n], f1 = new double[n], r1 = new double[n], r2 = new double[n],
                rl = new double[n], rlsum = new double[n];
        for (int i = 0; i < n; i++) {
            List<String> answers = items.get(i).answers();
            String pred = predictions.get(i);
            em[i] = Squad.exactMatch(pred, answers);
            f1[i] = Squad.f1(pred, answers);
            Rouge.Scores s = rouge.score(pred, answers);
            r1[i] = s.rouge1();
            r2[i] = s.rouge2();
            rl[i] = s.rougeL();
            rlsum[i] = s.rougeLsum();
            results.add(new EvalReport.ItemResult(items.get(i).line(), lines(items, demos[i]), pred));
        }
        putMean(metrics, "exact_match", em);
        putMean(metrics, "f1", f1);
        putMean(metrics, "rouge1", r1);
        putMean(metrics, "rouge2", r2);
        putMean(metrics, "rougeL", rl);
        putMean(metrics, "rougeLsum", rlsum);
    }

    private void languageModel(List<TaskItem> items, Map<String, double[]> metrics,
                               List<EvalReport.ItemResult> results) {
        List<String> texts = new ArrayList<>();
        for (TaskItem i : items) {
            texts.add(i.fields().get("text"));
        }
        List<LoglikelihoodScorer.Rolling> rolling = scorer.rolling(texts, window, stride);
        int n = items.size();
        double[] nll = new double[n], tokens = new double[n], bytes = new double[n];
        for (int i = 0; i < n; i++) {
            LoglikelihoodScorer.Rolling r = rolling.get(i);
            nll[i] = -r.logLikelihood();
            tokens[i] = r.tokens();
            bytes[i] = r.bytes();
            results.add(new EvalReport.ItemResult(items.get(i).line(), new int[0],
                    String.format(java.util.Locale.ROOT, "%.6f", Math.exp(nll[i] / Math.max(1, tokens[i])))));
        }
        metrics.put("perplexity", new double[] {Perplexity.perplexity(nll, tokens),
                Perplexity.perplexityStderr(nll, tokens, bootstrapIterations, bootstrapSeed)});
        metrics.put("bits_per_byte", new double[] {Perplexity.bitsPerByte(nll, bytes),
                Perplexity.bitsPerByteStderr(nll, bytes, bootstrapIterations, bootstrapSeed)});
    }

    private void putMean(Map<String, double[]> metrics, String name, double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        metrics.put(name, new double[] {sum / values.length,
                Bootstrap.meanStderr(values, bootstrapIterations, bootstrapSeed)});
    }

    /**
     * Options. Defaults: no custom prompt (per-type defaults), 0 shots, first-n sampler, batch 8, 32 new tokens,
     * no stemming, 1000 bootstrap resamples with seed 1234, window = the model's context, stride = half of it,
     * silent.
     */
    public static final class Builder {
        private final GptModel model;
        private final Tokenizer tokenizer;
        private TaskPrompt prompt;
        private int shots;
        private FewShotSampler sampler = FewShotSampler.firstN();
        private int batchSize = 8;
        private int maxNewTokens = 32;
        private boolean rougeStemming;
        private int bootstrapIterations = Bootstrap.DEFAULT_ITERATIONS;
        private long bootstrapSeed = 1234;
        private int window;
        private int stride;
        private Progress progress = Progress.silent();

        private Builder(GptModel model, Tokenizer tokenizer) {
            this.model = Objects.requireNonNull(model, "model");
            this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
        }

        /** The item template, delimiters and verbalizer (null: the per-type defaults). */
        public Builder prompt(TaskPrompt p) { this.prompt = p; return this; }
        /** Demonstrations per item (k). */
        public Builder shots(int k) { this.shots = k; return this; }
        public Builder sampler(FewShotSampler s) { this.sampler = Objects.requireNonNull(s, "sampler"); return this; }
        public Builder batchSize(int n) { this.batchSize = n; return this; }
        /** Generation tasks: the most tokens generated per item. */
        public Builder maxNewTokens(int n) { this.maxNewTokens = n; return this; }
        /** ROUGE with Porter stemming. */
        public Builder rougeStemming(boolean on) { this.rougeStemming = on; return this; }
        public Builder bootstrapIterations(int n) { this.bootstrapIterations = n; return this; }
        public Builder bootstrapSeed(long seed) { this.bootstrapSeed = seed; return this; }
        /** Language-model tasks: window length in tokens (0: the model's context length). */
        public Builder window(int tokens) { this.window = tokens; return this; }
        /** Language-model tasks: tokens between window starts, below the window (0: half the window). */
        public Builder stride(int tokens) { this.stride = tokens; return this; }
        public Builder progress(Progress p) { this.progress = Objects.requireNonNull(p, "progress"); return this; }

        public Evaluator build() {
            List<String> problems = new ArrayList<>();
            if (shots < 0) {
                problems.add("shots must be >= 0, got " + shots);
            }
            if (batchSize < 1) {
                problems.add("batchSize must be at least 1, got " + batchSize);
            }
            if (maxNewTokens < 1) {
                problems.add("maxNewTokens must be at least 1, got " + maxNewTokens);
            }
            if (bootstrapIterations < 2) {
                problems.add("bootstrapIterations must be at least 2, got " + bootstrapIterations);
            }
            if (window < 0 || stride < 0) {
                problems.add("window and stride must be >= 0 (0 = default), got " + window + " and " + stride);
            }
            if (window > 0 && stride >= window) {
                problems.add("stride " + stride + " must be below the window " + window);
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("evaluator: " + String.join("; ", problems));
            }
            return new Evaluator(this);
        }
    }
}
