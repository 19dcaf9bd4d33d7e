package dev.attune.examples.bench;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.generate.CausalLm;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.ForwardResult;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.Output;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.model.WeightFormat;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.examples.common.ExampleFiles;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Compressed weights ({@link WeightFormat}): their decoding speed beside float32 in one process, and their cost in quality. */
final class WeightFormatBenches {

    /** The base model's pretraining corpus; its tail was held out. */
    static final Path CORPUS = ExampleFiles.DATA.resolve(Path.of("corpus", "jargon-4.4.7.txt.gz"));

    private WeightFormatBenches() {
    }

    /**
     * Batch-1 greedy decoding at GPT-2 small (16-token prompt to 128 tokens, the KV cache, as {@code generate-b1})
     * with the same random weights held four ways in one process: float32 in the decoding layout (what
     * {@code attune generate} runs), float32 in GPT-2's own layout, bf16 and int8; the variants take turns and the
     * order rotates every repetition: on a busy machine the ratio of runs side by side in time is steadier than
     * absolute numbers taken minutes apart. The value is int8's tokens/s; the fields give each variant's median decode
     * time per token ({@code decode_ms_fp32}, {@code decode_ms_fp32_gpt2_layout}, ...) and the median over repetitions
     * of each repetition's speed-up over the decoding layout's float32 ({@code speedup_bf16}, {@code speedup_int8},
     * and {@code speedup_fp32_gpt2_layout}, below 1 where GPT-2's layout is slower).
     */
    static Measurement alternating(Settings s) throws Exception {
        ModelBenches.Shape shape = s.smoke() ? ModelBenches.SMOKE : ModelBenches.GPT2;
        int prompt = s.smoke() ? 4 : 16;
        int total = s.smoke() ? 12 : 128;
        int generated = total - prompt;
        GptModel fp32 = GptModel.create(shape.config(), 1);
        String[] labels = {"fp32", "fp32_gpt2_layout", "bf16", "int8"};
        GptModel[] models = {fp32.forDecoding(), fp32, fp32.compressed(WeightFormat.BF16),
                fp32.compressed(WeightFormat.INT8)};
        int int8 = 3;
        Generator[] generators = new Generator[labels.length];
        ModelBenches.TimedLm[] lms = new ModelBenches.TimedLm[labels.length];
        for (int k = 0; k < labels.length; k++) {
            lms[k] = new ModelBenches.TimedLm(CausalLm.of(models[k]));
            generators[k] = Generator.of(lms[k], BpeTokenizer.gpt2());
        }
        List<int[]> prompts = List.of(ModelBenches.randomTokens(1, prompt, shape.vocab(), 2));
        GenerationConfig greedy = GenerationConfig.builder().maxNewTokens(generated).ignoreEos(true).build();
        int steps = generated - 1; // the first new token comes out of the prefill
        double[][] perToken = new double[labels.length][s.iterations()];
        double[] int8Seconds = new double[s.iterations()];
        for (int rep = -s.warmup(); rep < s.iterations(); rep++) {
            for (int turn = 0; turn < labels.length; turn++) {
                int k = Math.floorMod(turn + rep, labels.length);
                long t0 = System.nanoTime();
                generators[k].generateBatch(prompts, greedy);
                long t1 = System.nanoTime();
                if (rep >= 0) {
                    perToken[k][rep] = (t1 - lms[k].firstCallEnd) * 1e-9 / steps;
                    if (k == int8) {
                        int8Seconds[rep] = (t1 - t0) * 1e-9;
                    }
                }
            }
        }
        Map<String, Object> fields = shape.fields("batch", 1, "prompt", prompt, "total", total, "tokens_per_iter",
                generated, "repetitions", s.iterations());
        for (int k = 0; k < labels.length; k++) {
            fields.put("decode_ms_" + labels[k], 1000 * median(perToken[k]));
        }
        for (int k = 1; k < labels.length; k++) {
            double[] speedup = new double[s.iterations()];
            for (int r = 0; r < speedup.length; r++) {
                speedup[r] = perToken[0][r] / perToken[k][r];
            }
            fields.put("speedup_" + labels[k], median(speedup));
            fields.put("speedup_" + labels[k] + "_min", Arrays.stream(speedup).min().orElseThrow());
            fields.put("speedup_" + labels[k] + "_max", Arrays.stream(speedup).max().orElseThrow());
        }
        return new Measurement(int8Seconds, generated, fields);
    }

    /** What one compressed model gives beside its float32 original. */
    record Quality(double maxLogitDiff, double maxLogit, double perplexity, double referencePerplexity, int tokens) {
    }

    /**
     * Max |logit difference| of {@code model} against {@code reference} over every position of {@code windows}, the
     * largest |logit| of the reference (for scale), and both models' perplexity over the windows' next-token targets.
     */
    static Quality quality(GptModel model, GptModel reference, int[][] windows) {
        double diff = 0;
        double max = 0;
        double logProb = 0;
        double referenceLogProb = 0;
        int tokens = 0;
        for (int[] window : windows) {
            TokenBatch batch = TokenBatch.shifted(new int[][] {window});
            ForwardResult a = model.forward(batch, Output.LOGITS, Output.TARGET_LOGPROBS);
            ForwardResult b = reference.forward(batch, Output.LOGITS, Output.TARGET_LOGPROBS);
            diff = Math.max(diff, a.logits().sub(b.logits()).amaxNumber().doubleValue());
            max = Math.max(max, b.logits().amaxNumber().doubleValue());
            logProb += a.targetLogProbs()[0];
            referenceLogProb += b.targetLogProbs()[0];
            tokens += a.targetCounts()[0];
        }
        return new Quality(diff, max, Math.exp(-logProb / tokens), Math.exp(-referenceLogProb / tokens), tokens);
    }

    /**
     * The cost of compression in quality, for bf16 and int8: max |logit difference| against float32 (with the
     * largest |logit| for scale) and perplexity, on two models: GPT-2 small's shape with random weights (GPT-2's
     * initialisation; 256 random tokens, so its perplexity says nothing) and {@code examples/base-model} on 8 windows
     * of text it was not trained on ({@link #heldOut}). Smoke: the random model at the smoke shape only.
     * The value is the tokens scored per second over all passes; the numbers that matter are the fields.
     */
    static Measurement quality(Settings s) throws Exception {
        long start = System.nanoTime();
        Map<String, Object> fields = new java.util.LinkedHashMap<>();
        int scored = 0;
        ModelBenches.Shape shape = s.smoke() ? ModelBenches.SMOKE : ModelBenches.GPT2;
        GptModel random = GptModel.create(shape.config(), 1);
        int[][] randomWindow = ModelBenches.randomTokens(1, s.smoke() ? 16 : 256, shape.vocab(), 3);
        for (WeightFormat f : new WeightFormat[] {WeightFormat.BF16, WeightFormat.INT8}) {
            scored += put(fields, "gpt2_random_" + f.id(), quality(random.compressed(f), random, randomWindow));
        }
        if (!s.smoke()) {
            Pretrained base = Pretrained.load(ExampleFiles.BASE_MODEL);
            int[][] windows = heldOut(base, 8, CORPUS);
            for (WeightFormat f : new WeightFormat[] {WeightFormat.BF16, WeightFormat.INT8}) {
                scored += put(fields, "base_model_" + f.id(), quality(base.model().compressed(f), base.model(),
                        windows));
            }
            fields.put("heldout_text", "last 5% of " + CORPUS);
        }
        fields.put("tokens_per_iter", 2 * scored);           // each window through the compressed model and fp32
        return new Measurement(new double[] {(System.nanoTime() - start) * 1e-9}, 2 * scored, fields);
    }

    /**
     * Text the base model never trained on: the last 5% of the Jargon File (its pretraining held out the last 10% of
     * the corpus's tokens for validation), from the line after the cut, in {@code count} windows of the model's
     * context length.
     */
    static int[][] heldOut(Pretrained base, int count, Path corpusGz) throws java.io.IOException {
        String text;
        try (var in = new java.util.zip.GZIPInputStream(java.nio.file.Files.newInputStream(corpusGz))) {
            text = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        int cut = text.indexOf('\n', (int) (text.length() * 0.95)) + 1;
        int[] ids = base.tokenizer().encode(text.substring(cut));
        int context = base.model().config().contextLength();
        if (ids.length < count * context) {
            throw new IllegalStateException("the held-out text has " + ids.length + " tokens, fewer than " + count
                    + " windows of " + context);
        }
        int[][] windows = new int[count][];
        for (int w = 0; w < count; w++) {
            windows[w] = java.util.Arrays.copyOfRange(ids, w * context, (w + 1) * context);
        }
        return windows;
    }

    private static int put(Map<String, Object> fields, String prefix, Quality q) {
        fields.put(prefix + "_max_logit_diff", q.maxLogitDiff());
        fields.put(prefix + "_max_abs_logit", q.maxLogit());
        fields.put(prefix + "_perplexity", q.perplexity());
        fields.put(prefix + "_perplexity_fp32", q.referencePerplexity());
        fields.put(prefix + "_tokens", q.tokens());
        return q.tokens();
    }

    private static double median(double[] values) {
        return new Measurement(values, 1, Map.of()).median();
    }
}
