package dev.attune.core.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.config.GptConfig;
import dev.attune.core.io.DType;
import dev.attune.core.io.ModelFileException;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.io.SafeTensorsWriter;
import dev.attune.core.io.TensorInfo;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.model.WeightFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Float32 checkpoints read into host memory first and handed to ND4J without a copy ({@code loadThroughHost}, the
 * path {@link HfCheckpoint#load(Path)} takes for them) against the in-place load into ND4J's arrays, and against the
 * values as written, which the test keeps itself.
 */
class HostLoadTest {

    @TempDir
    Path dir;

    static final GptConfig TINY = HfCheckpointInspectTest.TINY;

    /**
     * Every float type, tensors in shuffled file order under Hugging Face's prefixed names, and values exact in F16
     * and BF16 (multiples of 1/64 below 4): both loads must give these values, bit for bit, at every name.
     */
    @Test
    void givesTheSameParametersAsTheInPlaceLoadFromAnyFloatTypeAndOrder() throws IOException {
        Random r = new Random(11);
        Map<String, float[]> values = new LinkedHashMap<>();
        List<Map.Entry<String, long[]>> entries = new ArrayList<>(HfCheckpointInspectTest.handLayout(2).entrySet());
        Collections.shuffle(entries, r);
        SafeTensorsWriter w = SafeTensors.writer();
        DType[] types = {DType.F32, DType.F16, DType.BF16, DType.F64};
        int i = 0;
        for (Map.Entry<String, long[]> e : entries) {
            float[] v = new float[(int) TensorInfo.elementCount(e.getValue())];
            for (int k = 0; k < v.length; k++) {
                v[k] = (r.nextInt(512) - 256) / 64f;
            }
            values.put(e.getKey(), v);
            DType type = types[i++ % types.length];
            if (type == DType.F64) {  // the writer writes no F64: its bytes by hand, little-endian
                ByteBuffer bytes = ByteBuffer.allocate(8 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (float f : v) {
                    bytes.putDouble(f);
                }
                w.addRaw("transformer." + e.getKey(), DType.F64, bytes.array(), e.getValue());
            } else {
                w.add("transformer." + e.getKey(), type, v, e.getValue());
            }
        }
        Path d = Files.createDirectories(dir.resolve("mixed"));
        w.write(d.resolve("model.safetensors"));
        TINY.writeJson(d.resolve("config.json"));

        GptModel host;
        GptModel inPlace;
        try (HfCheckpoint.Plan plan = HfCheckpoint.Plan.of(d)) {
            host = HfCheckpoint.loadThroughHost(plan);
            inPlace = HfCheckpoint.loadInPlace(plan, WeightFormat.FP32);
        }
        assertThat(host).isNotNull();
        assertThat(host.parameters().toFloatVector()).containsExactly(inPlace.parameters().toFloatVector());
        for (Map.Entry<String, float[]> e : values.entrySet()) {
            assertThat(host.parameter(e.getKey()).ravel().toFloatVector()).as(e.getKey()).containsExactly(e.getValue());
        }
        TokenBatch batch = TokenBatch.shifted(new int[][] {{1, 4, 2, 9, 10, 0}});
        assertThat(host.logits(batch).ravel().toFloatVector())
                .containsExactly(inPlace.logits(batch).ravel().toFloatVector());
    }

    /** A saved model loads back through host memory bit for bit, and trains: its parameters are writable memory. */
    @Test
    void aSavedModelLoadsBackThroughHostMemoryAndItsParametersAreWritable() throws IOException {
        GptModel model = GptModel.create(TINY, 4);
        Path d = dir.resolve("saved");
        HfCheckpoint.save(model, d);
        GptModel loaded;
        try (HfCheckpoint.Plan plan = HfCheckpoint.Plan.of(d)) {
            loaded = HfCheckpoint.loadThroughHost(plan);
        }
        assertThat(loaded.parameters().toFloatVector()).containsExactly(model.parameters().toFloatVector());
        loaded.parameter("ln_f.bias").putScalar(2, 0.5f);
        assertThat(loaded.parameters().getFloat(loaded.parameters().length() - 4)).isEqualTo(0.5f);
    }

    /** Int8 tensors (which need their scales) take the in-place load; nothing is read into host memory for them. */
    @Test
    void int8CheckpointsTakeTheInPlaceLoad() throws IOException {
        Path d = dir.resolve("int8");
        HfCheckpoint.save(GptModel.create(TINY, 6).compressed(WeightFormat.INT8), d);
        try (HfCheckpoint.Plan plan = HfCheckpoint.Plan.of(d)) {
            assertThat(HfCheckpoint.loadThroughHost(plan)).isNull();
        }
        assertThat(HfCheckpoint.load(d).parameterCount()).isEqualTo(GptModel.parameterCount(TINY));
    }

    /**
     * The host memory belongs to the model's array: with every other reference to it gone and the collector run, the
     * values are still there (freed memory would be reused by the allocations in between).
     */
    @Test
    void theHostMemoryLivesAsLongAsTheModel() throws IOException {
        GptModel model = GptModel.create(TINY, 8);
        float[] expected = model.parameters().toFloatVector();
        Path d = dir.resolve("kept");
        HfCheckpoint.save(model, d);
        GptModel loaded = HfCheckpoint.load(d);
        for (int round = 0; round < 5; round++) {
            System.gc();
            List<ByteBuffer> churn = new ArrayList<>();
            for (int k = 0; k < 8; k++) {
                churn.add(ByteBuffer.allocateDirect(expected.length * 4).putFloat(0, Float.NaN));
            }
            assertThat(churn).hasSize(8);
        }
        assertThat(loaded.parameters().toFloatVector()).containsExactly(expected);
    }

    @Test
    void hostBuffersAreAlignedAndRefusedAboveTwoGigabytes() {
        ByteBuffer b = HostParameters.allocate(1001);
        assertThat(b.capacity()).isEqualTo(4004);
        assertThat(b.isDirect()).isTrue();
        assertThat(b.alignmentOffset(0, HostParameters.ALIGNMENT)).isZero();
        assertThat(HostParameters.allocate(1L << 29)).isNull();  // 2 GiB: more than a ByteBuffer holds
        INDArray wrapped = HostParameters.wrap(b.putFloat(8, 2.5f), 1001);
        assertThat(wrapped.dataType()).isEqualTo(DataType.FLOAT);
        assertThat(wrapped.getFloat(2)).isEqualTo(2.5f);
        wrapped.putScalar(3, -1f);
        assertThat(b.getFloat(12)).isEqualTo(-1f);  // the same memory, not a copy
    }

    @Test
    void overRefusesABufferOfTheWrongLength() {
        assertThatThrownBy(() -> GptModel.over(TINY, Nd4j.zeros(DataType.FLOAT, 5)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dense float32 vector of " + GptModel.parameterCount(TINY));
    }

    /** A file cut inside a tensor fails at open with the file and the tensor named, as before this path existed. */
    @Test
    void aTruncatedFileNamesTheFileAndTheTensor() throws IOException {
        Path d = dir.resolve("cut");
        HfCheckpoint.save(GptModel.create(TINY, 9), d);
        Path weights = d.resolve("model.safetensors");
        try (FileChannel ch = FileChannel.open(weights, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 10);
        }
        assertThatThrownBy(() -> HfCheckpoint.load(d))
                .isInstanceOf(ModelFileException.class)
                .hasMessageStartingWith(weights.toString())
                .hasMessageContainingAll("tensor 'transformer.", "truncated");
    }

    /** A file cut short after it was opened: the read names the file and the tensor instead of faulting. */
    @Test
    void aFileCutAfterItWasOpenedNamesTheFileAndTheTensor() throws IOException {
        Path p = dir.resolve("later.safetensors");
        SafeTensors.writer().add("first", new float[] {1, 2, 3}, 3).add("second", new float[] {4, 5, 6, 7}, 4).write(p);
        try (SafeTensors st = SafeTensors.open(p)) {
            String last = st.names().get(st.names().size() - 1);
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.truncate(ch.size() - 6);
            }
            ByteBuffer into = ByteBuffer.allocate(64).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            assertThatThrownBy(() -> st.readInto(last, into))
                    .isInstanceOf(ModelFileException.class)
                    .hasMessageStartingWith(p.toString())
                    .hasMessageContainingAll("tensor '" + last + "'", "cut short");
        }
    }
}
