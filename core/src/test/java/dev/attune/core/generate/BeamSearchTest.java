package dev.attune.core.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.attune.core.generate.GenerationConfig.EarlyStopping;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Beam search on hand-made log-probabilities; vocabulary {0, 1, EOS=2}. */
class BeamSearchTest {
    private static final int EOS = 2;

    /** Tracks each live beam's tokens, as the generator does, and captures finished ones as lists. */
    private static final class Tracker implements BeamSearch.Beams<List<Integer>> {
        List<List<Integer>> beams = new ArrayList<>();

        Tracker(int numBeams) {
            for (int b = 0; b < numBeams; b++) {
                beams.add(List.of());
            }
        }

        @Override
        public FinishReason finishes(int beam, int token) {
            return token == EOS ? FinishReason.EOS : null;
        }

        @Override
        public List<Integer> capture(int beam, int token, FinishReason reason) {
            List<Integer> seq = new ArrayList<>(beams.get(beam));
            if (token >= 0) {
                seq.add(token);
            }
            return seq;
        }

        void advance(BeamSearch.Selection s) {
            List<List<Integer>> next = new ArrayList<>();
            for (int i = 0; i < s.parents().length; i++) {
                List<Integer> seq = new ArrayList<>(beams.get(s.parents()[i]));
                seq.add(s.tokens()[i]);
                next.add(seq);
            }
            beams = next;
        }
    }

    private static float[] logs(double... p) {
        float[] out = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            out[i] = (float) Math.log(p[i]);
        }
        return out;
    }

    /**
     * Step 1: only beam 0 counts; candidates 0 (.6), 1 (.3) fill the beams, EOS (.1) ranks third and is dropped.
     * Step 2: [0]+EOS (.42) finishes, [1,0] (.15) and [0,1] (.12) go on.
     * Step 3: [0,1]+EOS (.096) and [1,0]+EOS (.09) finish; the best two finished are kept.
     */
    private static List<float[][]> rows() {
        return List.of(
                new float[][] {logs(.6, .3, .1), logs(.6, .3, .1)},
                new float[][] {logs(.1, .2, .7), logs(.5, .35, .15)},
                new float[][] {logs(.2, .2, .6), logs(.1, .1, .8)});
    }

    @Test
    void followsHuggingFaceScoringByHand() {
        BeamSearch<List<Integer>> search = new BeamSearch<>(2, 1.0, EarlyStopping.HEURISTIC, 10);
        Tracker tracker = new Tracker(2);

        BeamSearch.Selection s1 = search.step(rows().get(0), 0, tracker);
        assertThat(s1.parents()).containsExactly(0, 0);
        assertThat(s1.tokens()).containsExactly(0, 1);
        assertThat(search.hypotheses()).isEmpty();
        tracker.advance(s1);

        BeamSearch.Selection s2 = search.step(rows().get(1), 1, tracker);
        assertThat(s2.parents()).containsExactly(1, 0); // [1]+0 (.15) beats [0]+1 (.12)
        assertThat(s2.tokens()).containsExactly(0, 1);
        assertThat(search.beamScore(0)).isCloseTo((float) Math.log(.15), within(1e-5f));
        assertThat(search.hypotheses()).singleElement().satisfies(h -> {
            assertThat(h.value()).containsExactly(0, EOS);
            assertThat(h.score()).isCloseTo(Math.log(.42) / 2, within(1e-5));
        });
        assertThat(search.done()).isFalse();
        tracker.advance(s2);

        BeamSearch.Selection s3 = search.step(rows().get(2), 2, tracker);
        assertThat(s3.parents()).containsExactly(0, 0); // both continuations of [1,0] (.03 each) beat [0,1]'s .012
        assertThat(s3.tokens()).containsExactly(0, 1);
        List<BeamSearch.Hypothesis<List<Integer>>> hyps = search.hypotheses();
        assertThat(hyps).extracting(BeamSearch.Hypothesis::value)
                .containsExactly(List.of(0, EOS), List.of(0, 1, EOS)); // [1,0,EOS] (.09) lost to .096
        assertThat(hyps.get(1).score()).isCloseTo(Math.log(.096) / 3, within(1e-5));
        // the best candidate was the worst kept hypothesis itself: nothing better can come at this length
        assertThat(search.done()).isTrue();
        assertThat(search.finish(3, tracker).value()).containsExactly(0, EOS);
    }

    @Test
    void earlyStoppingModesDecideWhenToStop() {
        BeamSearch<List<Integer>> eager = new BeamSearch<>(2, 1.0, EarlyStopping.EAGER, 10);
        BeamSearch<List<Integer>> never = new BeamSearch<>(2, 1.0, EarlyStopping.NEVER, 10);
        for (BeamSearch<List<Integer>> search : List.of(eager, never)) {
            Tracker tracker = new Tracker(2);
            for (int step = 0; step < 3; step++) {
                tracker.advance(search.step(rows().get(step), step, tracker));
            }
        }
        assertThat(eager.done()).isTrue();
        // "never" with a positive length penalty bounds the best reachable score at max length:
        // log(.096) / 10 = -0.234 is above the worst kept -0.781, so the search goes on
        assertThat(never.done()).isFalse();
    }

    @Test
    void lengthPenaltyChangesTheWinner() {
        // Two finished hypotheses: [0, EOS] with log .42 (length 2) and [0, 1, EOS] with log .096 (length 3) ...
        // With lengthPenalty = -3, score = sum * len^3: -0.868 * 8 = -6.94 against -2.343 * 27 = -63.3: short wins.
        // With lengthPenalty = 3, score = sum / len^3: -0.108 against -0.0868: the longer one wins.
        for (double lp : new double[] {-3.0, 3.0}) {
            BeamSearch<List<Integer>> search = new BeamSearch<>(2, lp, EarlyStopping.EAGER, 10);
            Tracker tracker = new Tracker(2);
            for (int step = 0; step < 3; step++) {
                tracker.advance(search.step(rows().get(step), step, tracker));
            }
            assertThat(search.finish(3, tracker).value())
                    .isEqualTo(lp < 0 ? List.of(0, EOS) : List.of(0, 1, EOS));
        }
    }

    @Test
    void unfinishedBeamsCompeteAtTheEnd() {
        // no EOS ever wins a top slot: the live beams are scored sum / length
        BeamSearch<List<Integer>> search = new BeamSearch<>(2, 1.0, EarlyStopping.HEURISTIC, 2);
        Tracker tracker = new Tracker(2);
        tracker.advance(search.step(new float[][] {logs(.5, .45, .05), logs(.5, .45, .05)}, 0, tracker));
        tracker.advance(search.step(new float[][] {logs(.3, .65, .05), logs(.9, .05, .05)}, 1, tracker));
        // [0,1] .325, [1,0] .405 -> best is [1,0]
        BeamSearch.Hypothesis<List<Integer>> best = search.finish(2, tracker);
        assertThat(best.value()).containsExactly(1, 0);
        assertThat(best.score()).isCloseTo(Math.log(.405) / 2, within(1e-5));
    }

    @Test
    void oneBeamPicksTheArgmaxEveryStep() {
        Random r = new Random(11);
        BeamSearch<List<Integer>> search = new BeamSearch<>(1, 1.0, EarlyStopping.HEURISTIC, 20);
        Tracker tracker = new Tracker(1);
        List<Integer> greedy = new ArrayList<>();
        for (int step = 0; step < 20; step++) {
            float[] row = new float[7];
            for (int i = 0; i < row.length; i++) {
                row[i] = (float) r.nextGaussian();
            }
            row[EOS] = -100f; // keep it running
            Sampler.logSoftmax(row, row);
            greedy.add(Sampler.argmax(row));
            tracker.advance(search.step(new float[][] {row}, step, tracker));
        }
        assertThat(search.finish(20, tracker).value()).isEqualTo(greedy);
    }
}
