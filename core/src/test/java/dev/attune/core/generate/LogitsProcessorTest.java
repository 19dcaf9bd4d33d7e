package dev.attune.core.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LogitsProcessorTest {
    private static final float NEG_INF = Float.NEGATIVE_INFINITY;

    private static TokenHistory history(int[] prompt, int... generated) {
        TokenHistory h = new TokenHistory(prompt);
        for (int t : generated) {
            h.append(t);
        }
        return h;
    }

    private static float[] logs(double... probabilities) {
        float[] out = new float[probabilities.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) Math.log(probabilities[i]);
        }
        return out;
    }

    @Test
    void repetitionPenaltyDividesPositiveAndMultipliesNegativeOncePerToken() {
        float[] s = {1.0f, -1.0f, 3.0f, 0.5f};
        new LogitsProcessor.RepetitionPenalty(2f).process(s, history(new int[] {0, 1}, 1));
        assertThat(s).containsExactly(0.5f, -2.0f, 3.0f, 0.5f);
    }

    @Test
    void noRepeatNgramBansTheTokensThatFollowedTheCurrentPrefix() {
        float[] s = {0, 0, 0, 0, 0, 0, 0, 0};
        // bigrams so far: (1,2) (2,3) (3,1) (1,4); the sequence ends in 1, so 2 and 4 would repeat a bigram
        new LogitsProcessor.NoRepeatNgram(2).process(s, history(new int[] {1, 2, 3, 1, 4, 1}));
        assertThat(s).containsExactly(0, 0, NEG_INF, 0, NEG_INF, 0, 0, 0);

        float[] t = {0, 0, 0, 0, 0, 0, 0, 0};
        // trigram (5,6,7) exists and the sequence ends in 5,6
        new LogitsProcessor.NoRepeatNgram(3).process(t, history(new int[] {5, 6}, 7, 5, 6));
        assertThat(t).containsExactly(0, 0, 0, 0, 0, 0, 0, NEG_INF);

        float[] u = {0, 0, 0};
        new LogitsProcessor.NoRepeatNgram(3).process(u, history(new int[] {1}));
        assertThat(u).containsExactly(0, 0, 0);
    }

    @Test
    void eosIsSuppressedOnlyBeforeMinNewTokens() {
        LogitsProcessor p = new LogitsProcessor.SuppressEosUntil(2, new int[] {3});
        float[] s = {1, 1, 1, 1};
        p.process(s, history(new int[] {0}, 2));
        assertThat(s).containsExactly(1, 1, 1, NEG_INF);
        float[] t = {1, 1, 1, 1};
        p.process(t, history(new int[] {0}, 2, 2));
        assertThat(t).containsExactly(1, 1, 1, 1);
    }

    @Test
    void temperatureDividesLogits() {
        float[] s = {1, -2};
        new LogitsProcessor.Temperature(0.5f).process(s, null);
        assertThat(s).containsExactly(2, -4);
    }

    @Test
    void topKKeepsTheKBestAndTiesAtTheKth() {
        float[] s = {1, 3, 2, 3};
        new LogitsProcessor.TopK(2).process(s, null);
        assertThat(s).containsExactly(NEG_INF, 3, NEG_INF, 3);
        float[] t = {3, 1, 2, 2};
        new LogitsProcessor.TopK(2).process(t, null);
        assertThat(t).containsExactly(3, NEG_INF, 2, 2);
        float[] u = {3, 1};
        new LogitsProcessor.TopK(5).process(u, null);
        assertThat(u).containsExactly(3, 1);
    }

    @Test
    void topPKeepsTheSmallestSetReachingP() {
        // probabilities 0.05, 0.5, 0.15, 0.3 (deliberately unsorted)
        float[] s = logs(0.05, 0.5, 0.15, 0.3);
        new LogitsProcessor.TopP(0.75).process(s, null); // 0.5, then 0.5 < 0.75 keeps 0.3, then 0.8 >= 0.75 stops
        assertThat(s[0]).isEqualTo(NEG_INF);
        assertThat(s[2]).isEqualTo(NEG_INF);
        assertThat(s[1]).isCloseTo((float) Math.log(0.5), within(1e-6f));
        assertThat(s[3]).isCloseTo((float) Math.log(0.3), within(1e-6f));

        float[] t = logs(0.05, 0.5, 0.15, 0.3);
        new LogitsProcessor.TopP(0.9).process(t, null); // 0.8 < 0.9 keeps 0.15 too
        assertThat(t[0]).isEqualTo(NEG_INF);
        assertThat(t[1]).isFinite();
        assertThat(t[2]).isFinite();
        assertThat(t[3]).isFinite();

        float[] u = logs(0.05, 0.5, 0.15, 0.3);
        new LogitsProcessor.TopP(0.1).process(u, null); // the top token always survives
        assertThat(u).containsExactly(NEG_INF, (float) Math.log(0.5), NEG_INF, NEG_INF);
    }

    @Test
    void topPAfterTopKOnlyConsidersSurvivors() {
        // after top-k 2 the survivors 0.5 and 0.3 renormalise to 0.625 and 0.375: p = 0.6 keeps only the first
        float[] s = logs(0.05, 0.5, 0.15, 0.3);
        new LogitsProcessor.TopK(2).process(s, null);
        new LogitsProcessor.TopP(0.6).process(s, null);
        assertThat(s).containsExactly(NEG_INF, (float) Math.log(0.5), NEG_INF, NEG_INF);
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheTopProbability() {
        float[] s = logs(0.5, 0.3, 0.15, 0.05);
        new LogitsProcessor.MinP(0.2).process(s, null); // threshold 0.1
        assertThat(s[3]).isEqualTo(NEG_INF);
        assertThat(s[2]).isFinite();
        float[] t = logs(0.5, 0.3, 0.15, 0.05);
        new LogitsProcessor.MinP(0.4).process(t, null); // threshold 0.2
        assertThat(t[1]).isFinite();
        assertThat(t[2]).isEqualTo(NEG_INF);
    }

    @Test
    void topNMatchesASortedReference() {
        java.util.Random r = new java.util.Random(3);
        for (int trial = 0; trial < 50; trial++) {
            float[] v = new float[1 + r.nextInt(200)];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextInt(20); // many ties
            }
            int n = 1 + r.nextInt(v.length);
            Integer[] ref = new Integer[v.length];
            for (int i = 0; i < v.length; i++) {
                ref[i] = i;
            }
            java.util.Arrays.sort(ref, (a, b) -> v[a] != v[b] ? Float.compare(v[b], v[a]) : Integer.compare(a, b));
            int[] expected = java.util.Arrays.stream(ref).limit(n).mapToInt(Integer::intValue).toArray();
            assertThat(TopN.indices(v, n)).containsExactly(expected);
        }
    }
}
