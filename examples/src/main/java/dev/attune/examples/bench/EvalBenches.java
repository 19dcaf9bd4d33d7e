package dev.attune.examples.bench;

import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.prompting.scoring.Loglikelihood;
import dev.attune.prompting.scoring.LoglikelihoodScorer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Multiple-choice scoring as {@code attune evaluate --type mc} runs it: the prompting module's batched
 * log-likelihood scorer at GPT-2 small shape. The same items as {@code bench/pytorch_peer.py}'s {@code mc-gpt2}:
 * 16 items, contexts of 64 to 127 random tokens, 4 choices of 2 to 5 tokens each (so no context is shared by
 * one-token choices and every request is a row), batches of 8 rows.
 */
final class EvalBenches {

    static final int ITEMS = 16;
    static final int CHOICES = 4;
    static final int BATCH = 8;

    private EvalBenches() {
    }

    /** Context and choice lengths of item {@code i}: the same formula as the Python peer. */
    static int contextLength(int i) {
        return 64 + (i * 37) % 64;
    }

    static int choiceLength(int i, int c) {
        return 2 + (i + c) % 4;
    }

    static Measurement multipleChoice(Settings s) throws Exception {
        ModelBenches.Shape shape = s.smoke() ? new ModelBenches.Shape(1, 2, 32, 50257, 256) : ModelBenches.GPT2;
        int items = s.smoke() ? 2 : ITEMS;
        GptModel model = GptModel.create(shape.config(), 1);
        SplittableRandom random = new SplittableRandom(5);
        List<int[]> contexts = new ArrayList<>();
        List<int[]> continuations = new ArrayList<>();
        for (int i = 0; i < items; i++) {
            int[] context = random.ints(contextLength(i), 0, shape.vocab()).toArray();
            for (int c = 0; c < CHOICES; c++) {
                contexts.add(context);
                continuations.add(random.ints(choiceLength(i, c), 0, shape.vocab()).toArray());
            }
        }
        LoglikelihoodScorer scorer = LoglikelihoodScorer.builder(model, BpeTokenizer.gpt2()).batchSize(BATCH).build();
        double[] seconds = Timer.time(s.warmup(), s.iterations(), () -> {
            List<Loglikelihood> out = scorer.loglikelihoodTokens(contexts, continuations);
            if (out.size() != contexts.size()) {
                throw new IllegalStateException("expected " + contexts.size() + " scores, got " + out.size());
            }
        });
        return new Measurement(seconds, items, shape.fields("items", items, "choices", CHOICES, "batch", BATCH,
                "requests_per_iter", items * CHOICES,
                "items_per_iter", items));
    }
}
