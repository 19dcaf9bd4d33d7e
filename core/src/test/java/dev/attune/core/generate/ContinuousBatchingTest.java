package dev.attune.core.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.KvCache;
import dev.attune.core.model.TokenBatch;
import java.util.Arrays;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Rows that join a running KV-cache batch ({@link KvCache#copyRow}), leave it ({@link KvCache#clearRow}) and are
 * packed ({@link KvCache#compact}) give the logits of their sequence computed from scratch, and
 * {@link Generator.Sequence} fed those logits gives what {@link Generator#generate} gives.
 */
class ContinuousBatchingTest {
    private static final int V = 64;
    private static GptModel model;
    private static Generator generator;

    @BeforeAll
    static void setUp() {
        GptConfig config = GptConfig.builder().vocabSize(V).contextLength(48).embeddingSize(32).heads(4).layers(2)
                .bosTokenId(0).eosTokenId(0).initializerRange(0.3).build();
        model = GptModel.create(config, 11);
        generator = Generator.of(model, ScriptedLm.TOKENIZER);
    }

    private static int[] prompt(int length, int salt) {
        int[] p = new int[length];
        for (int i = 0; i < length; i++) {
            p[i] = 1 + (i * 5 + salt * 17) % (V - 1);
        }
        return p;
    }

    /** Last-position logits of the whole sequence, without a cache. */
    private static float[] fullLogits(int[] sequence) {
        INDArray all = model.logits(TokenBatch.of(new int[][] {sequence}, new int[][] {new int[sequence.length]}));
        return all.get(NDArrayIndex.point(0), NDArrayIndex.point(sequence.length - 1)).toFloatVector();
    }

    private static int[] append(int[] a, int t) {
        int[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = t;
        return out;
    }

    /** A row of the shared batch: its sequence so far and the sequence decoder choosing its tokens. */
    private static final class Live {
        int[] tokens;
        final Generator.Sequence sequence;

        Live(int[] prompt, GenerationConfig config) {
            tokens = prompt;
            sequence = generator.sequence(prompt, config, 0, null);
        }
    }

    /** Prefills the prompt alone, lets the sequence pick its first token, and moves the row into {@code cache}. */
    private static Live join(KvCache cache, int row, int[] prompt, GenerationConfig config) {
        Live live = new Live(prompt, config);
        KvCache alone = model.newCache(1, prompt.length);
        float[] logits = model.forward(alone, new int[][] {prompt}, null, false).toFloatMatrix()[0];
        assertClose(logits, fullLogits(prompt));
        live.tokens = append(live.tokens, live.sequence.next(logits));
        cache.copyRow(alone, 0, row);
        return live;
    }

    /** One decode step of every row; rows without a sequence are masked padding. */
    private static void step(KvCache cache, Live[] rows) {
        int[][] tokens = new int[rows.length][1];
        boolean[][] mask = new boolean[rows.length][1];
        for (int r = 0; r < rows.length; r++) {
            mask[r][0] = rows[r] != null;
            tokens[r][0] = rows[r] != null ? rows[r].tokens[rows[r].tokens.length - 1] : 0;
        }
        float[][] logits = model.forward(cache, tokens, mask, false).toFloatMatrix();
        for (int r = 0; r < rows.length; r++) {
            if (rows[r] != null) {
                assertClose(logits[r], fullLogits(rows[r].tokens));
                rows[r].tokens = append(rows[r].tokens, rows[r].sequence.next(logits[r]));
            }
        }
    }

    private static void assertClose(float[] actual, float[] expected) {
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
        }
        assertThat(worst).as("largest logit difference").isLessThan(1e-4);
    }

    @Test
    void rowsThatJoinLeaveAndArePackedDecodeAsIfAlone() {
        GenerationConfig config = GenerationConfig.builder().maxNewTokens(30).ignoreEos(true).build();
        KvCache cache = model.newCache(3, 48);
        Live[] rows = new Live[3];
        int[] p0 = prompt(5, 1);
        int[] p1 = prompt(12, 2);
        int[] p2 = prompt(3, 3);
        rows[0] = join(cache, 0, p0, config);
        assertThat(cache.length()).isEqualTo(5);
        step(cache, rows);
        step(cache, rows);
        rows[1] = join(cache, 1, p1, config); // longer than the 7 columns stored: the cache grows padding columns
        assertThat(cache.length()).isEqualTo(12);
        for (int s = 0; s < 4; s++) {
            step(cache, rows);
        }
        int[] done1 = rows[1].tokens;
        cache.clearRow(1);
        rows[1] = null;
        rows[2] = join(cache, 2, p2, config);
        step(cache, rows);
        assertThat(cache.length()).isEqualTo(17);
        cache.compact();
        assertThat(cache.length()).as("packed to the longest row, row 0's 12 positions").isEqualTo(12);
        for (int s = 0; s < 3; s++) {
            step(cache, rows);
        }
        rows[1] = join(cache, 1, p1, config); // the same prompt again, in a reused row
        for (int s = 0; s < 7; s++) {
            step(cache, rows);
        }
        // row 1's second run decodes the same tokens as its first (greedy)
        assertThat(Arrays.copyOf(rows[1].tokens, done1.length)).containsExactly(done1);
        assertThat(rows[1].tokens.length).isGreaterThan(done1.length);
        // the step-wise sequence ends as generate() does for the same prompt
        GenerationConfig shortConfig = GenerationConfig.builder().maxNewTokens(10).ignoreEos(true).build();
        Generator.Sequence seq = generator.sequence(p0, shortConfig, 0, null);
        int[] tokens = p0;
        while (!seq.finished()) {
            tokens = append(tokens, seq.next(fullLogits(tokens)));
        }
        GenerationResult alone = generator.generate(p0, shortConfig);
        assertThat(seq.result()).isEqualTo(alone);
        assertThat(Arrays.copyOfRange(rows[0].tokens, p0.length, p0.length + 10)).containsExactly(alone.ids());
    }

    @Test
    void sequenceStreamsTheTextGenerateReturnsAndRejectsBeams() {
        GenerationConfig config = GenerationConfig.builder().maxNewTokens(8).doSample(true).temperature(0.9)
                .seed(5).ignoreEos(true).build();
        int[] p = prompt(4, 9);
        StringBuilder streamed = new StringBuilder();
        Generator.Sequence seq = generator.sequence(p, config, 0, streamed::append);
        int[] tokens = p;
        while (!seq.finished()) {
            tokens = append(tokens, seq.next(fullLogits(tokens)));
        }
        GenerationResult alone = generator.generate(p, config);
        assertThat(seq.result().ids()).containsExactly(alone.ids());
        assertThat(streamed.toString()).isEqualTo(alone.text());
        assertThat(seq.prompt()).containsExactly(p);
        assertThat(seq.budget()).isEqualTo(8);
        assertThatThrownBy(() -> seq.next(new float[V])).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> generator.sequence(p, GenerationConfig.builder().maxNewTokens(3).numBeams(2).build(),
                0, null)).hasMessageContaining("beam");
    }
}
