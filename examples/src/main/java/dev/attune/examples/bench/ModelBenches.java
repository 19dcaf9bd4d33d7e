package dev.attune.examples.bench;

import dev.attune.core.config.GptConfig;
import dev.attune.core.generate.CausalLm;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.GenerationResult;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.model.WeightFormat;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.train.AdamW;
import dev.attune.core.train.LmTraining;
import dev.attune.core.data.TokenWindows;
import dev.attune.core.train.Trainable;
import dev.attune.core.train.TrainingListener;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.PeftModel;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Model workloads at fixed shapes with random weights (GPT-2 initialisation, no dropout), the same shapes as
 * {@code bench/pytorch_peer.py}: a training step (and forward + backward alone) at the tiny and GPT-2 small shapes,
 * log-likelihood scoring and greedy generation with the KV cache at GPT-2 small.
 */
final class ModelBenches {

    /** A model shape; smoke runs swap in {@link #SMOKE}. */
    record Shape(int layers, int heads, int embd, int vocab, int context) {
        GptConfig config() {
            return GptConfig.builder().layers(layers).heads(heads).embeddingSize(embd).vocabSize(vocab)
                    .contextLength(context).bosTokenId(vocab - 1).eosTokenId(vocab - 1).dropout(0).build();
        }

        Map<String, Object> fields(Object... more) {
            Map<String, Object> f = Measurement.fields("layers", layers, "heads", heads, "embd", embd, "vocab", vocab);
            f.putAll(Measurement.fields(more));
            return f;
        }
    }

    static final Shape TINY = new Shape(2, 4, 128, 256, 256);
    static final Shape GPT2 = new Shape(12, 12, 768, 50257, 1024);
    static final Shape SMOKE = new Shape(1, 2, 32, 64, 64);

    private ModelBenches() {
    }

    /** Forward and backward of one batch; the gradient of the mean token loss, as a training step computes it. */
    static Measurement forwardBackward(Settings s, boolean tiny) throws Exception {
        Shape shape = s.smoke() ? SMOKE : tiny ? TINY : GPT2;
        int b = s.smoke() ? 2 : tiny ? 8 : 4;
        int t = s.smoke() ? 8 : tiny ? 64 : 128;
        GptModel model = GptModel.create(shape.config(), 1);
        TokenBatch batch = TokenBatch.of(randomTokens(b, t, shape.vocab, 2), randomTokens(b, t, shape.vocab, 3));
        double[] seconds = Timer.time(s.warmup(), s.iterations(),
                () -> model.forwardBackward(batch, batch.validTargets(), false, 0));
        return new Measurement(seconds, (double) b * t,
                shape.fields("batch", b, "seq", t, "tokens_per_iter", b * t, "optimizer", "none"));
    }

    /**
     * Training steps through {@link LmTraining}, the loop users run: forward and backward, global-norm clipping to
     * 1.0, AdamW (betas 0.9/0.95, weight decay 0.1, learning rate 6e-4), on random tokens. Each step is timed from
     * the end of the previous one ({@link TrainingListener#onStep}); the first {@code warmup} steps are dropped.
     */
    static Measurement train(Settings s, boolean tiny) throws Exception {
        Shape shape = s.smoke() ? SMOKE : tiny ? TINY : GPT2;
        GptModel model = GptModel.create(shape.config(), 1);
        return train(s, tiny, shape, Trainable.of(model), 0.1);
    }

    /**
     * The LoRA step beside {@code train-gpt2}: LoRA r=8, alpha 16 on {@code c_attn} (no dropout), the base frozen,
     * AdamW on the adapter only (no weight decay, as the PEFT peer).
     */
    static Measurement trainLora(Settings s) throws Exception {
        Shape shape = s.smoke() ? SMOKE : GPT2;
        GptModel model = GptModel.create(shape.config(), 1);
        PeftModel peft = Peft.lora().rank(s.smoke() ? 2 : 8).alpha(16).targets("c_attn").build().apply(model, 1);
        return train(s, false, shape, peft, 0.0);
    }

    private static Measurement train(Settings s, boolean tiny, Shape shape, Trainable trainable, double weightDecay)
            throws Exception {
        int b = s.smoke() ? 2 : tiny ? 8 : 4;
        int t = s.smoke() ? 8 : tiny ? 64 : 128;
        int[] tokens = randomTokens(1, 64 * b * t, shape.vocab, 2)[0];
        int steps = s.warmup() + s.iterations();
        double[] seconds = new double[s.iterations()];
        long[] last = new long[1];
        TrainingListener timing = new TrainingListener() {
            @Override
            public void onStart(TrainingStart start) {
                last[0] = System.nanoTime();
            }

            @Override
            public void onStep(StepMetrics step) {
                long now = System.nanoTime();
                int timed = (int) step.step() - 1 - s.warmup();
                if (timed >= 0) {
                    seconds[timed] = (now - last[0]) * 1e-9;
                }
                last[0] = now;
            }
        };
        LmTraining.builder()
                .trainable(trainable)
                .data(TokenWindows.of(tokens))
                .batchSize(b)
                .contextLength(t)
                .optimizer(AdamW.builder().betas(0.9, 0.95).weightDecay(weightDecay).build())
                .learningRate(6e-4)
                .clipGradNorm(1.0)
                .maxSteps(steps)
                .progress(false)
                .listener(timing)
                .build()
                .run();
        return new Measurement(seconds, (double) b * t,
                shape.fields("batch", b, "seq", t, "tokens_per_iter", b * t, "optimizer", "adamw"));
    }

    /** Summed log-likelihood of every token of 8 sequences, no gradients. */
    static Measurement score(Settings s) throws Exception {
        Shape shape = s.smoke() ? SMOKE : GPT2;
        int b = s.smoke() ? 2 : 8;
        int t = s.smoke() ? 8 : 128;
        GptModel model = GptModel.create(shape.config(), 1);
        TokenBatch batch = TokenBatch.of(randomTokens(b, t, shape.vocab, 2), randomTokens(b, t, shape.vocab, 3));
        double[] seconds = Timer.time(s.warmup(), s.iterations(), () -> model.loss(batch));
        return new Measurement(seconds, (double) b * t, shape.fields("batch", b, "seq", t, "tokens_per_iter", b * t));
    }

    /**
     * Sequence classification through the public API ({@code SequenceClassifier.probabilities}): 64 texts of 32 to
     * 128 tokens ({@code 32 + (37 i mod 97)}; " the" repeated, one GPT-2 token each, so the lengths are exact), 16 per forward pass, padded, the
     * head read at each row's last real token. Reports texts/s; {@code tokens} in the fields gives the tokens per
     * iteration. Unit: items/s (texts). The PyTorch peer runs the same lengths through the same computation.
     */
    static Measurement classify(Settings s) throws Exception {
        Shape shape = s.smoke() ? new Shape(1, 2, 32, GPT2.vocab, 64) : GPT2; // GPT-2's vocabulary: " the" is id 262
        int texts = s.smoke() ? 4 : 64;
        int batch = s.smoke() ? 2 : 16;
        GptModel model = GptModel.create(shape.config(), 1);
        dev.attune.core.tokenizer.Tokenizer tokenizer = dev.attune.core.tokenizer.Tokenizer.gpt2();
        List<String> input = new java.util.ArrayList<>();
        int tokens = 0;
        for (int i = 0; i < texts; i++) {
            int n = s.smoke() ? 3 + i : 32 + (i * 37) % 97;
            input.add("the" + " the".repeat(n - 1));
            tokens += n;
        }
        dev.attune.finetune.heads.SequenceClassifier clf = dev.attune.finetune.heads.SequenceClassifier.create(model,
                tokenizer, List.of("a", "b", "c"), 1);
        double[] seconds = Timer.time(s.warmup(), s.iterations(), () -> clf.probabilities(input, batch));
        return new Measurement(seconds, texts, shape.fields("items_per_iter", texts, "batch", batch, "tokens", tokens));
    }

    /**
     * Greedy generation through {@link Generator}, what users call: a 16-token prompt per row grows to 128 tokens
     * with the KV cache (EOS ignored, so every row makes all 112 new tokens). The model is wrapped in a
     * {@link CausalLm} that notes when the prompt's forward pass ends, so prefill and per-token decode time are
     * reported apart (decode time is what the bandwidth utilisation uses).
     */
    static Measurement generate(Settings s, int batchSize) throws Exception {
        return generate(s, batchSize, WeightFormat.FP32);
    }

    /**
     * As {@link #generate(Settings, int)} with the model's matrices held in {@code format}
     * ({@link GptModel#compressed}), float32 in the decoding layout ({@link GptModel#overForDecoding}) as
     * {@code attune generate} runs it; reports the bytes of weights one decode step reads in {@code weight_bytes}.
     */
    static Measurement generate(Settings s, int batchSize, WeightFormat format) throws Exception {
        Shape shape = s.smoke() ? SMOKE : GPT2;
        int prompt = s.smoke() ? 4 : 16;
        int total = s.smoke() ? 12 : 128;
        int generated = total - prompt;
        GptModel created = GptModel.create(shape.config(), 1);
        // the float32 weights take the decoding layout in place, one copy in memory as attune generate holds
        GptModel model = format == WeightFormat.FP32 ? GptModel.overForDecoding(shape.config(), created.parameters())
                : created.compressed(format);
        created = null;
        List<int[]> prompts = List.of(randomTokens(batchSize, prompt, shape.vocab, 2));
        TimedLm lm = new TimedLm(CausalLm.of(model));
        Generator generator = Generator.of(lm, BpeTokenizer.gpt2());
        GenerationConfig greedy = GenerationConfig.builder().maxNewTokens(generated).ignoreEos(true).build();
        int runs = s.warmup() + s.iterations();
        double[] prefill = new double[runs];
        double[] decode = new double[runs];
        int[] run = {0};
        double[] seconds = Timer.time(s.warmup(), s.iterations(), () -> {
            long t0 = System.nanoTime();
            List<GenerationResult> out = generator.generateBatch(prompts, greedy);
            long t2 = System.nanoTime();
            if (out.get(0).ids().length != generated) {
                throw new IllegalStateException("expected " + generated + " new tokens, got "
                        + out.get(0).ids().length);
            }
            prefill[run[0]] = (lm.firstCallEnd - t0) * 1e-9;
            decode[run[0]] = (t2 - lm.firstCallEnd) * 1e-9;
            run[0]++;
        });
        int steps = generated - 1; // the first new token comes out of the prefill
        return new Measurement(seconds, (double) batchSize * generated,
                shape.fields("batch", batchSize, "prompt", prompt, "total", total,
                        "tokens_per_iter", batchSize * generated, "prefill_s", timedMedian(prefill, s),
                        "decode_s_per_step", timedMedian(decode, s) / steps, "weights", format.id(),
                        "layout", model.decodingLayout() ? "decoding" : "compressed",
                        "weight_bytes", weightBytes(model)));
    }

    /**
     * Bytes of weights one decode step reads: every tensor but {@code wpe} (of which it reads one row a token), the
     * compressed ones as stored.
     */
    static long weightBytes(GptModel model) {
        long bytes = 0;
        for (String name : model.parameterNames()) {
            var compressed = model.compressedTensors().get(name);
            if (compressed != null) {
                bytes += compressed.bytes();
            } else if (!name.equals("wpe.weight")) {
                bytes += 4 * model.parameter(name).length();
            }
        }
        return bytes;
    }

    /** Passes every call through and remembers when the first call of the latest session (the prompt) ended. */
    static final class TimedLm implements CausalLm {
        private final CausalLm inner;
        volatile long firstCallEnd;

        TimedLm(CausalLm inner) {
            this.inner = inner;
        }

        @Override
        public GptConfig config() {
            return inner.config();
        }

        @Override
        public Session start(int batchSize, int capacity) {
            Session session = inner.start(batchSize, capacity);
            boolean[] first = {true};
            return new Session() {
                @Override
                public float[][] next(int[][] tokens, boolean[][] mask) {
                    float[][] logits = session.next(tokens, mask);
                    if (first[0]) {
                        firstCallEnd = System.nanoTime();
                        first[0] = false;
                    }
                    return logits;
                }

                @Override
                public void reorder(int[] rows) {
                    session.reorder(rows);
                }

                @Override
                public void close() {
                    session.close();
                }
            };
        }
    }

    private static double timedMedian(double[] all, Settings s) {
        double[] timed = Arrays.copyOfRange(all, s.warmup(), all.length);
        return new Measurement(timed, 1, Map.of()).median();
    }

    static int[][] randomTokens(int rows, int length, int vocab, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int[][] out = new int[rows][length];
        for (int[] row : out) {
            for (int i = 0; i < length; i++) {
                row[i] = random.nextInt(vocab);
            }
        }
        return out;
    }
}
