package dev.attune.core.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.config.GptConfig;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.GenerationResult;
import dev.attune.core.generate.Generator;
import dev.attune.core.tokenizer.Tokenizer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The decoding layout ({@link GptModel#forDecoding()}): its float32 kernel against a double-precision sum, and the
 * model against the float32 model it came from, on every path (GEMM, one-token step, LM head, generation), with
 * adapters, through a checkpoint, and where it must refuse.
 */
class DecodingLayoutTest {

    /** Width 52 and 4 heads: inputs of 52, 156 and 208 floats, so the kernel's tails run too. */
    private static final GptConfig CONFIG = GptConfig.builder().vocabSize(301).contextLength(48).embeddingSize(52)
            .heads(4).layers(2).dropout(0.0).initializerRange(0.1).bosTokenId(0).eosTokenId(0).build();

    @AfterEach
    void pathsBack() {
        Block.forceGeneralPath = false;
        PackedKernels.forceScalar = false;
    }

    @Test
    void fp32KernelMatchesADoublePrecisionSumOnRandomShapes() {
        SplittableRandom rng = new SplittableRandom(1);
        int[] widths = {1, 5, 16, 63, 64, 65, 100, 773};
        int[] outputs = {1, 3, 17, 40};
        int checked = 0;
        for (boolean scalar : new boolean[] {false, true}) {
            PackedKernels.forceScalar = scalar;
            for (int in : widths) {
                for (int out : outputs) {
                    ByteBuffer w = ByteBuffer.allocateDirect(4 * out * in).order(ByteOrder.LITTLE_ENDIAN);
                    for (int i = 0; i < out * in; i++) {
                        w.putFloat(4 * i, (float) rng.nextGaussian());
                    }
                    for (int rows : new int[] {1, 3, 4, 5, 8}) {
                        float[] x = new float[rows * in];
                        for (int i = 0; i < x.length; i++) {
                            x[i] = (float) (rng.nextDouble() * 2 - 1);
                        }
                        float[] y = new float[rows * out];
                        PackedKernels.fp32(x, rows, w, in, out, y, 0, out / 2);
                        PackedKernels.fp32(x, rows, w, in, out, y, out / 2, out);
                        for (int r = 0; r < rows; r++) {
                            for (int o = 0; o < out; o++) {
                                double sum = 0;
                                double magnitude = 0;
                                for (int i = 0; i < in; i++) {
                                    double term = (double) w.getFloat(4 * (o * in + i)) * x[r * in + i];
                                    sum += term;
                                    magnitude += Math.abs(term);
                                }
                                if (Math.abs(y[r * out + o] - sum) > 1e-5 * magnitude + 1e-6) {
                                    throw new AssertionError("fp32 in=" + in + " out=" + out + " rows=" + rows
                                            + " scalar=" + scalar + " [" + r + "," + o + "]: " + y[r * out + o]
                                            + " vs " + sum);
                                }
                                checked++;
                            }
                        }
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(2 * Arrays.stream(outputs).sum() * widths.length * (1 + 3 + 4 + 5 + 8));
    }

    @Test
    void theLayoutHoldsTheSameValuesAndShowsThemInTheHuggingFaceShape() {
        GptModel plain = GptModel.create(CONFIG, 2);
        NaiveGpt.randomize(plain, 3);
        GptModel decoding = plain.forDecoding();
        assertThat(decoding.decodingLayout()).isTrue();
        assertThat(plain.decodingLayout()).isFalse();
        assertThat(decoding.forDecoding()).isSameAs(decoding);
        assertThat(decoding.isFrozen()).isTrue();
        assertThat(decoding.parameterCount()).isEqualTo(plain.parameterCount());
        for (String name : plain.parameterNames()) {
            assertThat(decoding.parameter(name).shape()).as(name).isEqualTo(plain.parameter(name).shape());
            assertThat(decoding.parameter(name).equals(plain.parameter(name))).as(name).isTrue();
        }
        // the flat buffer really holds the projections as [out, in]: row o of c_fc's storage is output o's weights
        INDArray cFc = plain.parameter("h.1.mlp.c_fc.weight");                     // [C, 4C]
        int c = CONFIG.embeddingSize();
        long offset = 0;
        for (String name : plain.parameterNames()) {
            if (name.equals("h.1.mlp.c_fc.weight")) {
                break;
            }
            offset += plain.parameter(name).length();
        }
        INDArray flat = decoding.parameters();
        for (int o : new int[] {0, 7, 4 * c - 1}) {
            for (int i : new int[] {0, 5, c - 1}) {
                assertThat(flat.getFloat(offset + (long) o * c + i)).isEqualTo(cFc.getFloat(i, o));
            }
        }
        assertThat(decoding.toString()).contains("decoding layout");
        assertThat(plain.parameter("h.1.mlp.c_fc.weight").getFloat(3, 9)).as("the original is left as it was")
                .isEqualTo(cFc.getFloat(3, 9));
    }

    @Test
    void everyPathGivesThePlainModelsLogits() {
        GptModel plain = GptModel.create(CONFIG, 4);
        NaiveGpt.randomize(plain, 5);                   // non-trivial biases and layer norms
        GptModel decoding = plain.forDecoding();
        int[][] ids = tokens(3, 40, 6);
        TokenBatch batch = TokenBatch.of(ids, tokens(3, 40, 7));
        INDArray reference = plain.logits(batch);       // the GEMM path, W as the transposed operand in the layout
        assertThat(reference.amaxNumber().doubleValue()).isGreaterThan(0.1);
        assertThat(decoding.logits(batch).sub(reference).amaxNumber().doubleValue()).isLessThan(2e-5);
        assertThat(Math.abs(decoding.loss(batch) - plain.loss(batch))).isLessThan(1e-5);
        // decoding steps: batch 1 (one-row dot), 4 (four-row kernel), 5 (both), 3 (rows left after none)
        for (boolean scalar : new boolean[] {false, true}) {
            PackedKernels.forceScalar = scalar;
            for (int rows : new int[] {1, 3, 4, 5}) {
                int[][] prompt = Arrays.copyOf(tokens(5, 6, 8), rows);
                KvCache expectedCache = plain.newCache(rows, 20);
                KvCache actualCache = decoding.newCache(rows, 20);
                double diff = plain.forward(expectedCache, prompt, null, false).sub(
                        decoding.forward(actualCache, prompt, null, false)).amaxNumber().doubleValue();
                for (int step = 0; step < 8; step++) {
                    int[][] next = new int[rows][1];
                    for (int r = 0; r < rows; r++) {
                        next[r][0] = (step * 37 + r * 101) % CONFIG.vocabSize();
                    }
                    Block.forceGeneralPath = true;                      // the plain model's general path
                    INDArray expected = plain.forward(expectedCache, next, null, false);
                    Block.forceGeneralPath = false;
                    INDArray actual = decoding.forward(actualCache, next, null, false);
                    diff = Math.max(diff, actual.sub(expected).amaxNumber().doubleValue());
                }
                assertThat(diff).as("%d rows, scalar %s: max |logit diff|", rows, scalar).isLessThan(2e-5);
            }
        }
    }

    @Test
    void greedyGenerationFollowsThePlainModel() {
        GptModel plain = GptModel.create(CONFIG, 9);
        GptModel decoding = plain.forDecoding();
        int[] prompt = tokens(1, 5, 10)[0];
        GenerationConfig greedy = GenerationConfig.builder().maxNewTokens(16).ignoreEos(true).build();
        GenerationResult expected = Generator.of(plain, Tokenizer.gpt2()).generate(prompt, greedy);
        GenerationResult actual = Generator.of(decoding, Tokenizer.gpt2()).generate(prompt, greedy);
        assertThat(actual.ids()).containsExactly(expected.ids());
    }

    @Test
    void adaptersRunAroundTheTransposedProjections() {
        GptModel plain = GptModel.create(CONFIG, 11);
        GptModel decoding = plain.forDecoding();
        AtomicInteger calls = new AtomicInteger();
        ProjectionAdapter scale = new ProjectionAdapter() {
            @Override
            public void forwardOutput(INDArray x, INDArray y, Step step) {
                calls.incrementAndGet();
                y.muli(1.5);           // (a constant shift would vanish in the next layer norm)
            }
        };
        TokenBatch batch = TokenBatch.of(tokens(2, 12, 12), tokens(2, 12, 13));
        INDArray before = decoding.logits(batch);
        plain.adapters().wrap(1, Projection.MLP_C_PROJ, scale);
        decoding.adapters().wrap(1, Projection.MLP_C_PROJ, scale);
        INDArray adapted = decoding.logits(batch);
        assertThat(calls.get()).isEqualTo(1);
        assertThat(adapted.sub(before).amaxNumber().doubleValue()).isGreaterThan(0.01);
        assertThat(adapted.sub(plain.logits(batch)).amaxNumber().doubleValue()).isLessThan(2e-5);
        // one decoding step with the adapter: the layer takes the general path, the result still matches
        KvCache cache = decoding.newCache(1, 8);
        KvCache plainCache = plain.newCache(1, 8);
        decoding.forward(cache, new int[][] {{1, 2, 3}}, null, false);
        plain.forward(plainCache, new int[][] {{1, 2, 3}}, null, false);
        assertThat(decoding.forward(cache, new int[][] {{4}}, null, false)
                .sub(plain.forward(plainCache, new int[][] {{4}}, null, false)).amaxNumber().doubleValue())
                .isLessThan(2e-5);
    }

    @Test
    void aCheckpointSavedFromTheLayoutIsTheUsualOne(@TempDir Path dir) throws Exception {
        GptModel plain = GptModel.create(CONFIG, 14);
        NaiveGpt.randomize(plain, 15);
        HfCheckpoint.save(plain.forDecoding(), dir);
        GptModel back = HfCheckpoint.load(dir);
        assertThat(back.decodingLayout()).isFalse();
        for (String name : plain.parameterNames()) {
            assertThat(back.parameter(name).equals(plain.parameter(name))).as(name).isTrue();
        }
    }

    @Test
    void bothTransposesMoveEveryElementOfABlockAndNothingAroundIt() {
        int[][] shapes = {{1, 5}, {5, 1}, {32, 32}, {37, 70}, {70, 37}, {33, 96}};
        for (boolean host : new boolean[] {true, false}) {
            for (int[] shape : shapes) {
                int rows = shape[0];
                int cols = shape[1];
                int n = rows * cols;
                INDArray flat = org.nd4j.linalg.factory.Nd4j.arange(n + 7).castTo(org.nd4j.linalg.api.buffer
                        .DataType.FLOAT);
                if (host) {
                    GptModel.transposeOnHost(flat, 3, rows, cols, new float[n + 5], new float[n]);
                } else {
                    GptModel.transposeWithNd4j(flat, 3, rows, cols);
                }
                for (int i = 0; i < 3; i++) {
                    assertThat(flat.getFloat(i)).isEqualTo(i);
                    assertThat(flat.getFloat(3 + n + i)).isEqualTo(3 + n + i);
                }
                for (int r = 0; r < rows; r++) {
                    for (int c = 0; c < cols; c++) {
                        // element [r, c] of the block, value 3 + r cols + c, now lies at [c, r] of a [cols, rows] one
                        assertThat(flat.getFloat(3 + (long) c * rows + r)).as("host=%s %dx%d [%d,%d]", host, rows,
                                cols, r, c).isEqualTo(3 + r * cols + c);
                    }
                }
            }
        }
    }

    @Test
    void givingUpAModelsWeightsGivesTheCopysLayoutWithoutACopy() {
        GptModel plain = GptModel.create(CONFIG, 19);
        NaiveGpt.randomize(plain, 20);
        GptModel copied = plain.forDecoding();
        INDArray flat = plain.parameters();
        GptModel inPlace = GptModel.overForDecoding(CONFIG, flat);
        assertThat(inPlace.decodingLayout()).isTrue();
        assertThat(inPlace.isFrozen()).isTrue();
        assertThat(inPlace.parameters()).isSameAs(flat);
        assertThat(inPlace.parameters().equals(copied.parameters())).as("the same bits in the same places").isTrue();
        for (String name : copied.parameterNames()) {
            assertThat(inPlace.parameter(name).equals(copied.parameter(name))).as(name).isTrue();
        }
        int[][] ids = tokens(2, 20, 21);
        TokenBatch batch = TokenBatch.of(ids, tokens(2, 20, 22));
        assertThat(inPlace.logits(batch).equals(copied.logits(batch))).isTrue();
        KvCache a = inPlace.newCache(1, 24);
        KvCache b = copied.newCache(1, 24);
        assertThat(inPlace.nextLogits(a, new int[][] {ids[0]}, null))
                .isEqualTo(copied.nextLogits(b, new int[][] {ids[0]}, null));
        assertThat(inPlace.nextLogits(a, new int[][] {{9}}, null)).isEqualTo(copied.nextLogits(b, new int[][] {{9}},
                null));
        assertThatThrownBy(() -> GptModel.overForDecoding(CONFIG, flat.get(NDArrayIndex.interval(0, 10))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dense float32 vector");
    }

    @Test
    void aCheckpointLoadsForDecodingAsTheCopyWouldHoldIt(@TempDir Path dir) throws Exception {
        GptModel plain = GptModel.create(CONFIG, 23);
        NaiveGpt.randomize(plain, 24);
        HfCheckpoint.save(plain, dir.resolve("fp32"));
        GptModel loaded = HfCheckpoint.loadForDecoding(dir.resolve("fp32"), WeightFormat.FP32);
        assertThat(loaded.decodingLayout()).isTrue();
        assertThat(loaded.parameters().equals(plain.forDecoding().parameters())).isTrue();
        // int8 tensors do not take the host path: loaded in place, dequantized, then transposed in place
        HfCheckpoint.save(plain.compressed(WeightFormat.INT8), dir.resolve("int8"));
        GptModel dequantized = HfCheckpoint.loadForDecoding(dir.resolve("int8"), WeightFormat.FP32);
        assertThat(dequantized.decodingLayout()).isTrue();
        assertThat(dequantized.parameters().equals(HfCheckpoint.load(dir.resolve("int8")).forDecoding().parameters()))
                .isTrue();
        GptModel bf16 = HfCheckpoint.loadForDecoding(dir.resolve("fp32"), WeightFormat.BF16);
        assertThat(bf16.decodingLayout()).isFalse();
        assertThat(bf16.weightFormat()).isEqualTo(WeightFormat.BF16);
    }

    @Test
    void trainingAndOtherFormatsAreRefusedClearly() {
        GptModel plain = GptModel.create(CONFIG, 16);
        GptModel decoding = plain.forDecoding();
        TokenBatch batch = TokenBatch.of(tokens(1, 8, 17), tokens(1, 8, 18));
        assertThatThrownBy(() -> decoding.forwardBackward(batch, 8, false, 0))
                .hasMessageContaining("training needs the training layout").hasMessageContaining("forDecoding()");
        assertThatThrownBy(decoding::unfreeze).hasMessageContaining("laid out for decoding");
        assertThatThrownBy(() -> plain.compressed(WeightFormat.INT8).forDecoding())
                .hasMessageContaining("for float32 models").hasMessageContaining("int8");
        // compressing the layout works from its Hugging Face views
        GptModel fromLayout = decoding.compressed(WeightFormat.BF16);
        GptModel fromPlain = plain.compressed(WeightFormat.BF16);
        for (String name : GptModel.compressedNames(CONFIG)) {
            assertThat(fromLayout.compressedTensors().get(name).storedBytes())
                    .isEqualTo(fromPlain.compressedTensors().get(name).storedBytes());
        }
    }

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
}
