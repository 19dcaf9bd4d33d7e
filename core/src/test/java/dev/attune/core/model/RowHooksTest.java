package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.attune.core.config.GptConfig;
import dev.attune.core.engine.HostBuffers;
import java.nio.FloatBuffer;
import java.util.Random;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The training step's fused passes: row hooks on a split product ({@link Ops#gemm(INDArray, boolean, INDArray,
 * boolean, INDArray, double, double, dev.attune.core.engine.StepTeam.RowRange,
 * dev.attune.core.engine.StepTeam.RowRange)}) against a double-precision loop, wide products split by columns, and
 * a model's loss, gradients and logits with the bias fill, GELU and residual adds fused against the same passes run
 * separately ({@link Ops#separatePasses}): bit for bit, since each row gets the same arithmetic either way.
 */
class RowHooksTest {

    @AfterEach
    void restore() {
        Ops.separatePasses = false;
        HostGemm.rowBlocksOnly = false;
    }

    private static INDArray random(Random r, long... shape) {
        INDArray x = Nd4j.create(DataType.FLOAT, shape);
        for (long i = 0; i < x.length(); i++) {
            x.putScalar(i, r.nextGaussian());
        }
        return x;
    }

    /**
     * c = a b + bias (rows filled before), then every element doubled after: for a product the threads split by rows
     * (8.4 M multiply-adds) and one past {@link HostGemm#SMALL_MACS} (MKL's own threads; the hooks split apart).
     */
    @Test
    void hooksRunOnceOnEachRowBeforeAndAfterItsProduct() {
        hooksRunOnceOnEachRow(256, 128, 256, 1);
        hooksRunOnceOnEachRow(512, 512, 384, 37);
    }

    private static void hooksRunOnceOnEachRow(int m, int k, int n, int checkEvery) {
        Random r = new Random(11);
        INDArray a = random(r, m, k);
        INDArray b = random(r, k, n);
        float[] bias = new float[n];
        for (int j = 0; j < n; j++) {
            bias[j] = (float) r.nextGaussian();
        }
        INDArray c = Nd4j.create(DataType.FLOAT, m, n).assign(Float.NaN);
        FloatBuffer cb = HostBuffers.floats(c);
        AtomicIntegerArray before = new AtomicIntegerArray(m);
        AtomicIntegerArray after = new AtomicIntegerArray(m);
        Ops.gemm(a, false, b, false, c, 1.0, 1.0, (from, to) -> {
            for (int i = from; i < to; i++) {
                before.incrementAndGet(i);
                assertThat(after.get(i)).as("row %d: before runs first", i).isZero();
                cb.put(i * n, bias);
            }
        }, (from, to) -> {
            for (int i = from; i < to; i++) {
                after.incrementAndGet(i);
                for (int j = 0; j < n; j++) {
                    cb.put(i * n + j, 2 * cb.get(i * n + j));
                }
            }
        });
        for (int i = 0; i < m; i++) {
            assertThat(before.get(i)).as("before on row %d", i).isEqualTo(1);
            assertThat(after.get(i)).as("after on row %d", i).isEqualTo(1);
            for (int j = 0; j < n && i % checkEvery == 0; j++) {
                double sum = bias[j];
                for (int l = 0; l < k; l++) {
                    sum += a.getDouble(i, l) * b.getDouble(l, j);
                }
                assertThat(c.getDouble(i, j)).isCloseTo(2 * sum, org.assertj.core.data.Offset.offset(
                        1e-4 * Math.max(1, Math.abs(sum))));
            }
        }
    }

    /** A product wider than tall (a weight gradient's shape) split by columns, every transpose, alpha and beta. */
    @Test
    void wideProductsSplitByColumnsMatchTheDoubleLoop() {
        Random r = new Random(12);
        int m = 64;
        int k = 256;
        int n = 512;        // 8.4 M multiply-adds, n > m: column blocks
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                INDArray a = ta ? random(r, k, m) : random(r, m, k);
                INDArray b = tb ? random(r, n, k) : random(r, k, n);
                INDArray c0 = random(r, m, n);
                INDArray c = c0.dup();
                Ops.gemm(a, ta, b, tb, c, 0.5, 2.0);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        double sum = 0;
                        for (int l = 0; l < k; l++) {
                            sum += (ta ? a.getDouble(l, i) : a.getDouble(i, l)) * (tb ? b.getDouble(j, l) : b.getDouble(l, j));
                        }
                        double want = 0.5 * sum + 2.0 * c0.getDouble(i, j);
                        assertThat(c.getDouble(i, j)).as("ta %s tb %s (%d, %d)", ta, tb, i, j)
                                .isCloseTo(want, org.assertj.core.data.Offset.offset(1e-4 * Math.max(1, Math.abs(want))));
                    }
                }
            }
        }
    }

    /** Shapes where the threads split c_fc, c_proj and the residual adds (128 rows, width 128, inner 512). */
    private static final GptConfig CONFIG = GptConfig.builder()
            .vocabSize(64).contextLength(64).embeddingSize(128).heads(4).layers(2).innerSize(512).dropout(0.0)
            .bosTokenId(0).eosTokenId(0).build();

    @Test
    void fusedPassesGiveTheSameBitsAsSeparateOnes() {
        Random r = new Random(13);
        int[][] tokens = new int[2][64];
        int[][] targets = new int[2][64];
        for (int b = 0; b < 2; b++) {
            for (int t = 0; t < 64; t++) {
                tokens[b][t] = r.nextInt(64);
                targets[b][t] = r.nextInt(64);
            }
        }
        TokenBatch batch = TokenBatch.of(tokens, targets);
        GptModel m = GptModel.create(CONFIG, 1);
        NaiveGpt.randomize(m, 5);
        double[] loss = new double[2];
        INDArray[] grads = new INDArray[2];
        INDArray[] logits = new INDArray[2];
        for (int separate = 0; separate < 2; separate++) {
            Ops.separatePasses = separate == 1;
            loss[separate] = m.forwardBackward(batch, batch.validTargets(), false, 0);
            grads[separate] = m.gradients().dup();
            logits[separate] = m.forward(m.newCache(2, 64), tokens, null, true).dup();
        }
        assertThat(grads[0].norm2Number().doubleValue()).isGreaterThan(1e-3);
        assertThat(loss[0]).isEqualTo(loss[1]);
        // JUnit's array check: it names the first differing index (AssertJ's diff of 10^5 floats takes minutes)
        assertArrayEquals(grads[1].toFloatVector(), grads[0].toFloatVector(), "gradients");
        assertArrayEquals(logits[1].reshape(logits[1].length()).toFloatVector(),
                logits[0].reshape(logits[0].length()).toFloatVector(), "logits");
    }
}
