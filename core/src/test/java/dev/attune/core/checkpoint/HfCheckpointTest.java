package dev.attune.core.checkpoint;
import dev.attune.core.io.DType;
import dev.attune.core.io.ModelFileException;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.io.SafeTensorsWriter;
import dev.attune.core.io.TensorInfo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Loading and saving whole models; the saved files are parsed here independently of the reader. */
class HfCheckpointTest {

    @TempDir
    Path dir;

    static final GptConfig TINY = HfCheckpointInspectTest.TINY;

    @Test
    void savedCheckpointHasTheLayoutTransformersExpects() throws IOException {
        GptModel model = GptModel.create(TINY, 7);
        Path d = dir.resolve("saved");
        HfCheckpoint.save(model, d);

        byte[] bytes = Files.readAllBytes(d.resolve("model.safetensors"));
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) buf.getLong(0);
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, n, StandardCharsets.UTF_8));
        assertThat(header.get("__metadata__").toString()).isEqualTo("{\"format\":\"pt\"}");
        List<String> names = new ArrayList<>();
        header.fieldNames().forEachRemaining(names::add);
        names.remove("__metadata__");
        List<String> expected = new ArrayList<>();
        HfCheckpointInspectTest.handLayout(2).keySet().forEach(k -> expected.add("transformer." + k));
        assertThat(names).containsExactlyInAnyOrderElementsOf(expected); // no lm_head.weight: it is tied
        for (String name : names) {
            assertThat(header.get(name).get("dtype").asText()).as(name).isEqualTo("F32");
        }
        // Conv1D weights [in, out], and the values row-major as the model holds them.
        JsonNode fc = header.get("transformer.h.1.mlp.c_fc.weight");
        assertThat(fc.get("shape").toString()).isEqualTo("[6,10]");
        INDArray weight = model.parameter("h.1.mlp.c_fc.weight");
        int start = 8 + n + fc.get("data_offsets").get(0).asInt();
        for (int i = 0; i < 6; i++) {
            for (int j = 0; j < 10; j++) {
                assertThat(buf.getFloat(start + 4 * (i * 10 + j))).isEqualTo(weight.getFloat(i, j));
            }
        }

        JsonNode config = new ObjectMapper().readTree(d.resolve("config.json").toFile());
        assertThat(config.get("model_type").asText()).isEqualTo("gpt2");
        assertThat(config.get("architectures").get(0).asText()).isEqualTo("GPT2LMHeadModel");
        assertThat(config.get("n_layer").asInt()).isEqualTo(2);
        assertThat(config.get("n_inner").asInt()).isEqualTo(10);
        try (var files = Files.list(d)) {
            assertThat(files.map(f -> f.getFileName().toString()))
                    .containsExactlyInAnyOrder("config.json", "model.safetensors");
        }
    }

    @Test
    void roundTripsEveryWeightExactly() throws IOException {
        GptModel model = GptModel.create(TINY, 3);
        Path d = dir.resolve("rt");
        HfCheckpoint.save(model, d);
        HfCheckpoint.save(model, d); // over an existing checkpoint
        GptModel loaded = HfCheckpoint.load(d);
        assertThat(loaded.config()).isEqualTo(TINY);
        assertThat(loaded.parameters().toFloatVector()).containsExactly(model.parameters().toFloatVector());
        TokenBatch batch = TokenBatch.shifted(new int[][] {{1, 4, 2, 9, 10, 0}});
        assertThat(loaded.logits(batch).ravel().toFloatVector()).containsExactly(model.logits(batch).ravel().toFloatVector());
    }

    /**
     * A file as other tools write it: no prefix, half-precision types, mask buffers and an explicit tied head.
     * Values are multiples of 1/64 below 4, exact in F16 and BF16, so the loaded floats must equal them.
     */
    @Test
    void loadsHalfPrecisionUnprefixedFilesWithBuffersAndTiedHead() throws IOException {
        Random r = new Random(9);
        Map<String, long[]> layout = HfCheckpointInspectTest.handLayout(2);
        Map<String, float[]> values = new java.util.LinkedHashMap<>();
        SafeTensorsWriter w = SafeTensors.writer();
        int i = 0;
        for (Map.Entry<String, long[]> e : layout.entrySet()) {
            float[] v = new float[(int) TensorInfo.elementCount(e.getValue())];
            for (int k = 0; k < v.length; k++) {
                v[k] = (r.nextInt(512) - 256) / 64f;
            }
            values.put(e.getKey(), v);
            w.add(e.getKey(), i++ % 2 == 0 ? DType.F16 : DType.BF16, v, e.getValue());
        }
        w.add("lm_head.weight", DType.BF16, values.get("wte.weight"), layout.get("wte.weight"));
        w.add("h.0.attn.bias", new float[64], 1, 1, 8, 8);
        w.add("h.0.attn.masked_bias", new float[] {-1e4f});
        Path d = Files.createDirectories(dir.resolve("half"));
        w.write(d.resolve("model.safetensors"));
        TINY.writeJson(d.resolve("config.json"));

        GptModel model = HfCheckpoint.load(d);
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            assertThat(model.parameter(e.getKey()).ravel().toFloatVector()).as(e.getKey()).containsExactly(e.getValue());
        }
    }

    @Test
    void rejectsAnLmHeadThatDiffersFromTheEmbedding() throws IOException {
        GptModel model = GptModel.create(TINY, 5);
        Path d = dir.resolve("untied");
        HfCheckpoint.save(model, d);
        SafeTensorsWriter w = SafeTensors.writer().metadata("format", "pt");
        for (String name : model.parameterNames()) {
            w.add("transformer." + name, model.parameter(name));
        }
        INDArray head = model.parameter("wte.weight").dup();
        head.putScalar(3, 2, head.getFloat(3, 2) + 0.25f);
        w.add("lm_head.weight", head).write(d.resolve("model.safetensors"));
        assertThatThrownBy(() -> HfCheckpoint.load(d))
                .isInstanceOf(ModelFileException.class)
                .hasMessageStartingWith(d.resolve("model.safetensors").toString())
                .hasMessageContainingAll("'lm_head.weight' differs from wte.weight", "0.25", "ties");
    }

    @Test
    void loadReportsTheSameProblemsAsInspect() throws IOException {
        Path d = HfCheckpointInspectTest.checkpoint(dir.resolve("bad"), TINY, "transformer.",
                t -> t.put("h.1.ln_2.bias", new long[] {7}));
        assertThatThrownBy(() -> HfCheckpoint.load(d))
                .isInstanceOf(ModelFileException.class)
                .hasMessageContainingAll("'transformer.h.1.ln_2.bias' has shape [7], expected [6]");
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> HfCheckpoint.load(empty)).hasMessageContaining("no config.json");
    }
}
