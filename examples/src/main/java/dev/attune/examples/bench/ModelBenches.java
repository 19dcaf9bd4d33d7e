package dev.attune.examples.bench;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.KvCache;
import dev.attune.core.model.TokenBatch;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Model workloads at fixed shapes with random weights (GPT-2 initialisation, no dropout), the same shapes as
 * {@code bench/pytorch_peer.py}: a training step at the tiny and GPT-2 small shapes, log-likelihood scoring and
 * greedy generation with the KV cache at GPT-2 small.
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
     * Greedy generation from a 16-token prompt to 128 tokens per row with the KV cache. Timed as a plain loop over
     * {@link GptModel#forward(KvCache, int[][], boolean[][], boolean)} so prefill and per-token decode time are
     * reported apart (decode time is what the bandwidth utilisation uses).
     */
    static Measurement generate(Settings s, int batchSize) throws Exception {
        Shape shape = s.smoke() ? SMOKE : GPT2;
        int prompt = s.smoke() ? 4 : 16;
        int total = s.smoke() ? 12 : 128;
        GptModel model = GptModel.create(shape.config(), 1);
        int[][] promptTokens = randomTokens(batchSize, prompt, shape.vocab, 2);
        double[] prefill = new double[s.warmup() + s.iterations()];
        double[] decode = new double[prefill.length];
        int[] run = {0};
        double[] seconds = Timer.time(s.warmup(), s.iterations(), () -> {
            KvCache cache = model.newCache(batchSize, total);
            long t0 = System.nanoTime();
            int[][] next = argmax(model.forward(cache, promptTokens, null, false));
            long t1 = System.nanoTime();
            for (int pos = prompt; pos < total - 1; pos++) {
                next = argmax(model.forward(cache, next, null, false));
            }
            long t2 = System.nanoTime();
            prefill[run[0]] = (t1 - t0) * 1e-9;
            decode[run[0]] = (t2 - t1) * 1e-9;
            run[0]++;
        });
        int generated = total - prompt;
        int steps = generated - 1; // the first new token comes out of the prefill
        double prefillMedian = timedMedian(prefill, s);
        double decodeMedian = timedMedian(decode, s);
        return new Measurement(seconds, (double) batchSize * generated,
                shape.fields("batch", batchSize, "prompt", prompt, "total", total,
                        "tokens_per_iter", batchSize * generated, "prefill_s", prefillMedian,
                        "decode_s_per_step", decodeMedian / steps));
    }

    private static double timedMedian(double[] all, Settings s) {
        double[] timed = java.util.Arrays.copyOfRange(all, s.warmup(), all.length);
        return new Measurement(timed, 1, Map.of()).median();
    }

    /** The greedy choice of each row of [B, V] logits, as [B][1] next tokens. */
    private static int[][] argmax(INDArray logits) {
        int[] best = logits.argMax(1).toIntVector();
        int[][] next = new int[best.length][1];
        for (int r = 0; r < best.length; r++) {
            next[r][0] = best[r];
        }
        return next;
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
