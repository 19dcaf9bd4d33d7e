package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.config.GptConfig;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.GenerationResult;
import dev.attune.core.generate.Generator;
import dev.attune.core.io.FloatFormats;
import dev.attune.core.tokenizer.Tokenizer;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Compressed weights (bf16, int8): the kernels against a double-precision sum over the stored values, the products
 * against float32 GEMMs on the dequantized matrices, and whole compressed models against their float32 originals.
 */
class CompressedWeightsTest {

    private static final int[] WIDTHS = {1, 5, 31, 32, 33, 64, 100, 773};
    private static final int[] OUTPUTS = {1, 3, 17, 40};

    @AfterEach
    void vectorsBack() {
        PackedKernels.forceScalar = false;
    }

    // ------------------------------------------------------------------------------------------------- kernels

    @Test
    void int8KernelMatchesADoublePrecisionSumOnRandomShapes() {
        SplittableRandom rng = new SplittableRandom(1);
        int checked = 0;
        for (boolean scalar : new boolean[] {false, true}) {
            PackedKernels.forceScalar = scalar;
            for (int in : WIDTHS) {
                for (int out : OUTPUTS) {
                    for (int group : new int[] {32, 16, 7, in}) {
                        int groups = (in + group - 1) / group;
                        byte[] q = new byte[out * in];
                        for (int i = 0; i < q.length; i++) {
                            q[i] = (byte) (rng.nextInt(255) - 127);
                        }
                        float[] scales = randomFloats(rng, out * groups, 0.01, 0.5);
                        for (int rows : new int[] {1, 3, 8}) {
                            float[] x = randomFloats(rng, rows * in, -1, 1);
                            float[] y = new float[rows * out];
                            // two calls over halves of the output rows, as two threads split them
                            PackedKernels.int8(x, rows, q, scales, in, out, group, y, 0, out / 2);
                            PackedKernels.int8(x, rows, q, scales, in, out, group, y, out / 2, out);
                            for (int r = 0; r < rows; r++) {
                                for (int o = 0; o < out; o++) {
                                    double sum = 0;
                                    double magnitude = 0;
                                    for (int i = 0; i < in; i++) {
                                        double term = (double) q[o * in + i] * scales[o * groups + i / group]
                                                * x[r * in + i];
                                        sum += term;
                                        magnitude += Math.abs(term);
                                    }
                                    if (Math.abs(y[r * out + o] - sum) > 1e-5 * magnitude + 1e-6) {
                                        throw new AssertionError("int8 in=" + in + " out=" + out + " group=" + group
                                                + " rows=" + rows + " scalar=" + scalar + " [" + r + "," + o + "]: "
                                                + y[r * out + o] + " vs " + sum);
                                    }
                                    checked++;
                                }
                            }
                        }
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(2 * 4 * Arrays.stream(OUTPUTS).sum() * WIDTHS.length * (1 + 3 + 8));
    }

    @Test
    void bf16KernelMatchesADoublePrecisionSumOnRandomShapes() {
        SplittableRandom rng = new SplittableRandom(2);
        int checked = 0;
        for (boolean scalar : new boolean[] {false, true}) {
            PackedKernels.forceScalar = scalar;
            for (int in : WIDTHS) {
                for (int out : OUTPUTS) {
                    short[] w = new short[out * in];
                    for (int i = 0; i < w.length; i++) {
                        w[i] = FloatFormats.floatToBfloat16((float) rng.nextGaussian());
                    }
                    for (int rows : new int[] {1, 3, 8}) {
                        float[] x = randomFloats(rng, rows * in, -1, 1);
                        float[] y = new float[rows * out];
                        PackedKernels.bf16(x, rows, w, in, out, y, 0, out / 2);
                        PackedKernels.bf16(x, rows, w, in, out, y, out / 2, out);
                        for (int r = 0; r < rows; r++) {
                            for (int o = 0; o < out; o++) {
                                double sum = 0;
                                double magnitude = 0;
                                for (int i = 0; i < in; i++) {
                                    double term = (double) FloatFormats.bfloat16ToFloat(w[o * in + i]) * x[r * in + i];
                                    sum += term;
                                    magnitude += Math.abs(term);
                                }
                                if (Math.abs(y[r * out + o] - sum) > 1e-5 * magnitude + 1e-6) {
                                    throw new AssertionError("bf16 in=" + in + " out=" + out + " rows=" + rows
                                            + " scalar=" + scalar + " [" + r + "," + o + "]: " + y[r * out + o] + " vs "
                                            + sum);
                                }
                                checked++;
                            }
                        }
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(2 * Arrays.stream(OUTPUTS).sum() * WIDTHS.length * (1 + 3 + 8));
    }

    @Test
    void productsEqualTheFloatGemmOnTheDequantizedMatrix() {
        SplittableRandom rng = new SplittableRandom(3);
        // [in, out] Conv1D shapes; 4100 x 300 is more than one dequantized block (2^20 elements) for the GEMM path
        int[][] shapes = {{37, 19}, {64, 96}, {4100, 300}};
        for (WeightFormat format : new WeightFormat[] {WeightFormat.BF16, WeightFormat.INT8}) {
            for (int[] shape : shapes) {
                CompressedTensor t = CompressedTensor.zeros("h.0.mlp.c_fc.weight", format, new long[] {shape[0], shape[1]});
                t.quantize(Nd4j.createFromArray(randomFloats(rng, shape[0] * shape[1], -0.5, 0.5))
                        .reshape(shape[0], shape[1]));
                INDArray w = t.dequantize();                                     // [in, out]
                INDArray bias = Nd4j.createFromArray(randomFloats(rng, shape[1], -1, 1));
                // up to PACKED_MAX_ROWS (32) the packed kernels, beyond it the GEMM on dequantized blocks
                for (int rows : new int[] {1, 2, 7, 8, 9, 16, 32, 33, 40}) {
                    INDArray x = Nd4j.createFromArray(randomFloats(rng, rows * shape[0], -1, 1)).reshape(rows, shape[0]);
                    INDArray expected = Nd4j.create(DataType.FLOAT, rows, shape[1]);
                    Ops.gemm(x, false, w, false, expected, 1.0, 0.0);
                    expected.addiRowVector(bias);
                    INDArray y = Nd4j.create(DataType.FLOAT, rows, shape[1]);
                    t.multiply(x, y, bias);
                    double scale = Math.sqrt(shape[0]) * 0.5;
                    assertThat(y.sub(expected).amaxNumber().doubleValue())
                            .as("%s %s rows=%d", format, Arrays.toString(shape), rows).isLessThan(1e-5 * scale);
                }
            }
        }
    }

    @Test
    void int8RoundsEachWeightToItsBlocksGrid() {
        SplittableRandom rng = new SplittableRandom(4);
        int in = 70;
        int out = 5;
        float[] values = randomFloats(rng, in * out, -2, 2);
        values[3] = 0;                                                    // a zero, and a whole zero group below
        for (int i = 0; i < 32; i++) {
            values[(32 + i) * out + 4] = 0;
        }
        INDArray hf = Nd4j.createFromArray(values).reshape(in, out);      // Conv1D [in, out]
        CompressedTensor t = CompressedTensor.zeros("h.1.attn.c_proj.weight", WeightFormat.INT8, new long[] {in, out});
        t.quantize(hf);
        assertThat(t.scaleShape()).containsExactly(3, out);
        float[] scales = t.scales();                                      // [ceil(in/32), out]
        byte[] q = t.storedBytes();                                       // [in, out]
        INDArray back = t.dequantize();
        for (int i = 0; i < in; i++) {
            for (int o = 0; o < out; o++) {
                double max = 0;
                for (int k = (i / 32) * 32; k < Math.min(in, (i / 32 + 1) * 32); k++) {
                    max = Math.max(max, Math.abs(values[k * out + o]));
                }
                double scale = max / 127;
                assertThat((double) scales[(i / 32) * out + o]).isCloseTo(scale, org.assertj.core.api.Assertions.within(
                        1e-7 * max));
                assertThat(Math.abs(values[i * out + o] - q[i * out + o] * scale)).isLessThanOrEqualTo(
                        scale / 2 * (1 + 1e-5) + 1e-12);
                assertThat(back.getFloat(i, o)).isEqualTo(q[i * out + o] * scales[(i / 32) * out + o]);
            }
        }
        assertThat(q[3]).isZero();
        assertThat(scales[out + 4]).isZero();
    }

    @Test
    void compressingFromHostMemoryInSlabsEqualsCompressingACopy() {
        // dense float32 arrays take the slab path; the same values in Fortran order take the copying path
        SplittableRandom rng = new SplittableRandom(6);
        for (WeightFormat format : new WeightFormat[] {WeightFormat.BF16, WeightFormat.INT8}) {
            for (String name : new String[] {"h.0.mlp.c_fc.weight", "wte.weight"}) {
                for (long[] shape : new long[][] {{70, 5}, {64, 130}, {33, 1}}) {
                    INDArray dense = Nd4j.createFromArray(randomFloats(rng, (int) (shape[0] * shape[1]), -2, 2))
                            .reshape(shape);
                    CompressedTensor slabs = CompressedTensor.zeros(name, format, shape);
                    CompressedTensor copied = CompressedTensor.zeros(name, format, shape);
                    slabs.quantize(dense);
                    copied.quantize(dense.dup('f'));
                    String what = format + " " + name + " " + Arrays.toString(shape);
                    assertThat(slabs.storedBytes()).as(what).isEqualTo(copied.storedBytes());
                    if (format == WeightFormat.INT8) {
                        assertThat(slabs.scales()).as(what).isEqualTo(copied.scales());
                    }
                    assertThat(slabs.dequantize().sub(dense).amaxNumber().doubleValue()).as(what)
                            .isLessThan(format == WeightFormat.INT8 ? 2.0 / 127 : 2.0 / 256);
                }
            }
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        SplittableRandom rng = new SplittableRandom(5);
        float[] values = randomFloats(rng, 12 * 8, -3, 3);
        CompressedTensor t = CompressedTensor.zeros("wte.weight", WeightFormat.BF16, new long[] {12, 8});
        t.quantize(Nd4j.createFromArray(values).reshape(12, 8));
        float[] back = t.dequantize().reshape(-1).toFloatVector();
        for (int i = 0; i < values.length; i++) {
            assertThat(back[i]).isEqualTo(FloatFormats.bfloat16ToFloat(FloatFormats.floatToBfloat16(values[i])));
            assertThat((double) Math.abs(back[i] - values[i])).isLessThanOrEqualTo(Math.abs(values[i]) / 256.0);
        }
    }

    @Test
    void storedValuesLoadBackBitForBit() {
        SplittableRandom rng = new SplittableRandom(6);
        for (WeightFormat format : new WeightFormat[] {WeightFormat.BF16, WeightFormat.INT8}) {
            for (String name : new String[] {"wte.weight", "h.0.attn.c_attn.weight"}) {
                CompressedTensor t = CompressedTensor.zeros(name, format, new long[] {40, 9});
                t.quantize(Nd4j.createFromArray(randomFloats(rng, 360, -1, 1)).reshape(40, 9));
                CompressedTensor copy = CompressedTensor.zeros(name, format, new long[] {40, 9});
                copy.load(t.storedBytes(), format == WeightFormat.INT8 ? t.scales() : null, t.groupSize());
                assertThat(copy.storedBytes()).isEqualTo(t.storedBytes());
                assertThat(copy.dequantize()).isEqualTo(t.dequantize());
            }
        }
        CompressedTensor t = CompressedTensor.zeros("wte.weight", WeightFormat.INT8, new long[] {4, 64});
        assertThatThrownBy(() -> t.load(new byte[10], new float[8], 32)).hasMessageContaining("needs 256 bytes");
        assertThatThrownBy(() -> t.load(new byte[256], new float[7], 32)).hasMessageContaining("needs 8 scales");
    }

    // --------------------------------------------------------------------------------------------------- model

    private static final GptConfig CONFIG = GptConfig.builder().vocabSize(300).contextLength(48).embeddingSize(64)
            .heads(4).layers(2).dropout(0.0).initializerRange(0.1).bosTokenId(0).eosTokenId(0).build();

    private static int[][] tokens(int rows, int length, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int[][] t = new int[rows][length];
        for (int[] row : t) {
            for (int i = 0; i < length; i++) {
                row[i] = rng.nextInt(CONFIG.vocabSize());
            }
        }
        return t;
    }

    @Test
    void compressedModelsGiveLogitsAndLossCloseToFloat32() {
        GptModel fp32 = GptModel.create(CONFIG, 11);
        int[][] ids = tokens(3, 40, 12);
        TokenBatch batch = TokenBatch.of(ids, tokens(3, 40, 13));
        INDArray reference = fp32.logits(batch);
        double spread = reference.amaxNumber().doubleValue();
        double loss = fp32.loss(batch);
        double[] bounds = {0.01, 0.03};                       // max |logit difference| / max |logit|: bf16, int8
        double[] lossBounds = {0.002, 0.005};                 // relative change of the mean token loss
        WeightFormat[] formats = {WeightFormat.BF16, WeightFormat.INT8};
        for (int k = 0; k < formats.length; k++) {
            GptModel m = fp32.compressed(formats[k]);
            assertThat(m.weightFormat()).isEqualTo(formats[k]);
            assertThat(m.parameterCount()).isEqualTo(fp32.parameterCount());
            double diff = m.logits(batch).sub(reference).amaxNumber().doubleValue();
            assertThat(diff / spread).as("%s max |logit diff| %s of %s", formats[k], diff, spread)
                    .isLessThan(bounds[k]).isGreaterThan(0);
            assertThat(Math.abs(m.loss(batch) - loss) / loss).as("%s loss", formats[k]).isLessThan(lossBounds[k]);
        }
        assertThat(fp32.compressed(WeightFormat.FP32)).isSameAs(fp32);
    }

    @Test
    void cachedDecodingOfACompressedModelEqualsItsFullForward() {
        GptModel m = GptModel.create(CONFIG, 21).compressed(WeightFormat.INT8);
        int[] seq = tokens(1, 40, 22)[0];
        INDArray full = m.logits(TokenBatch.of(new int[][] {seq}, new int[][] {seq}))
                .get(NDArrayIndex.point(0), NDArrayIndex.all(), NDArrayIndex.all());   // the GEMM path, 40 rows
        KvCache cache = m.newCache(1, 44);
        m.forward(cache, new int[][] {Arrays.copyOf(seq, 4)}, null, false);          // the packed kernels, 4 rows
        double diff = 0;
        for (int t = 4; t < seq.length; t++) {
            INDArray step = m.forward(cache, new int[][] {{seq[t]}}, null, false);   // one row
            diff = Math.max(diff, step.getRow(0).sub(full.getRow(t)).amaxNumber().doubleValue());
        }
        assertThat(diff).isLessThan(1e-4);
    }

    @Test
    void greedyGenerationThroughTheGeneratorFollowsTheCompressedModel() {
        for (WeightFormat format : new WeightFormat[] {WeightFormat.BF16, WeightFormat.INT8}) {
            GptModel m = GptModel.create(CONFIG, 31).compressed(format);
            int[] prompt = tokens(1, 5, 32)[0];
            GenerationResult r = Generator.of(m, Tokenizer.gpt2()).generate(prompt,
                    GenerationConfig.builder().maxNewTokens(10).ignoreEos(true).build());
            int[] seq = prompt;
            for (int step = 0; step < 10; step++) {
                INDArray logits = m.logits(TokenBatch.of(new int[][] {seq}, new int[][] {new int[seq.length]}));
                int next = logits.get(NDArrayIndex.point(0), NDArrayIndex.point(seq.length - 1)).argMax().getInt(0);
                seq = Arrays.copyOf(seq, seq.length + 1);
                seq[seq.length - 1] = next;
            }
            assertThat(r.ids()).as("%s", format).containsExactly(Arrays.copyOfRange(seq, prompt.length, seq.length));
        }
    }

    @Test
    void adaptersRunAroundCompressedProjections() {
        GptModel fp32 = GptModel.create(CONFIG, 41);
        GptModel int8 = fp32.compressed(WeightFormat.INT8);
        AtomicInteger calls = new AtomicInteger();
        ProjectionAdapter shift = new ProjectionAdapter() {
            @Override
            public void forwardOutput(INDArray x, INDArray y, Step step) {
                calls.incrementAndGet();
                y.muli(1.5);           // (a constant shift would vanish in the next layer norm)
            }
        };
        TokenBatch batch = TokenBatch.of(tokens(2, 12, 42), tokens(2, 12, 43));
        INDArray plain = int8.logits(batch);
        fp32.adapters().wrap(1, Projection.ATTN_C_PROJ, shift);
        int8.adapters().wrap(1, Projection.ATTN_C_PROJ, shift);
        INDArray adapted = int8.logits(batch);
        INDArray reference = fp32.logits(batch);
        assertThat(calls.get()).isEqualTo(2);
        assertThat(adapted.sub(plain).amaxNumber().doubleValue()).isGreaterThan(0.01);
        assertThat(adapted.sub(reference).amaxNumber().doubleValue() / reference.amaxNumber().doubleValue())
                .isLessThan(0.03);
    }

    @Test
    void trainingAndFloatAccessAreRefusedClearly() {
        GptModel fp32 = GptModel.create(CONFIG, 51);
        GptModel int8 = fp32.compressed(WeightFormat.INT8);
        TokenBatch batch = TokenBatch.of(tokens(1, 8, 52), tokens(1, 8, 53));
        assertThatThrownBy(() -> int8.forwardBackward(batch, 8, false, 0))
                .hasMessageContaining("training needs float32 weights").hasMessageContaining("int8");
        assertThatThrownBy(int8::unfreeze).hasMessageContaining("int8");
        assertThatThrownBy(int8::gradients).hasMessageContaining("int8");
        assertThatThrownBy(() -> int8.parameter("h.0.mlp.c_fc.weight"))
                .hasMessageContaining("'h.0.mlp.c_fc.weight' is held as int8");
        assertThatThrownBy(() -> int8.compressed(WeightFormat.BF16)).hasMessageContaining("only a float32 model");
        assertThat(int8.parameter("h.0.mlp.c_fc.bias")).isEqualTo(fp32.parameter("h.0.mlp.c_fc.bias"));
        assertThat(int8.compressedTensors()).hasSize(1 + 4 * CONFIG.layers());
        assertThat(int8.compressedTensors().get("h.0.mlp.c_fc.weight").dequantize().sub(
                fp32.parameter("h.0.mlp.c_fc.weight")).amaxNumber().doubleValue()).isGreaterThan(0).isLessThan(0.01);
        assertThat(int8.isFrozen()).isTrue();
    }

    private static float[] randomFloats(SplittableRandom rng, int n, double lo, double hi) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (lo + (hi - lo) * rng.nextDouble());
        }
        return v;
    }
}
