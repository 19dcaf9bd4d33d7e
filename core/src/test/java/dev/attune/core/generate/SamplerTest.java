package dev.attune.core.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {

    @Test
    void argmaxTakesTheFirstOfEqualMaxima() {
        assertThat(Sampler.argmax(new float[] {1, 5, 5, 2})).isEqualTo(1);
        assertThatThrownBy(() -> Sampler.argmax(new float[] {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY}))
                .hasMessageContaining("every token is banned");
    }

    @Test
    void samplesFollowTheSoftmaxAndSkipBannedTokens() {
        float[] scores = {(float) Math.log(0.2), Float.NEGATIVE_INFINITY, (float) Math.log(0.5),
                (float) Math.log(0.3)};
        SplittableRandom rng = new SplittableRandom(7);
        int[] counts = new int[4];
        int n = 40_000;
        for (int i = 0; i < n; i++) {
            counts[Sampler.sample(scores, rng)]++;
        }
        assertThat(counts[1]).isZero();
        // binomial standard deviation at n = 40k is at most 0.0025: allow 4 of them
        assertThat(counts[0] / (double) n).isCloseTo(0.2, within(0.01));
        assertThat(counts[2] / (double) n).isCloseTo(0.5, within(0.01));
        assertThat(counts[3] / (double) n).isCloseTo(0.3, within(0.01));
    }

    @Test
    void theSameSeedDrawsTheSameTokens() {
        float[] scores = {0.1f, 0.4f, -0.3f, 1.2f, 0.0f};
        SplittableRandom a = new SplittableRandom(99);
        SplittableRandom b = new SplittableRandom(99);
        for (int i = 0; i < 100; i++) {
            assertThat(Sampler.sample(scores, a)).isEqualTo(Sampler.sample(scores, b));
        }
    }

    @Test
    void logSoftmaxMatchesTheClosedForm() {
        float[] out = new float[2];
        Sampler.logSoftmax(new float[] {0f, (float) Math.log(3)}, out);
        assertThat(out[0]).isCloseTo((float) Math.log(0.25), within(1e-6f));
        assertThat(out[1]).isCloseTo((float) Math.log(0.75), within(1e-6f));
        float[] big = {1000f, 1000f};
        Sampler.logSoftmax(big, big);
        assertThat(big[0]).isCloseTo((float) Math.log(0.5), within(1e-6f));
    }
}
