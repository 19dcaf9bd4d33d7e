package dev.attune.core.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.KvCache;
import dev.attune.core.model.WeightFormat;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A closed session's cache, reused by the next session of the same shape, and the logits buffer kept between calls
 * change no logits: every value equals what a fresh cache and a fresh buffer give, bit for bit (the same arithmetic
 * runs on the same inputs; stale keys and values would change them if any pass read one before writing it).
 */
class CausalLmSessionTest {

    private static final GptConfig CONFIG = GptConfig.builder().vocabSize(97).contextLength(32).embeddingSize(64)
            .heads(4).layers(2).innerSize(128).dropout(0.0).bosTokenId(0).eosTokenId(0).build();

    private static final int[][] FIRST = {{0, 0, 5, 6, 7, 8}, {9, 10, 11, 12, 13, 14}};
    private static final boolean[][] FIRST_MASK = {{false, false, true, true, true, true}, {true, true, true, true,
        true, true}};
    private static final int[][] SECOND = {{21, 22, 23, 24, 25, 26}, {0, 0, 0, 31, 32, 33}};
    private static final boolean[][] SECOND_MASK = {{true, true, true, true, true, true}, {false, false, false, true,
        true, true}};

    /** The second prompt and three steps (the second with a reorder) through {@code session}, all logits in order. */
    private static float[][][] run(CausalLm.Session session) {
        float[][][] out = new float[4][][];
        out[0] = session.next(SECOND, SECOND_MASK);
        out[1] = session.next(new int[][] {{40}, {41}}, null);
        session.reorder(new int[] {1, 1});
        out[2] = session.next(new int[][] {{42}, {43}}, null);
        out[3] = session.next(new int[][] {{44}, {45}}, new boolean[][] {{true}, {false}});
        return out;
    }

    @ParameterizedTest
    @EnumSource(value = WeightFormat.class, names = {"FP32", "INT8"})
    void aReusedCacheGivesTheLogitsOfAFreshOne(WeightFormat format) {
        GptModel model = GptModel.create(CONFIG, 5).compressed(format);
        float[][][] fresh;
        try (CausalLm.Session session = CausalLm.of(model).start(2, 12)) {
            fresh = run(session);
        }

        CausalLm lm = CausalLm.of(model);
        CausalLm.Session first = lm.start(2, 12);
        first.next(FIRST, FIRST_MASK);                  // fills the cache with other keys and values
        for (int t = 0; t < 5; t++) {
            first.next(new int[][] {{50 + t}, {60 + t}}, null);
        }
        first.close();
        assertThatThrownBy(() -> first.next(new int[][] {{1}, {2}}, null)).hasMessageContaining("closed");
        CausalLm.Session second = lm.start(2, 12);
        float[][][] reused = run(second);
        second.close();

        assertThat(reused).isDeepEqualTo(fresh);
    }

    @Test
    void aCacheOfAnotherShapeIsNotReused() {
        GptModel model = GptModel.create(CONFIG, 5);
        KvCache cache = model.newCache(2, 12);
        model.forward(cache, FIRST, FIRST_MASK, false);
        assertThat(model.reuseCache(cache, 1, 12)).isFalse();
        assertThat(model.reuseCache(cache, 2, 11)).isFalse();
        assertThat(cache.length()).isEqualTo(6);           // left as it was
        assertThat(model.reuseCache(cache, 2, 12)).isTrue();
        assertThat(cache.length()).isZero();
    }

    @Test
    void nextLogitsEqualsForwardAcrossBatchSizes() {
        GptModel model = GptModel.create(CONFIG, 5);
        for (int batch : new int[] {2, 1, 2}) {
            KvCache a = model.newCache(batch, 8);
            KvCache b = model.newCache(batch, 8);
            int[][] prompt = new int[batch][];
            for (int r = 0; r < batch; r++) {
                prompt[r] = new int[] {3 + r, 4, 5};
            }
            for (int[][] tokens : new int[][][] {prompt, ones(batch, 7), ones(batch, 8)}) {
                INDArray expected = model.forward(a, tokens, null, false);
                float[][] got = model.nextLogits(b, tokens, null);
                for (int r = 0; r < batch; r++) {
                    assertThat(got[r]).isEqualTo(expected.getRow(r).toFloatVector());
                }
            }
        }
    }

    private static int[][] ones(int batch, int token) {
        int[][] t = new int[batch][1];
        for (int[] row : t) {
            row[0] = token;
        }
        return t;
    }
}
