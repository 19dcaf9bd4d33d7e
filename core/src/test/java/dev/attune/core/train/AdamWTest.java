package dev.attune.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.attune.core.engine.Engine;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class AdamWTest {

    @BeforeAll
    static void start() {
        Engine.init();
    }

    /** wte [3,2] @0, a matrix [2,2] @6, a bias [2] @10, a LayerNorm gain [2] @12. */
    private static final List<TrainableTensor> SMALL = List.of(
            new TrainableTensor("wte.weight", new long[] {3, 2}, 0),
            new TrainableTensor("h.0.attn.c_attn.weight", new long[] {2, 2}, 6),
            new TrainableTensor("h.0.attn.c_attn.bias", new long[] {2}, 10),
            new TrainableTensor("h.0.ln_1.weight", new long[] {2}, 12));

    private static INDArray vector(double... values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return Nd4j.createFromArray(f);
    }

    @Test
    void firstStepMatchesTheHandComputedUpdate() {
        // At t = 1 the bias corrections cancel: m_hat = g, sqrt(v_hat) = |g|, so the step is lr * g / (|g| + eps),
        // and decayed tensors are first scaled by (1 - lr * wd) = 1 - 0.1 * 0.5 = 0.95.
        for (boolean host : new boolean[] {true, false}) {
            INDArray p = vector(1, 1, 1, 1, 1, 1, /* matrix */ 1, 2, -1, 0.5, /* bias */ 1, 1, /* ln */ 1, 1);
            INDArray g = vector(0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, -4, 1e-3, 2, -2, 0, 0.25, -0.25);
            AdamW adamW = AdamW.builder().weightDecay(0.5).epsilon(1e-8).build();
            AdamWOptimizer opt = new AdamWOptimizer(adamW, p, g, SMALL, host, 2);
            opt.update(0.1, 1.0);
            double[] expected = {
                    0.9, 0.9, 0.9, 0.9, 0.9, 0.9,                     // wte: not decayed by default, 1 - 0.1
                    0.95 - 0.1, 1.9 + 0.1, -0.95 - 0.1 * 1e-3 / (1e-3 + 1e-8), 0.475 - 0.1, // 0.95 p - 0.1 sign(g)
                    1.1, 1.0,                                         // bias: g = 0 leaves it alone
                    0.9, 1.1};
            assertThat(opt.step()).isEqualTo(1);
            for (int i = 0; i < expected.length; i++) {
                assertThat(p.getDouble(i)).as("host=%s element %d", host, i).isCloseTo(expected[i], within(1e-6));
            }
        }
    }

    @Test
    void embeddingsDecayOnlyWhenAsked() {
        INDArray p = vector(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        INDArray g = Nd4j.zeros(DataType.FLOAT, 14);
        AdamWOptimizer opt = new AdamWOptimizer(AdamW.builder().weightDecay(0.5).decayEmbeddings(true).build(),
                p, g, SMALL, true, 1);
        opt.update(0.1, 1.0);
        // zero gradient: only the decay moves parameters, and only for wte and the matrix
        assertThat(p.getDouble(0)).isCloseTo(0.95, within(1e-7));
        assertThat(p.getDouble(6)).isCloseTo(0.95, within(1e-7));
        assertThat(p.getDouble(10)).isEqualTo(1.0);
        assertThat(p.getDouble(13)).isEqualTo(1.0);
    }

    /** PyTorch's AdamW written out in double precision, one element at a time. */
    private static void referenceStep(double[] p, double[] g, double[] m, double[] v, boolean[] decays, int t,
                                      double lr, AdamW c) {
        for (int i = 0; i < p.length; i++) {
            if (decays[i]) {
                p[i] *= 1 - lr * c.weightDecay();
            }
            m[i] = c.beta1() * m[i] + (1 - c.beta1()) * g[i];
            v[i] = c.beta2() * v[i] + (1 - c.beta2()) * g[i] * g[i];
            double mHat = m[i] / (1 - Math.pow(c.beta1(), t));
            double vHat = v[i] / (1 - Math.pow(c.beta2(), t));
            p[i] -= lr * mHat / (Math.sqrt(vHat) + c.epsilon());
        }
    }

    @Test
    void severalStepsMatchADoublePrecisionReferenceOnBothPaths() {
        // tensors larger than a tile, so tiles, ranges and thread splits all come into play
        List<TrainableTensor> tensors = List.of(
                new TrainableTensor("wpe.weight", new long[] {10, 30}, 0),
                new TrainableTensor("h.0.mlp.c_fc.weight", new long[] {150, 120}, 300),
                new TrainableTensor("h.0.mlp.c_fc.bias", new long[] {120}, 18_300),
                new TrainableTensor("h.0.mlp.c_proj.weight", new long[] {120, 10}, 18_420));
        int n = 19_620;
        AdamW c = AdamW.builder().betas(0.8, 0.95).epsilon(1e-6).weightDecay(0.1).build();
        boolean[] decays = new boolean[n];
        for (int i = 300; i < n; i++) {
            decays[i] = i < 18_300 || i >= 18_420;
        }
        Random random = new Random(7);
        double[] p0 = new double[n];
        for (int i = 0; i < n; i++) {
            p0[i] = random.nextGaussian();
        }
        double[][] grads = new double[5][n];
        for (double[] g : grads) {
            for (int i = 0; i < n; i++) {
                g[i] = random.nextGaussian() * (i % 7 == 0 ? 1e-3 : 1);
            }
        }
        double[] lrs = {1e-2, 3e-2, 2e-2, 1e-2, 5e-3};

        double[] p = p0.clone();
        double[] m = new double[n];
        double[] v = new double[n];
        for (int t = 1; t <= 5; t++) {
            referenceStep(p, grads[t - 1], m, v, decays, t, lrs[t - 1], c);
        }

        for (boolean host : new boolean[] {true, false}) {
            INDArray params = vector(p0);
            INDArray gradients = Nd4j.zeros(DataType.FLOAT, n);
            AdamWOptimizer opt = new AdamWOptimizer(c, params, gradients, tensors, host, 3);
            for (int t = 1; t <= 5; t++) {
                gradients.assign(vector(grads[t - 1]));
                opt.update(lrs[t - 1], 1.0);
            }
            double worst = 0;
            for (int i = 0; i < n; i++) {
                worst = Math.max(worst, Math.abs(params.getDouble(i) - p[i]));
            }
            assertThat(worst).as("largest difference, host=%s", host).isLessThan(2e-6);
            assertThat(opt.firstMoment().getDouble(n - 1)).isCloseTo(m[n - 1], within(1e-6));
            assertThat(opt.secondMoment().getDouble(n - 1)).isCloseTo(v[n - 1], within(1e-6));
        }
    }

    @Test
    void resultDoesNotDependOnTheThreadCount() {
        List<TrainableTensor> tensors = List.of(new TrainableTensor("h.0.attn.c_proj.weight", new long[] {300, 200}, 0));
        INDArray[] results = new INDArray[3];
        double[] norms = new double[3];
        int[] threads = {1, 2, 5};
        for (int k = 0; k < 3; k++) {
            Nd4j.getRandom().setSeed(3);
            INDArray params = Nd4j.randn(DataType.FLOAT, 60_000);
            INDArray gradients = Nd4j.randn(DataType.FLOAT, 60_000);
            AdamWOptimizer opt = new AdamWOptimizer(AdamW.defaults(), params, gradients, tensors, true, threads[k]);
            norms[k] = opt.gradientNorm();
            opt.update(1e-3, 0.5);
            opt.update(1e-3, 0.5);
            results[k] = params;
        }
        assertThat(results[1]).isEqualTo(results[0]);
        assertThat(results[2]).isEqualTo(results[0]);
        assertThat(norms[1]).isEqualTo(norms[0]);
        assertThat(norms[2]).isEqualTo(norms[0]);
    }

    @Test
    void gradientScaleEqualsScaledGradients() {
        INDArray g = vector(0.5, -1, 2, 3, 0.1, 0.2, 0.3, -0.4, 5, 6, 7, 8, 9, 10);
        INDArray a = vector(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
        INDArray b = a.dup();
        AdamWOptimizer scaled = new AdamWOptimizer(AdamW.defaults(), a, g, SMALL, true, 1);
        AdamWOptimizer plain = new AdamWOptimizer(AdamW.defaults(), b, g.mul(0.25), SMALL, true, 1);
        for (int i = 0; i < 3; i++) {
            scaled.update(0.01, 0.25);
            plain.update(0.01, 1.0);
        }
        for (int i = 0; i < 14; i++) {
            assertThat(a.getDouble(i)).isCloseTo(b.getDouble(i), within(1e-7));
        }
    }

    @Test
    void gradientNormIsTheGlobalL2NormAndSeesNonFiniteValues() {
        INDArray p = Nd4j.zeros(DataType.FLOAT, 14);
        INDArray g = vector(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14);
        double expected = 0;
        for (int i = 1; i <= 14; i++) {
            expected += i * i;
        }
        for (boolean host : new boolean[] {true, false}) {
            AdamWOptimizer opt = new AdamWOptimizer(AdamW.defaults(), p, g, SMALL, host, 2);
            assertThat(opt.gradientNorm()).isCloseTo(Math.sqrt(expected), within(1e-5));
        }
        g.putScalar(11, Float.NaN);
        assertThat(new AdamWOptimizer(AdamW.defaults(), p, g, SMALL, true, 2).gradientNorm()).isNaN();
        g.putScalar(11, Float.POSITIVE_INFINITY);
        assertThat(new AdamWOptimizer(AdamW.defaults(), p, g, SMALL, true, 2).gradientNorm()).isInfinite();
    }

    @Test
    void badTensorListsAreRejectedWithTheirNames() {
        INDArray p = Nd4j.zeros(DataType.FLOAT, 10);
        assertThatThrownBy(() -> new AdamWOptimizer(AdamW.defaults(), p, p.dup(), List.of(
                new TrainableTensor("a", new long[] {6}, 0), new TrainableTensor("b", new long[] {6}, 4)), true, 1))
                .hasMessageContaining("overlap").hasMessageContaining("a[6]@0").hasMessageContaining("b[6]@4");
        assertThatThrownBy(() -> new AdamWOptimizer(AdamW.defaults(), p, p.dup(), List.of(
                new TrainableTensor("big", new long[] {3, 4}, 0)), true, 1))
                .hasMessageContaining("big").hasMessageContaining("10 elements");
        assertThatThrownBy(() -> AdamW.builder().betas(1.0, -0.1).epsilon(0).build())
                .hasMessageContaining("beta1").hasMessageContaining("beta2").hasMessageContaining("epsilon");
    }
}
