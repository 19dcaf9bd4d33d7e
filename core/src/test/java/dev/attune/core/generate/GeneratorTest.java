package dev.attune.core.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Generation on a real (tiny, random) GPT model, checked against recomputing the full sequence. */
class GeneratorTest {
    private static final int V = 64;
    private static GptModel model;
    private static Generator generator;

    @BeforeAll
    static void setUp() {
        GptConfig config = GptConfig.builder().vocabSize(V).contextLength(40).embeddingSize(32).heads(4).layers(2)
                .bosTokenId(0).eosTokenId(0).initializerRange(0.3).build();
        // GPT-2's N(0, 0.02) gives a tiny model nearly flat logits; 0.3 gives varied, clear-cut choices
        model = GptModel.create(config, 7);
        generator = Generator.of(model, ScriptedLm.TOKENIZER);
    }

    private static int[] prompt(int length, int salt) {
        int[] p = new int[length];
        for (int i = 0; i < length; i++) {
            p[i] = 1 + (i * 7 + salt * 13) % (V - 1);
        }
        return p;
    }

    /** Last-position logits of the whole sequence, computed from scratch without a cache. */
    private static float[] fullLogits(int[] sequence) {
        INDArray all = model.logits(TokenBatch.of(new int[][] {sequence}, new int[][] {new int[sequence.length]}));
        return all.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.point(sequence.length - 1)).toFloatVector();
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void cachedGreedyEqualsRecomputingTheFullSequence() {
        GenerationConfig config = GenerationConfig.builder().maxNewTokens(12).ignoreEos(true).build();
        for (int length : new int[] {1, 2, 5, 16}) {
            int[] p = prompt(length, length);
            int[] seq = p;
            for (int step = 0; step < 12; step++) {
                seq = concat(seq, new int[] {Sampler.argmax(fullLogits(seq))});
            }
            GenerationResult r = generator.generate(p, config);
            assertThat(r.ids()).as("prompt length " + length).containsExactly(Arrays.copyOfRange(seq, length,
                    seq.length));
            assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
        }
    }

    @Test
    void generatedTokensAreNotAllTheSame() {
        // guards the tests above against a degenerate model that always predicts one token
        int[] ids = generator.generate(prompt(4, 1), GenerationConfig.builder().maxNewTokens(12).ignoreEos(true)
                .build()).ids();
        assertThat(Arrays.stream(ids).distinct().count()).isGreaterThan(2);
    }

    @Test
    void oneBeamEqualsGreedy() {
        List<int[]> prompts = List.of(prompt(3, 1), prompt(9, 2), prompt(1, 3));
        GenerationConfig config = GenerationConfig.builder().maxNewTokens(10).build();
        List<GenerationResult> greedy = generator.generateBatch(prompts, config);
        List<GenerationResult> beams = generator.beamSearch(prompts, config);
        for (int i = 0; i < prompts.size(); i++) {
            assertThat(beams.get(i).ids()).containsExactly(greedy.get(i).ids());
            assertThat(beams.get(i).finishReason()).isEqualTo(greedy.get(i).finishReason());
        }
    }

    @Test
    void batchRowsEqualSingleRows() {
        List<int[]> prompts = List.of(prompt(2, 1), prompt(11, 2), prompt(6, 3), prompt(1, 4));
        List<GenerationConfig> configs = List.of(
                GenerationConfig.builder().maxNewTokens(10).repetitionPenalty(1.5).noRepeatNgramSize(2).build(),
                GenerationConfig.builder().maxNewTokens(10).doSample(true).temperature(1.5).topK(20).seed(5).build(),
                GenerationConfig.builder().maxNewTokens(8).numBeams(3).build());
        for (GenerationConfig config : configs) {
            List<GenerationResult> batch = generator.generateBatch(prompts, config);
            for (int i = 0; i < prompts.size(); i++) {
                // sampling: row i of a batch draws like a single request seeded with seed + i
                GenerationConfig single = config.doSample()
                        ? config.toBuilder().seed(config.seed().getAsLong() + i).build() : config;
                GenerationResult alone = generator.generate(prompts.get(i), single);
                assertThat(batch.get(i)).as(config + " row " + i).isEqualTo(alone);
            }
        }
    }

    @Test
    void seededSamplingIsReproducible() {
        GenerationConfig config = GenerationConfig.builder().maxNewTokens(20).doSample(true).temperature(2.0)
                .ignoreEos(true).seed(123).build();
        int[] p = prompt(5, 9);
        int[] first = generator.generate(p, config).ids();
        assertThat(generator.generate(p, config).ids()).containsExactly(first);
        int differing = 0;
        for (long seed = 1; seed <= 5; seed++) {
            int[] other = generator.generate(p, config.toBuilder().seed(seed).build()).ids();
            differing += Arrays.equals(first, other) ? 0 : 1;
        }
        assertThat(differing).isEqualTo(5);
    }

    @Test
    void logprobsMatchTheFullForward() {
        int[] p = prompt(6, 4);
        GenerationResult r = generator.generate(p, GenerationConfig.builder().maxNewTokens(5).logprobs(3)
                .ignoreEos(true).build());
        int[] seq = p;
        for (int i = 0; i < 5; i++) {
            float[] logits = fullLogits(seq);
            double max = Double.NEGATIVE_INFINITY;
            for (float l : logits) {
                max = Math.max(max, l);
            }
            double z = 0;
            for (float l : logits) {
                z += Math.exp(l - max);
            }
            int id = r.ids()[i];
            TokenLogprobs lp = r.logprobs().get(i);
            assertThat(lp.id()).isEqualTo(id);
            assertThat((double) lp.logprob()).isCloseTo(logits[id] - max - Math.log(z), within(1e-4));
            assertThat(lp.top()).hasSize(3);
            assertThat(lp.top().get(0).id()).isEqualTo(id); // greedy picks the most likely token
            assertThat(lp.top().get(0).logprob()).isGreaterThanOrEqualTo(lp.top().get(1).logprob());
            seq = concat(seq, new int[] {id});
        }
    }

    @Test
    void exhaustiveBeamSearchFindsTheMostLikelySequence() {
        // With as many beams as there are 2-token prefixes, 3-token beam search is exhaustive: compare it with
        // scoring every one of the V^3 continuations from the full forward pass.
        GptConfig small = GptConfig.builder().vocabSize(6).contextLength(16).embeddingSize(16).heads(2).layers(1)
                .bosTokenId(0).eosTokenId(0).initializerRange(0.5).build();
        GptModel m = GptModel.create(small, 3);
        int[] p = {1, 4, 2};
        int n = 6 * 6 * 6;
        int[][] inputs = new int[n][];
        for (int s = 0; s < n; s++) {
            inputs[s] = new int[] {1, 4, 2, s / 36, (s / 6) % 6};
        }
        INDArray logits = m.logits(TokenBatch.of(inputs, new int[n][5]));
        double best = Double.NEGATIVE_INFINITY;
        int bestSeq = -1;
        for (int s = 0; s < n; s++) {
            int[] tokens = {s / 36, (s / 6) % 6, s % 6};
            double sum = 0;
            for (int j = 0; j < 3; j++) {
                float[] row = logits.get(org.nd4j.linalg.indexing.NDArrayIndex.point(s),
                        org.nd4j.linalg.indexing.NDArrayIndex.point(2 + j)).toFloatVector();
                float[] lp = new float[row.length];
                Sampler.logSoftmax(row, lp);
                sum += lp[tokens[j]];
            }
            if (sum > best) {
                best = sum;
                bestSeq = s;
            }
        }
        GenerationResult r = Generator.of(m, ScriptedLm.TOKENIZER).generate(p, GenerationConfig.builder()
                .maxNewTokens(3).numBeams(36).ignoreEos(true).build());
        assertThat(r.ids()).containsExactly(bestSeq / 36, (bestSeq / 6) % 6, bestSeq % 6);
        // and the search mattered: greedy misses that sequence here
        int[] greedy = Generator.of(m, ScriptedLm.TOKENIZER).generate(p, GenerationConfig.builder().maxNewTokens(3)
                .ignoreEos(true).build()).ids();
        assertThat(greedy).isNotEqualTo(r.ids());
    }
}
