package dev.attune.prompting.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class BootstrapTest {

    @Test
    void meanStderrMatchesTheClosedForm() {
        // 60 ones among 200: the standard error of the mean is sqrt(p (1 - p) / n)
        double[] v = new double[200];
        for (int i = 0; i < 60; i++) {
            v[i * 3] = 1;
        }
        double closedForm = Math.sqrt(0.3 * 0.7 / 200);
        double boot = Bootstrap.meanStderr(v, 4000, 42);
        assertThat(boot).isCloseTo(closedForm, within(closedForm * 0.06));
        assertThat(Bootstrap.meanStderr(v, 4000, 42)).isEqualTo(boot); // seeded
    }

    @Test
    void ratioStderrIsZeroWhenEveryItemHasTheSameRatio() {
        double[] num = {2, 4, 6, 8};
        double[] den = {1, 2, 3, 4};
        assertThat(Bootstrap.ratioStderr(num, den, x -> x, 100, 1)).isCloseTo(0, within(1e-12));
        assertThat(Bootstrap.meanStderr(new double[] {5}, 100, 1)).isEqualTo(0);
        assertThat(Bootstrap.meanStderr(new double[0], 100, 1)).isNaN();
    }

    @Test
    void perplexityAndBitsPerByteFromSums() {
        double[] nll = {10, 30};
        double[] tokens = {5, 15};
        double[] bytes = {20, 60};
        assertThat(Perplexity.perplexity(nll, tokens)).isCloseTo(Math.exp(2), within(1e-12));
        assertThat(Perplexity.bitsPerByte(nll, bytes)).isCloseTo(0.5 / Math.log(2), within(1e-12));
    }
}
