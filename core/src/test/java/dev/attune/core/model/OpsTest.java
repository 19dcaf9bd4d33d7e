package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** {@link Ops#add}, {@link Ops#zero} and {@link Ops#sumRows}: the host loops against ND4J's add and assign (the plain path). */
class OpsTest {

    @AfterEach
    void restorePath() {
        Ops.forceNd4jPath = false;
    }

    @Test
    void hostAddEqualsNd4jAdd() {
        // 9,000 elements: more than one of the loop's chunks, and not a multiple of one
        INDArray a = random(1, 90, 100);
        INDArray b = random(2, 90, 100);
        INDArray expected = a.add(b);
        INDArray out = Nd4j.create(a.dataType(), 90, 100);
        Ops.add(a, b, out);
        assertThat(out).isEqualTo(expected);
        INDArray inPlace = a.dup();
        Ops.add(inPlace, b, inPlace);
        assertThat(inPlace).isEqualTo(expected);
        Ops.forceNd4jPath = true;
        INDArray plain = Nd4j.create(a.dataType(), 90, 100);
        Ops.add(a, b, plain);
        assertThat(plain).isEqualTo(expected);
    }

    @Test
    void hostZeroClearsEveryElementOfADenseArrayAndOnlyThoseOfAView() {
        INDArray x = random(3, 90, 100);
        Ops.zero(x);
        assertThat(x.amaxNumber().doubleValue()).isEqualTo(0.0);
        INDArray wide = random(4, 6, 10);
        INDArray left = wide.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 4));     // not dense: ND4J's assign
        INDArray right = wide.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(4, 10)).dup();
        Ops.zero(left);
        assertThat(left.amaxNumber().doubleValue()).isEqualTo(0.0);
        assertThat(wide.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(4, 10))).isEqualTo(right);
    }

    /** Bias gradients: column sums, written or added, against sums in double; the plain path (a GEMM) the same. */
    @Test
    void sumRowsIsTheColumnSumsAndAccumulatesOnRequest() {
        INDArray x = random(5, 90, 37);
        double[] expected = new double[37];
        for (int r = 0; r < 90; r++) {
            for (int j = 0; j < 37; j++) {
                expected[j] += x.getFloat(r, j);
            }
        }
        for (boolean plain : new boolean[] {false, true}) {
            Ops.forceNd4jPath = plain;
            INDArray out = random(6, 1, 37).reshape(37);
            Ops.sumRows(x, out, false);
            for (int j = 0; j < 37; j++) {
                assertThat((double) out.getFloat(j)).isCloseTo(expected[j], org.assertj.core.data.Offset.offset(1e-4));
            }
            INDArray acc = Nd4j.ones(x.dataType(), 37);
            Ops.sumRows(x, acc, true);
            for (int j = 0; j < 37; j++) {
                assertThat((double) acc.getFloat(j)).isCloseTo(expected[j] + 1, org.assertj.core.data.Offset.offset(1e-4));
            }
        }
    }

    /**
     * Wide enough to be split by columns over the threads: each column must still be the rows summed in order in
     * float, as on one thread, whatever the split.
     */
    @Test
    void sumRowsSplitByColumnsGivesTheSequentialSumsBitForBit() {
        INDArray x = random(7, 70, 300);
        float[] start = new float[300];
        float[] sequential = new float[300];
        for (int j = 0; j < 300; j++) {
            start[j] = (float) Math.sin(j);
            sequential[j] = start[j];
            for (int r = 0; r < 70; r++) {
                sequential[j] += x.getFloat(r, j);
            }
        }
        INDArray out = Nd4j.createFromArray(start);
        Ops.sumRows(x, out, true);
        assertThat(out.toFloatVector()).containsExactly(sequential);
    }

    private static INDArray random(long seed, int rows, int cols) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] v = new float[rows * cols];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) rng.nextGaussian();
        }
        return Nd4j.createFromArray(v).reshape(rows, cols);
    }
}
