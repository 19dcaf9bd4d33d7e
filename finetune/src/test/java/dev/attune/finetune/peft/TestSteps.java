package dev.attune.finetune.peft;

import dev.attune.core.model.Step;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Steps for checking adapter layers alone, outside a model: fixed seeds, so every forward draws the same masks. */
public final class TestSteps {

    private TestSteps() {
    }

    /** A step of {@code rows} rows of one position, float64 masks from {@code seed} and the site. */
    public static Step training(int rows, boolean accumulate, long seed) {
        return step(true, accumulate, rows, seed);
    }

    public static Step inference(int rows) {
        return step(false, false, rows, 0);
    }

    private static Step step(boolean training, boolean accumulate, int rows, long seed) {
        return new Step() {
            @Override
            public boolean training() {
                return training;
            }

            @Override
            public boolean accumulate() {
                return accumulate;
            }

            @Override
            public int batchSize() {
                return rows;
            }

            @Override
            public int length() {
                return 1;
            }

            @Override
            public INDArray dropoutMask(double p, long site, long... shape) {
                long n = 1;
                for (long s : shape) {
                    n *= s;
                }
                SplittableRandom rng = new SplittableRandom(seed * 31 + site);
                double[] m = new double[(int) n];
                for (int i = 0; i < m.length; i++) {
                    m[i] = rng.nextDouble() < p ? 0 : 1 / (1 - p);
                }
                return Nd4j.createFromArray(m).reshape(shape).castTo(DataType.DOUBLE);
            }
        };
    }

    /** Uniform random values in [-scale, scale], float64. */
    public static INDArray random(long seed, double scale, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (rng.nextDouble() * 2 - 1) * scale;
        }
        return Nd4j.createFromArray(v).reshape(shape);
    }
}
