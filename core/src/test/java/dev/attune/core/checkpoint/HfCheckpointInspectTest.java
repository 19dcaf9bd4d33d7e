package dev.attune.core.checkpoint;
import dev.attune.core.io.DType;
import dev.attune.core.io.ModelFileException;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.io.SafeTensorsTest;
import dev.attune.core.io.SafeTensorsWriter;
import dev.attune.core.io.TensorInfo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoint directories checked from their headers alone: layout, names, and every way they can be wrong. */
class HfCheckpointInspectTest {

    @TempDir
    Path dir;

    static final GptConfig TINY = GptConfig.builder()
            .vocabSize(11).contextLength(8).embeddingSize(6).layers(2).heads(2).innerSize(10)
            .bosTokenId(0).eosTokenId(0).build();

    /** The expected GPT-2 tensors, written by hand from the architecture (C=6, T=8, V=11, inner 10). */
    static Map<String, long[]> handLayout(int layers) {
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("wte.weight", new long[] {11, 6});
        m.put("wpe.weight", new long[] {8, 6});
        for (int i = 0; i < layers; i++) {
            m.put("h." + i + ".ln_1.weight", new long[] {6});
            m.put("h." + i + ".ln_1.bias", new long[] {6});
            m.put("h." + i + ".attn.c_attn.weight", new long[] {6, 18});
            m.put("h." + i + ".attn.c_attn.bias", new long[] {18});
            m.put("h." + i + ".attn.c_proj.weight", new long[] {6, 6});
            m.put("h." + i + ".attn.c_proj.bias", new long[] {6});
            m.put("h." + i + ".ln_2.weight", new long[] {6});
            m.put("h." + i + ".ln_2.bias", new long[] {6});
            m.put("h." + i + ".mlp.c_fc.weight", new long[] {6, 10});
            m.put("h." + i + ".mlp.c_fc.bias", new long[] {10});
            m.put("h." + i + ".mlp.c_proj.weight", new long[] {10, 6});
            m.put("h." + i + ".mlp.c_proj.bias", new long[] {6});
        }
        m.put("ln_f.weight", new long[] {6});
        m.put("ln_f.bias", new long[] {6});
        return m;
    }

    static float[] random(Random r, long[] shape) {
        float[] v = new float[(int) TensorInfo.elementCount(shape)];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    /** Writes config.json and model.safetensors; {@code edit} may change the tensor map (name -> shape) first. */
    static Path checkpoint(Path dir, GptConfig config, String prefix, Consumer<Map<String, long[]>> edit)
            throws IOException {
        Map<String, long[]> tensors = handLayout(2);
        edit.accept(tensors);
        Random r = new Random(5);
        SafeTensorsWriter w = SafeTensors.writer().metadata("format", "pt");
        tensors.forEach((name, shape) -> w.add(name.startsWith("lm_head") ? name : prefix + name,
                random(r, shape), shape));
        Files.createDirectories(dir);
        w.write(dir.resolve("model.safetensors"));
        config.writeJson(dir.resolve("config.json"));
        return dir;
    }

    @Test
    void modelLayoutMatchesTheHandWrittenList() {
        Map<String, long[]> layout = GptModel.parameterShapes(TINY);
        Map<String, long[]> hand = handLayout(2);
        assertThat(layout.keySet()).containsExactlyElementsOf(hand.keySet());
        hand.forEach((name, shape) -> assertThat(layout.get(name)).as(name).containsExactly(shape));
    }

    @Test
    void summarisesAValidCheckpointWithBuffersAndPrefix() throws IOException {
        Path d = checkpoint(dir.resolve("ok"), TINY, "transformer.", t -> {
            t.put("h.0.attn.bias", new long[] {1, 1, 8, 8});
            t.put("h.1.attn.masked_bias", new long[] {});
        });
        HfCheckpoint.Summary s = HfCheckpoint.inspect(d);
        assertThat(s.config()).isEqualTo(TINY);
        long expected = 11 * 6 + 8 * 6 + 2 * (6 + 6 + 6 * 18 + 18 + 36 + 6 + 6 + 6 + 60 + 10 + 60 + 6) + 12;
        assertThat(s.parameterCount()).isEqualTo(expected);
        assertThat(s.tensors()).hasSize(2 * 12 + 4 + 2);
        assertThat(s.dtypes()).containsExactly(Map.entry(DType.F32, 30));
        assertThat(s.ignored()).containsExactlyInAnyOrder("transformer.h.0.attn.bias", "transformer.h.1.attn.masked_bias");
        assertThat(s.metadata()).containsEntry("format", "pt");
        assertThat(s.weightFiles()).containsExactly(d.resolve("model.safetensors"));
        assertThat(s.weightBytes()).isEqualTo(Files.size(d.resolve("model.safetensors")));
    }

    @Test
    void acceptsNamesWithoutPrefixAndAnLmHeadOfTheRightShape() throws IOException {
        Path d = checkpoint(dir.resolve("bare"), TINY, "", t -> t.put("lm_head.weight", new long[] {11, 6}));
        assertThat(HfCheckpoint.inspect(d).ignored()).containsExactly("lm_head.weight");
    }

    @Test
    void rejectsDirectoriesThatAreNotCheckpoints() throws IOException {
        Path none = dir.resolve("none");
        assertThatThrownBy(() -> HfCheckpoint.inspect(none))
                .isInstanceOf(ModelFileException.class).hasMessageContainingAll(none.toString(), "no such");

        Path file = Files.writeString(dir.resolve("file.txt"), "x");
        assertThatThrownBy(() -> HfCheckpoint.inspect(file)).hasMessageContaining("not a directory");

        Path noConfig = Files.createDirectories(dir.resolve("noconfig"));
        SafeTensors.writer().add("wte.weight", new float[] {1}, 1, 1).write(noConfig.resolve("model.safetensors"));
        assertThatThrownBy(() -> HfCheckpoint.inspect(noConfig))
                .isInstanceOf(ModelFileException.class)
                .hasMessageStartingWith(noConfig.toString())
                .hasMessageContaining("no config.json");

        Path noWeights = Files.createDirectories(dir.resolve("noweights"));
        TINY.writeJson(noWeights.resolve("config.json"));
        assertThatThrownBy(() -> HfCheckpoint.inspect(noWeights)).hasMessageContaining("no model.safetensors");

        Files.write(noWeights.resolve("pytorch_model.bin"), new byte[] {1});
        assertThatThrownBy(() -> HfCheckpoint.inspect(noWeights))
                .hasMessageContainingAll("pytorch_model.bin", "safe_serialization=True");

        Path badConfig = Files.createDirectories(dir.resolve("badconfig"));
        Files.writeString(badConfig.resolve("config.json"), "{\"model_type\": \"llama\"}");
        assertThatThrownBy(() -> HfCheckpoint.inspect(badConfig))
                .hasMessageContainingAll("config.json", "llama");
    }

    @Test
    void namesMissingTensors() throws IOException {
        Path d = checkpoint(dir.resolve("missing"), TINY, "transformer.", t -> t.remove("h.1.mlp.c_fc.bias"));
        assertThatThrownBy(() -> HfCheckpoint.inspect(d))
                .isInstanceOf(ModelFileException.class)
                .hasMessageStartingWith(d.resolve("model.safetensors").toString())
                .hasMessageContainingAll("missing tensor h.1.mlp.c_fc.bias");
    }

    @Test
    void namesWrongShapesWithExpectedAndActual() throws IOException {
        Path d = checkpoint(dir.resolve("shape"), TINY, "transformer.",
                t -> t.put("h.0.attn.c_attn.weight", new long[] {18, 6})); // [out, in]: a Linear layout
        assertThatThrownBy(() -> HfCheckpoint.inspect(d))
                .hasMessageContainingAll("'transformer.h.0.attn.c_attn.weight' has shape [18, 6], expected [6, 18]");
    }

    @Test
    void explainsAConfigThatDoesNotMatchTheTensors() throws IOException {
        GptConfig threeLayers = TINY.toBuilder().layers(3).build();
        Path d = checkpoint(dir.resolve("layers"), threeLayers, "transformer.", t -> { });
        assertThatThrownBy(() -> HfCheckpoint.inspect(d))
                .hasMessageContainingAll("does not match config.json", "n_layer=3",
                        "config.json says n_layer=3 but the weights hold 2 layers", "missing tensors h.2.ln_1.weight");

        GptConfig wider = TINY.toBuilder().vocabSize(12).build();
        Path v = checkpoint(dir.resolve("vocab"), wider, "transformer.", t -> { });
        assertThatThrownBy(() -> HfCheckpoint.inspect(v))
                .hasMessageContainingAll("vocab_size=12", "'transformer.wte.weight' has shape [11, 6], expected [12, 6]");
    }

    @Test
    void rejectsUnexpectedDuplicatedAndUnreadableTensors() throws IOException {
        Path extra = checkpoint(dir.resolve("extra"), TINY, "transformer.", t -> t.put("score.weight", new long[] {2, 6}));
        assertThatThrownBy(() -> HfCheckpoint.inspect(extra))
                .hasMessageContainingAll("unexpected tensor transformer.score.weight");

        Path lm = checkpoint(dir.resolve("lm"), TINY, "transformer.", t -> t.put("lm_head.weight", new long[] {10, 6}));
        assertThatThrownBy(() -> HfCheckpoint.inspect(lm))
                .hasMessageContainingAll("'lm_head.weight' has shape [10, 6], expected [11, 6]");

        Path twice = dir.resolve("twice");
        checkpoint(twice, TINY, "transformer.", t -> { });
        Map<String, long[]> layout = handLayout(2);
        SafeTensorsWriter w = SafeTensors.writer();
        layout.forEach((name, shape) -> w.add("transformer." + name, random(new Random(1), shape), shape));
        w.add("wte.weight", random(new Random(1), layout.get("wte.weight")), layout.get("wte.weight"));
        w.write(twice.resolve("model.safetensors"));
        assertThatThrownBy(() -> HfCheckpoint.inspect(twice))
                .hasMessageContainingAll("'wte.weight' is stored twice", "'transformer.wte.weight'");

        Path ints = dir.resolve("ints");
        checkpoint(ints, TINY, "", t -> t.remove("ln_f.bias"));
        byte[] old = Files.readAllBytes(ints.resolve("model.safetensors"));
        // Append an I64 ln_f.bias by rewriting the file by hand: header + data + 6 int64 zeros.
        long n = java.nio.ByteBuffer.wrap(old).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(old, 8, (int) n, StandardCharsets.UTF_8).trim();
        int dataLength = old.length - 8 - (int) n;
        String patched = header.substring(0, header.length() - 1) + ",\"ln_f.bias\":{\"dtype\":\"I64\",\"shape\":[6],"
                + "\"data_offsets\":[" + dataLength + "," + (dataLength + 48) + "]}}";
        byte[] data = java.util.Arrays.copyOfRange(old, 8 + (int) n, old.length);
        Files.write(ints.resolve("model.safetensors"),
                SafeTensorsTest.concat(SafeTensorsTest.file(patched, data), new byte[48]));
        assertThatThrownBy(() -> HfCheckpoint.inspect(ints))
                .hasMessageContainingAll("'ln_f.bias' is stored as I64");
    }

    @Test
    void readsShardedCheckpointsAndNamesAMissingShard() throws IOException {
        Path d = Files.createDirectories(dir.resolve("sharded"));
        TINY.writeJson(d.resolve("config.json"));
        Map<String, long[]> layout = handLayout(2);
        SafeTensorsWriter first = SafeTensors.writer().metadata("format", "pt");
        SafeTensorsWriter second = SafeTensors.writer().metadata("format", "pt");
        StringBuilder map = new StringBuilder();
        Random r = new Random(2);
        for (Map.Entry<String, long[]> e : layout.entrySet()) {
            boolean early = e.getKey().startsWith("h.0") || e.getKey().startsWith("w");
            String shard = early ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
            (early ? first : second).add("transformer." + e.getKey(), random(r, e.getValue()), e.getValue());
            map.append(map.length() == 0 ? "" : ",").append("\"transformer.").append(e.getKey()).append("\":\"")
                    .append(shard).append('"');
        }
        first.write(d.resolve("model-00001-of-00002.safetensors"));
        Files.writeString(d.resolve("model.safetensors.index.json"),
                "{\"metadata\":{},\"weight_map\":{" + map + "}}");
        assertThatThrownBy(() -> HfCheckpoint.inspect(d))
                .hasMessageContainingAll("model.safetensors.index.json", "model-00002-of-00002.safetensors",
                        "does not exist");
        second.write(d.resolve("model-00002-of-00002.safetensors"));
        HfCheckpoint.Summary s = HfCheckpoint.inspect(d);
        assertThat(s.weightFiles()).hasSize(2);
        assertThat(s.tensors()).hasSize(layout.size());
    }
}
