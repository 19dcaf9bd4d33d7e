package dev.attune.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The row statistics of the host layer norm against a two-pass computation in double. */
class LayerNormStatsTest {

    /** Widths below, at and past a multiple of the four summing chains; an offset row inside a larger array. */
    @ParameterizedTest
    @ValueSource(ints = {1, 3, 4, 7, 128, 131, 768})
    void meanAndRstdMatchDoubleSums(int c) {
        Random random = new Random(c);
        int at = 5;
        float[] x = new float[at + c + 3];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (random.nextGaussian() * 3 + 1.5);
        }
        double sum = 0;
        for (int i = 0; i < c; i++) {
            sum += x[at + i];
        }
        double mean = sum / c;
        float m = LayerNorm.mean(x, at, c);
        assertEquals(mean, m, 1e-6 * Math.max(1, Math.abs(mean)));
        double v = 0;
        for (int i = 0; i < c; i++) {
            double d = x[at + i] - (double) m;
            v += d * d;
        }
        double eps = 1e-5;
        double expected = 1 / Math.sqrt(v / c + eps);
        assertEquals(expected, LayerNorm.rstd(x, at, c, m, (float) eps), 1e-6 * expected);
    }
}
