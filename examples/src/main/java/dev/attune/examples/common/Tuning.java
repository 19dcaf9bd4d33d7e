package dev.attune.examples.common;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.data.PromptCompletionData;
import dev.attune.core.data.TrainingData;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.GenerationResult;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.core.train.AdamW;
import dev.attune.core.train.LearningRateSchedule;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.Trainable;
import dev.attune.core.train.TrainingResult;
import dev.attune.finetune.peft.AdapterWithBaseModules;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.PeftModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Fine-tuning on prompt/completion pairs, the way every example does it: LoRA on the attention and MLP projections,
 * or every weight; the loss counts completion tokens only.
 */
public final class Tuning {

    /** A prompt and the completion the model should learn to write after it. */
    public record Pair(String prompt, String completion) {
    }

    /**
     * How long and how hard to train.
     *
     * @param steps     optimizer steps
     * @param batchSize rows per step
     * @param lr        peak learning rate (linear decay after a 10% warm-up)
     * @param seed      data order and adapter initialisation
     * @param progress  show a progress line on standard error
     */
    public record Settings(int steps, int batchSize, double lr, long seed, boolean progress) {
        public Settings {
            if (steps < 1 || batchSize < 1 || !(lr > 0)) {
                throw new IllegalArgumentException("steps and batchSize must be >= 1 and lr > 0, got steps=" + steps
                        + ", batchSize=" + batchSize + ", lr=" + lr);
            }
        }

        public Settings withSteps(int n) {
            return new Settings(n, batchSize, lr, seed, progress);
        }

        public Settings withProgress(boolean show) {
            return new Settings(steps, batchSize, lr, seed, show);
        }

        public Settings withBatchSize(int rows) {
            return new Settings(steps, rows, lr, seed, progress);
        }

        public Settings withLr(double rate) {
            return new Settings(steps, batchSize, rate, seed, progress);
        }
    }

    private static final int GENERATION_BATCH = 16;

    private Tuning() {
    }

    private static final int LORA_RANK = 8;
    private static final List<String> LORA_TARGETS = List.of("c_attn", "c_proj", "c_fc");

    /** Rank-8 LoRA on every attention and MLP projection: the examples' default adapter. */
    public static PeftModel lora(GptModel base, long seed) {
        return Peft.lora().rank(LORA_RANK).alpha(2 * LORA_RANK).targets(LORA_TARGETS.toArray(String[]::new)).build()
                .apply(base, seed);
    }

    /** Trains {@code trainable} (a {@link PeftModel} or {@link Trainable#of(GptModel)}) on the pairs. */
    public static TrainingResult train(Trainable trainable, Tokenizer tokenizer, List<Pair> pairs, Settings settings)
            throws IOException {
        return train(trainable, data(tokenizer, pairs), settings);
    }

    /**
     * Trains {@code trainable} to write each completion and then a line break, the end the generating examples stop
     * at ({@link #complete} with stop string {@code "\n"}). The line break stands in for the end-of-sequence token,
     * which the small base model has hardly seen (its corpus is one document) and which a short LoRA run would spend
     * most of its steps learning; a line break it has seen tens of thousands of times.
     */
    public static TrainingResult trainLines(Trainable trainable, Tokenizer tokenizer, List<Pair> pairs,
                                            Settings settings) throws IOException {
        List<Pair> lines = pairs.stream().map(p -> new Pair(p.prompt(), p.completion() + "\n")).toList();
        return train(trainable, withoutEndOfSequence(data(tokenizer, lines)), settings);
    }

    /** Trains {@code trainable} on {@code data} with the examples' schedule (10% warm-up, then linear decay). */
    public static TrainingResult train(Trainable trainable, TrainingData data, Settings settings) throws IOException {
        return LmTraining.builder()
                .trainable(trainable)
                .data(data)
                .batchSize(settings.batchSize())
                .schedule(LearningRateSchedule.linear(settings.lr()).withWarmup(Math.max(1, settings.steps() / 10)))
                .optimizer(AdamW.builder().weightDecay(0.0).build())
                .clipGradNorm(1.0)
                .maxSteps(settings.steps())
                .seed(settings.seed())
                .progress(settings.progress())
                .build()
                .run();
    }

    /**
     * Greedy completions of the prompts, batched, each cut at the first of {@code stops} (and at the end-of-sequence
     * token).
     */
    public static List<String> complete(GptModel model, Tokenizer tokenizer, List<String> prompts, int maxNewTokens,
                                        String... stops) {
        Generator generator = Generator.of(model, tokenizer);
        GenerationConfig config = GenerationConfig.builder().maxNewTokens(maxNewTokens).stopStrings(stops).build();
        List<String> out = new ArrayList<>(prompts.size());
        for (int start = 0; start < prompts.size(); start += GENERATION_BATCH) {
            List<int[]> batch = new ArrayList<>();
            for (String p : prompts.subList(start, Math.min(prompts.size(), start + GENERATION_BATCH))) {
                batch.add(tokenizer.encode(p));
            }
            for (GenerationResult r : generator.generateBatch(batch, config)) {
                String text = r.text();
                for (String stop : stops) {
                    int at = text.indexOf(stop);
                    text = at >= 0 ? text.substring(0, at) : text;
                }
                out.add(text.strip());
            }
        }
        return out;
    }

    /**
     * The base modules the generating examples train beside LoRA: the token embedding, which GPT-2 ties to its output
     * layer. LoRA alone cannot lift the small base model's logits (its embeddings are short: examples/README.md,
     * "What this base model can and cannot learn with LoRA"); saved as PEFT's {@code modules_to_save}.
     */
    public static final List<String> GENERATION_MODULES = List.of("wte");

    /** The reports' name for the generating examples' fine-tuned model: LoRA plus {@link #GENERATION_MODULES}. */
    public static final String GENERATION_LABEL = "LoRA + " + String.join(" + ", GENERATION_MODULES);

    /**
     * What {@link #loraOnLines} trained (LoRA and {@link #GENERATION_MODULES}), and the held-out pairs' loss before
     * and after training.
     */
    public record LineTuning(AdapterWithBaseModules trained, double heldOutLossBefore, double heldOutLossAfter) {

        /** The adapter, on the base model (whose trained modules hold the trained values). */
        public PeftModel peft() {
            return trained.peft();
        }

        /**
         * One line for the reports: what trained and how many parameters, e.g. "LoRA r8 on c_attn, c_proj, c_fc +
         * wte (modules_to_save): 884,736 of 2,713,728 parameters (32.6%)".
         */
        public String description() {
            PeftModel.ParameterCount n = trained.trainableParameters();
            return String.format(java.util.Locale.ROOT, "LoRA r%d on %s + %s (modules_to_save): %,d of %,d parameters "
                    + "(%.1f%%)", LORA_RANK, String.join(", ", LORA_TARGETS), String.join(", ", trained.modules()),
                    n.trainable(), n.total(), n.percent());
        }
    }

    /**
     * The generating examples' fine-tuning: {@link #lora} and {@link #GENERATION_MODULES} on {@code base}, trained by
     * {@link #trainLines} on {@code train}, with {@link #lineLoss} of {@code heldOut} measured before and after.
     */
    public static LineTuning loraOnLines(Pretrained base, List<Pair> train, List<Pair> heldOut, Settings settings)
            throws IOException {
        AdapterWithBaseModules trained = AdapterWithBaseModules.of(lora(base.model(), settings.seed()),
                GENERATION_MODULES.toArray(String[]::new));
        double before = lineLoss(trained, base.tokenizer(), heldOut, HELD_OUT_BATCHES);
        trainLines(trained, base.tokenizer(), train, settings);
        trained.sync();
        return new LineTuning(trained, before, lineLoss(trained, base.tokenizer(), heldOut, HELD_OUT_BATCHES));
    }

    private static final int HELD_OUT_BATCHES = 4;

    /**
     * Mean cross-entropy per completion token (nats) of {@code trainable} on the pairs as {@link #trainLines} trains
     * on them, over at most {@code maxBatches} batches of 16: measured before and after training, it shows what the
     * training learned even when greedy answers do not change yet.
     */
    public static double lineLoss(Trainable trainable, Tokenizer tokenizer, List<Pair> pairs, int maxBatches) {
        List<Pair> lines = pairs.stream().map(p -> new Pair(p.prompt(), p.completion() + "\n")).toList();
        double sum = 0;
        long targets = 0;
        for (TokenBatch b : withoutEndOfSequence(data(tokenizer, lines)).evaluationBatches(16,
                trainable.contextLength(), maxBatches)) {
            sum += trainable.loss(b);
            targets += b.validTargets();
        }
        return sum / targets;
    }

    /**
     * {@code data} without the end-of-sequence target after each completion. For a label word scored by
     * log-likelihood, the word is all that counts; the small base model has hardly seen the end-of-sequence token
     * (its corpus is one document), and learning it first costs most of a short run.
     */
    public static TrainingData withoutEndOfSequence(PromptCompletionData data) {
        int eos = data.eosToken();
        return new TrainingData() {
            @Override
            public TokenBatch batch(long index, int batchSize, int maxLength, long seed) {
                return dropTarget(data.batch(index, batchSize, maxLength, seed), eos);
            }

            @Override
            public List<TokenBatch> evaluationBatches(int batchSize, int maxLength, int maxBatches) {
                return data.evaluationBatches(batchSize, maxLength, maxBatches).stream()
                        .map(b -> dropTarget(b, eos)).toList();
            }

            @Override
            public long truncatedExamples(int maxLength) {
                return data.truncatedExamples(maxLength);
            }

            @Override
            public String description() {
                return data.description() + ", no end-of-sequence target";
            }
        };
    }

    private static TokenBatch dropTarget(TokenBatch batch, int token) {
        int[] targets = batch.targets().clone();
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] == token) {
                targets[i] = TokenBatch.IGNORE;
            }
        }
        return new TokenBatch(batch.batchSize(), batch.length(), batch.inputs(), targets);
    }

    /** The pairs tokenized as generation meets them: prompt and completion apart, EOS after the completion. */
    public static PromptCompletionData data(Tokenizer tokenizer, List<Pair> pairs) {
        List<PromptCompletionData.Example> examples = new ArrayList<>(pairs.size());
        for (Pair p : pairs) {
            examples.add(new PromptCompletionData.Example(tokenizer.encode(p.prompt()),
                    tokenizer.encode(p.completion())));
        }
        return PromptCompletionData.of(examples, tokenizer.eosId().orElseThrow(
                () -> new IllegalArgumentException("the tokenizer has no end-of-sequence token to end completions")));
    }
}
