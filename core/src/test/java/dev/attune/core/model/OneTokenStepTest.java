package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.config.GptConfig;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The one-token decoding step over host arrays ({@link Block#forwardOneToken}) against the general path it stands
 * for, on float32 and compressed weights, and its attention kernels against double-precision sums.
 */
class OneTokenStepTest {

    /** Head size 12: not a multiple of any vector width, so the kernels' tails run too. */
    private static final GptConfig CONFIG = GptConfig.builder().vocabSize(300).contextLength(48).embeddingSize(48)
            .heads(4).layers(2).dropout(0.0).initializerRange(0.1).bosTokenId(0).eosTokenId(0).build();

    @AfterEach
    void pathsBack() {
        Block.forceGeneralPath = false;
        PackedKernels.forceScalar = false;
    }

    @Test
    void decodingEqualsTheGeneralPathForEveryWeightFormat() {
        GptModel fp32 = GptModel.create(CONFIG, 5);
        NaiveGpt.randomize(fp32, 6);            // non-trivial biases and layer norms
        // rows of different lengths, left-padded, then eight steps; batch 1 too
        int[][] prompt = {{0, 0, 0, 11, 12, 13}, {20, 21, 22, 23, 24, 25}, {0, 7, 8, 9, 10, 3}};
        boolean[][] mask = {{false, false, false, true, true, true}, {true, true, true, true, true, true},
                {false, true, true, true, true, true}};
        double[] bounds = {2e-5, 2e-5, 2e-5};   // float sums in another order; same weights on both paths
        WeightFormat[] formats = WeightFormat.values();
        for (int k = 0; k < formats.length; k++) {
            GptModel m = fp32.compressed(formats[k]);
            for (int batch : new int[] {1, 3}) {
                int[][] p = java.util.Arrays.copyOf(prompt, batch);
                boolean[][] pm = java.util.Arrays.copyOf(mask, batch);
                double diff = 0;
                double spread = 0;
                KvCache general = m.newCache(batch, 16);
                KvCache oneToken = m.newCache(batch, 16);
                Block.forceGeneralPath = true;
                m.forward(general, p, pm, false);
                Block.forceGeneralPath = false;
                m.forward(oneToken, p, pm, false);
                for (int step = 0; step < 8; step++) {
                    int[][] next = new int[batch][1];
                    for (int b = 0; b < batch; b++) {
                        next[b][0] = (step * 37 + b * 101) % CONFIG.vocabSize();
                    }
                    Block.forceGeneralPath = true;
                    INDArray expected = m.forward(general, next, null, false);
                    Block.forceGeneralPath = false;
                    INDArray actual = m.forward(oneToken, next, null, false);
                    diff = Math.max(diff, actual.sub(expected).amaxNumber().doubleValue());
                    spread = Math.max(spread, expected.amaxNumber().doubleValue());
                }
                for (int l = 0; l < CONFIG.layers(); l++) {
                    double kvDiff = oneToken.layer(l).keys(14).sub(general.layer(l).keys(14)).amaxNumber()
                            .doubleValue();
                    kvDiff = Math.max(kvDiff, oneToken.layer(l).values(14).sub(general.layer(l).values(14))
                            .amaxNumber().doubleValue());
                    assertThat(kvDiff).as("%s batch %d layer %d cache", formats[k], batch, l).isLessThan(bounds[k]);
                }
                assertThat(spread).isGreaterThan(0.1);
                assertThat(diff).as("%s batch %d max |logit diff|", formats[k], batch).isLessThan(bounds[k]);
            }
        }
    }

    @Test
    void theStepIsTakenOnlyWhereItApplies() {
        GptModel m = GptModel.create(CONFIG, 7);
        Block block = blockOf(m);
        assertThat(block.oneTokenStep(new Pass(1, 1, 5, null, org.nd4j.linalg.api.buffer.DataType.FLOAT, false, 0)))
                .isTrue();
        assertThat(block.oneTokenStep(new Pass(8, 1, 5, null, org.nd4j.linalg.api.buffer.DataType.FLOAT, false, 0)))
                .isTrue();
        assertThat(block.oneTokenStep(new Pass(9, 1, 5, null, org.nd4j.linalg.api.buffer.DataType.FLOAT, false, 0)))
                .as("more rows than the packed kernels take").isFalse();
        assertThat(block.oneTokenStep(new Pass(1, 2, 5, null, org.nd4j.linalg.api.buffer.DataType.FLOAT, false, 0)))
                .as("two new positions").isFalse();
        assertThat(block.oneTokenStep(new Pass(1, 1, 0, null, org.nd4j.linalg.api.buffer.DataType.FLOAT, true, 0)))
                .as("training").isFalse();
        ResidualAdapter identity = new ResidualAdapter() {
            @Override
            public void forward(INDArray y, Step step) {
            }

            @Override
            public INDArray backward(INDArray dy, Step step) {
                return dy;
            }
        };
        block.afterLn2 = identity;
        assertThat(block.oneTokenStep(new Pass(1, 1, 5, null, org.nd4j.linalg.api.buffer.DataType.FLOAT, false, 0)))
                .as("an adapter on ln_2's output").isFalse();
        block.afterLn2 = null;
        block.afterLn1 = identity;
        assertThat(block.oneTokenStep(new Pass(1, 1, 5, null, org.nd4j.linalg.api.buffer.DataType.FLOAT, false, 0)))
                .as("an adapter on ln_1's output").isFalse();
        block.afterLn1 = null;
        block.afterMlp = identity;
        assertThat(block.oneTokenStep(new Pass(1, 1, 5, null, org.nd4j.linalg.api.buffer.DataType.FLOAT, false, 0)))
                .as("an adapter on the MLP branch").isFalse();
        block.afterMlp = null;
        block.attention.cAttn.adapter = new ProjectionAdapter() {
        };
        assertThat(block.oneTokenStep(new Pass(1, 1, 5, null, org.nd4j.linalg.api.buffer.DataType.FLOAT, false, 0)))
                .as("an adapter on c_attn").isFalse();
    }

    private static Block blockOf(GptModel m) {
        try {
            java.lang.reflect.Field f = GptModel.class.getDeclaredField("blocks");
            f.setAccessible(true);
            return ((Block[]) f.get(m))[0];
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void headKernelsMatchADoublePrecisionSum() {
        SplittableRandom rng = new SplittableRandom(3);
        for (boolean scalar : new boolean[] {false, true}) {
            PackedKernels.forceScalar = scalar;
            for (int n : new int[] {1, 5, 12, 16, 64, 70}) {
                int offset = 3;                                   // floats into both arrays
                float[] a = new float[offset + n];
                ByteBuffer b = ByteBuffer.allocateDirect(4 * (offset + n)).order(ByteOrder.LITTLE_ENDIAN);
                double dot = 0;
                for (int i = 0; i < n; i++) {
                    a[offset + i] = (float) (rng.nextDouble() * 2 - 1);
                    float v = (float) (rng.nextDouble() * 2 - 1);
                    b.putFloat(4 * (offset + i), v);
                    dot += (double) a[offset + i] * v;
                }
                assertThat((double) PackedKernels.dot(a, offset, b, 4 * offset, n)).as("dot n=%d scalar=%s", n, scalar)
                        .isCloseTo(dot, org.assertj.core.data.Offset.offset(1e-5 * Math.sqrt(n)));
                float[] out = new float[n];
                double[] expected = new double[n];
                for (int i = 0; i < n; i++) {
                    out[i] = (float) rng.nextDouble();
                    expected[i] = out[i] + 0.75 * b.getFloat(4 * (offset + i));
                }
                PackedKernels.addScaled(out, b, 4 * offset, 0.75f, n);
                for (int i = 0; i < n; i++) {
                    assertThat((double) out[i]).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-6));
                }
            }
        }
    }
}
