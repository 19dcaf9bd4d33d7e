package dev.attune.core.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.config.GptConfig;
import dev.attune.core.io.DType;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.io.SafeTensorsWriter;
import dev.attune.core.io.TensorInfo;
import dev.attune.core.model.CompressedTensor;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.model.WeightFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Saving and loading compressed models: bit-exact round trips, the file layout parsed by hand, conversions. */
class CompressedCheckpointTest {

    @TempDir
    Path dir;

    /** n_embd 40: an int8 row of wte or c_attn's input is one block of 32 and a partial block of 8. */
    private static final GptConfig CONFIG = GptConfig.builder().vocabSize(50).contextLength(16).embeddingSize(40)
            .heads(2).layers(2).innerSize(70).dropout(0.0).initializerRange(0.2).bosTokenId(0).eosTokenId(0).build();

    private static final TokenBatch BATCH = TokenBatch.shifted(new int[][] {{1, 4, 2, 9, 10, 0, 33, 49}});

    @Test
    void compressedModelsRoundTripBitForBit() throws IOException {
        GptModel fp32 = GptModel.create(CONFIG, 3);
        for (WeightFormat format : new WeightFormat[] {WeightFormat.BF16, WeightFormat.INT8}) {
            GptModel model = fp32.compressed(format);
            Path d = dir.resolve(format.id());
            HfCheckpoint.save(model, d);
            GptModel loaded = HfCheckpoint.load(d, format);
            assertThat(loaded.weightFormat()).isEqualTo(format);
            assertThat(loaded.parameters().toFloatVector()).containsExactly(model.parameters().toFloatVector());
            for (String name : GptModel.compressedNames(CONFIG)) {
                CompressedTensor a = model.compressedTensors().get(name);
                CompressedTensor b = loaded.compressedTensors().get(name);
                assertThat(b.storedBytes()).as(name).isEqualTo(a.storedBytes());
                if (format == WeightFormat.INT8) {
                    assertThat(b.scales()).as(name).containsExactly(a.scales());
                    assertThat(b.groupSize()).isEqualTo(32);
                }
            }
            assertThat(loaded.logits(BATCH).ravel().toFloatVector())
                    .containsExactly(model.logits(BATCH).ravel().toFloatVector());
            // the file is half (bf16) or a bit over a quarter (int8) of the float32 file's matrices
            assertThat(Files.size(d.resolve(HfCheckpoint.WEIGHTS_FILE))).isLessThan(
                    (long) (fp32.parameterCount() * 4 * (format == WeightFormat.BF16 ? 0.6 : 0.4)));
        }
    }

    /** The int8 file read byte by byte: I8 weights in the usual shapes, F32 scales beside them, q * scale values. */
    @Test
    void int8FileHoldsI8WeightsAndScaleTensors() throws IOException {
        GptModel model = GptModel.create(CONFIG, 5).compressed(WeightFormat.INT8);
        HfCheckpoint.save(model, dir);
        byte[] bytes = Files.readAllBytes(dir.resolve(HfCheckpoint.WEIGHTS_FILE));
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) buf.getLong(0);
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, n, StandardCharsets.UTF_8));
        assertThat(header.get("__metadata__").get("attune.weight_format").asText()).isEqualTo("int8");
        assertThat(header.get("__metadata__").get("format").asText()).isEqualTo("pt");
        JsonNode w = header.get("transformer.h.1.attn.c_attn.weight");
        JsonNode s = header.get("transformer.h.1.attn.c_attn.weight_scale");
        assertThat(w.get("dtype").asText()).isEqualTo("I8");
        assertThat(w.get("shape").toString()).isEqualTo("[40,120]");
        assertThat(s.get("dtype").asText()).isEqualTo("F32");
        assertThat(s.get("shape").toString()).isEqualTo("[2,120]");          // 40 inputs in blocks of 32
        assertThat(header.get("transformer.wte.weight_scale").get("shape").toString()).isEqualTo("[50,2]");
        assertThat(header.get("transformer.h.1.attn.c_attn.bias").get("dtype").asText()).isEqualTo("F32");
        INDArray values = model.compressedTensors().get("h.1.attn.c_attn.weight").dequantize();
        int wStart = 8 + n + w.get("data_offsets").get(0).asInt();
        int sStart = 8 + n + s.get("data_offsets").get(0).asInt();
        for (int i = 0; i < 40; i++) {
            for (int o = 0; o < 120; o++) {
                float byHand = bytes[wStart + i * 120 + o] * buf.getFloat(sStart + 4 * ((i / 32) * 120 + o));
                assertThat(values.getFloat(i, o)).isEqualTo(byHand);
            }
        }
    }

    @Test
    void anyCheckpointLoadsInAnyFormat() throws IOException {
        GptModel fp32 = GptModel.create(CONFIG, 7);
        HfCheckpoint.save(fp32, dir.resolve("fp32"));
        HfCheckpoint.save(fp32.compressed(WeightFormat.INT8), dir.resolve("int8"));
        HfCheckpoint.save(fp32.compressed(WeightFormat.BF16), dir.resolve("bf16"));

        // quantizing while loading is the same as loading, then compressing
        GptModel int8 = HfCheckpoint.load(dir.resolve("fp32"), WeightFormat.INT8);
        assertThat(int8.logits(BATCH).ravel().toFloatVector())
                .containsExactly(fp32.compressed(WeightFormat.INT8).logits(BATCH).ravel().toFloatVector());
        // a compressed file loads as float32 with the values it stands for
        for (WeightFormat format : new WeightFormat[] {WeightFormat.INT8, WeightFormat.BF16}) {
            GptModel back = HfCheckpoint.load(dir.resolve(format.id()));
            assertThat(back.weightFormat()).isEqualTo(WeightFormat.FP32);
            for (CompressedTensor t : fp32.compressed(format).compressedTensors().values()) {
                assertThat(back.parameter(t.name())).as(t.name()).isEqualTo(t.dequantize());
            }
        }
        // bf16 values quantized to int8 while loading
        GptModel bf16ToInt8 = HfCheckpoint.load(dir.resolve("bf16"), WeightFormat.INT8);
        assertThat(bf16ToInt8.weightFormat()).isEqualTo(WeightFormat.INT8);
        assertThat(HfCheckpoint.inspect(dir.resolve("int8")).dtypes()).containsKeys(DType.I8, DType.F32);
    }

    @Test
    void brokenInt8FilesFailNamingTheTensor() throws IOException {
        GptModel model = GptModel.create(CONFIG, 9).compressed(WeightFormat.INT8);
        HfCheckpoint.save(model, dir);
        Path file = dir.resolve(HfCheckpoint.WEIGHTS_FILE);
        rewrite(file, "transformer.h.0.mlp.c_fc.weight_scale", null);
        assertThatThrownBy(() -> HfCheckpoint.load(dir, WeightFormat.INT8))
                .hasMessageContaining("'transformer.h.0.mlp.c_fc.weight' is stored as I8 without its scales "
                        + "'transformer.h.0.mlp.c_fc.weight_scale'");

        HfCheckpoint.save(model, dir);
        rewrite(file, "transformer.h.0.mlp.c_fc.weight_scale", new float[3 * 70]);
        assertThatThrownBy(() -> HfCheckpoint.load(dir))
                .hasMessageContaining("'transformer.h.0.mlp.c_fc.weight_scale' has shape [3, 70], expected [2, 70] "
                        + "([40, 70] with axis 0 in blocks of 32)");

        HfCheckpoint.save(model, dir);
        float[] nan = new float[2 * 70];
        nan[5] = Float.NaN;
        rewrite(file, "transformer.h.0.mlp.c_fc.weight_scale", nan);
        assertThatThrownBy(() -> HfCheckpoint.load(dir, WeightFormat.INT8))
                .hasMessageContaining("'h.0.mlp.c_fc.weight' (not finite scales)");
    }

    /** Copies every tensor of a file but one, which is dropped (null) or replaced by F32 values shaped [n / 70, 70]. */
    private static void rewrite(Path file, String name, float[] replacement) throws IOException {
        SafeTensorsWriter w = SafeTensors.writer();
        try (SafeTensors in = SafeTensors.open(file)) {
            w.metadata(in.metadata());
            for (TensorInfo t : in.tensors()) {
                if (t.name().equals(name)) {
                    if (replacement != null) {
                        w.add(name, replacement, replacement.length / 70, 70);
                    }
                } else {
                    w.addRaw(t.name(), t.dtype(), in.readBytes(t.name()), t.shape());
                }
            }
        }
        w.write(file);
    }
}
