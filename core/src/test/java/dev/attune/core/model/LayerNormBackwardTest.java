package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The host layer norm's backward pass, split over the engine's threads in fixed parts ({@link Ops#parts}): dx, dw
 * and db against the closed form in double, and the same bits on every call whichever thread ran which part.
 */
class LayerNormBackwardTest {

    /** Rows below one part's 16, an odd count that splits unevenly, and the tiny model's 512. */
    @ParameterizedTest
    @ValueSource(ints = {5, 33, 513})
    void backwardMatchesDoubleAndRepeatsBitForBit(int rows) {
        int c = 128;
        SplittableRandom random = new SplittableRandom(rows);
        INDArray x = gaussian(random, rows, c, 2.0, 0.5);
        INDArray dout = gaussian(random, rows, c, 1.0, 0.0);
        INDArray dxStart = gaussian(random, rows, c, 1.0, 0.0);
        INDArray w = gaussian(random, 1, c, 0.3, 1.0).reshape(c);
        INDArray b = gaussian(random, 1, c, 0.3, 0.0).reshape(c);
        INDArray dw = Nd4j.create(DataType.FLOAT, c);
        INDArray db = Nd4j.create(DataType.FLOAT, c);
        LayerNorm ln = new LayerNorm(new Param(w, () -> dw), new Param(b, () -> db), 1e-5);
        INDArray out = Nd4j.create(DataType.FLOAT, rows, c);
        INDArray mean = Nd4j.create(DataType.FLOAT, rows);
        INDArray rstd = Nd4j.create(DataType.FLOAT, rows);
        ln.forward(x, out, mean, rstd);

        double[] dwExpected = new double[c];
        double[] dbExpected = new double[c];
        double[][] dxExpected = new double[rows][c];
        for (int r = 0; r < rows; r++) {
            double m = 0;
            for (int i = 0; i < c; i++) {
                m += x.getFloat(r, i);
            }
            m /= c;
            double v = 0;
            for (int i = 0; i < c; i++) {
                v += (x.getFloat(r, i) - m) * (x.getFloat(r, i) - m);
            }
            double s = 1 / Math.sqrt(v / c + 1e-5);
            double[] xh = new double[c];
            double dnMean = 0;
            double dnXhMean = 0;
            for (int i = 0; i < c; i++) {
                xh[i] = (x.getFloat(r, i) - m) * s;
                double dn = dout.getFloat(r, i) * (double) w.getFloat(i);
                dnMean += dn / c;
                dnXhMean += dn * xh[i] / c;
                dwExpected[i] += dout.getFloat(r, i) * xh[i];
                dbExpected[i] += dout.getFloat(r, i);
            }
            for (int i = 0; i < c; i++) {
                dxExpected[r][i] = dxStart.getFloat(r, i)
                        + (dout.getFloat(r, i) * (double) w.getFloat(i) - dnMean - xh[i] * dnXhMean) * s;
            }
        }

        INDArray dx = dxStart.dup();
        ln.backward(dout, x, mean, rstd, dx, false);
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < c; i++) {
                assertEquals(dxExpected[r][i], dx.getFloat(r, i), 2e-4 * (1 + Math.abs(dxExpected[r][i])),
                        "dx " + r + "," + i);
            }
        }
        for (int i = 0; i < c; i++) {
            assertEquals(dwExpected[i], dw.getFloat(i), 1e-4 * Math.sqrt(rows) * (1 + Math.abs(dwExpected[i])), "dw " + i);
            assertEquals(dbExpected[i], db.getFloat(i), 1e-4 * Math.sqrt(rows) * (1 + Math.abs(dbExpected[i])), "db " + i);
        }
        INDArray dwFirst = dw.dup();
        INDArray dbFirst = db.dup();
        INDArray dxFirst = dx.dup();
        for (int repeat = 0; repeat < 30; repeat++) {
            INDArray again = dxStart.dup();
            ln.backward(dout, x, mean, rstd, again, false);
            assertThat(again).isEqualTo(dxFirst);
            assertThat(dw).isEqualTo(dwFirst);
            assertThat(db).isEqualTo(dbFirst);
        }
        // accumulate adds this pass's sums to what is there
        ln.backward(dout, x, mean, rstd, dxStart.dup(), true);
        for (int i = 0; i < c; i++) {
            assertEquals(2 * dwExpected[i], dw.getFloat(i), 2e-4 * Math.sqrt(rows) * (1 + Math.abs(dwExpected[i])));
            assertEquals(2 * dbExpected[i], db.getFloat(i), 2e-4 * Math.sqrt(rows) * (1 + Math.abs(dbExpected[i])));
        }
    }

    /** Every part runs in exactly one call, for counts below, at and above the engine's threads. */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 7, 64})
    void everyPartRunsOnce(int parts) {
        for (int repeat = 0; repeat < 50; repeat++) {
            AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(parts, 1));
            Ops.parts(parts, (first, last) -> {
                for (int p = first; p < last; p++) {
                    seen.incrementAndGet(p);
                }
            });
            for (int p = 0; p < parts; p++) {
                assertThat(seen.get(p)).as("part %d of %d", p, parts).isEqualTo(1);
            }
        }
    }

    private static INDArray gaussian(SplittableRandom random, int rows, int cols, double std, double mean) {
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (mean + std * gaussian(random));
        }
        return Nd4j.createFromArray(v).reshape(rows, cols);
    }

    private static double gaussian(SplittableRandom random) {
        double u = random.nextDouble(1e-12, 1.0);
        double v = random.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
