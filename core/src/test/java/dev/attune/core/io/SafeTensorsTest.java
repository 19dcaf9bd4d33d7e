package dev.attune.core.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.engine.Engine;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The reader is checked on files assembled byte by byte here; the writer's output is parsed here with plain
 * ByteBuffer and Jackson code, independently of the reader.
 */
public class SafeTensorsTest {

    @TempDir
    Path dir;

    @BeforeAll
    static void engine() {
        Engine.init();
    }

    // ---------------------------------------------------------------------------------------- byte helpers

    public static byte[] file(String header, byte[] data) {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(json.length).put(json).put(data).array();
    }

    static byte[] rawLength(long length, byte[] rest) {
        return ByteBuffer.allocate(8 + rest.length).order(ByteOrder.LITTLE_ENDIAN).putLong(length).put(rest).array();
    }

    static byte[] f32(float... values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }

    static byte[] u16(int... values) {
        ByteBuffer b = ByteBuffer.allocate(2 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : values) {
            b.putShort((short) v);
        }
        return b.array();
    }

    static byte[] f64(double... values) {
        ByteBuffer b = ByteBuffer.allocate(8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            b.putDouble(v);
        }
        return b.array();
    }

    public static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private Path save(String name, byte[] content) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, content);
        return p;
    }

    private void assertOpenFails(byte[] content, String... fragments) throws IOException {
        Path p = save("bad.safetensors", content);
        assertThatThrownBy(() -> SafeTensors.open(p).close())
                .isInstanceOf(ModelFileException.class)
                .hasMessageStartingWith(p.toString())
                .hasMessageContainingAll(fragments);
    }

    // ---------------------------------------------------------------------------------------- reading

    /** Tensors of every readable type, listed in the header out of data order, with metadata. */
    private Path handBuilt() throws IOException {
        // data: [0,16) a F32 [2,2] | [16,26) h F16 [5] | [26,30) b BF16 [2] | [30,32) pad | [32,48) d F64 [2]
        //       | [48,56) n I64 [1]
        String header = "{\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[32,48]},"
                + "\"__metadata__\":{\"format\":\"pt\",\"note\":\"hand built\"},"
                + "\"h\":{\"dtype\":\"F16\",\"shape\":[5],\"data_offsets\":[16,26]},"
                + "\"n\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[48,56]},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[26,30]}}";
        byte[] data = concat(
                f32(1.5f, -2f, 0.25f, 3e-3f),
                u16(0x3c00, 0xc000, 0x0001, 0x7c00, 0x7e00), // 1, -2, 2^-24, +inf, NaN
                u16(0x3f80, 0x4049),                         // 1, 3.140625
                new byte[2],
                f64(0.1, -1e300),
                new byte[8]);
        return save("hand.safetensors", file(header, data));
    }

    @Test
    void readsEveryFloatTypeFromAHandBuiltFile() throws IOException {
        try (SafeTensors st = SafeTensors.open(handBuilt())) {
            assertThat(st.names()).containsExactly("a", "h", "b", "d", "n"); // data order
            assertThat(st.metadata()).containsExactly(Map.entry("format", "pt"), Map.entry("note", "hand built"));
            TensorInfo a = st.info("a");
            assertThat(a.dtype()).isEqualTo(DType.F32);
            assertThat(a.shape()).containsExactly(2, 2);
            assertThat(a.elementCount()).isEqualTo(4);
            assertThat(st.readFloats("a")).containsExactly(1.5f, -2f, 0.25f, 3e-3f);
            assertThat(st.readFloats("a", 2, 2)).containsExactly(1.5f, -2f, 0.25f, 3e-3f);
            float[] h = st.readFloats("h");
            assertThat(h[0]).isEqualTo(1f);
            assertThat(h[1]).isEqualTo(-2f);
            assertThat(h[2]).isEqualTo((float) Math.pow(2, -24));
            assertThat(h[3]).isEqualTo(Float.POSITIVE_INFINITY);
            assertThat(h[4]).isNaN();
            assertThat(st.readFloats("b")).containsExactly(1f, 3.140625f);
            assertThat(st.readFloats("d")).containsExactly(0.1f, Float.NEGATIVE_INFINITY);
            assertThat(st.info("n").dtype()).isEqualTo(DType.I64);
            assertThatThrownBy(() -> st.readFloats("n"))
                    .isInstanceOf(ModelFileException.class)
                    .hasMessageContainingAll("tensor 'n'", "I64", "cannot read");
        }
    }

    @Test
    void readsIntoArraysViewsAndBuffers() throws IOException {
        try (SafeTensors st = SafeTensors.open(handBuilt())) {
            INDArray a = st.read("a");
            assertThat(a.dataType()).isEqualTo(DataType.FLOAT);
            assertThat(a.shape()).containsExactly(2, 2);
            assertThat(a.getFloat(1, 0)).isEqualTo(0.25f);

            // A view in the middle of a flat buffer, as model parameters are: written in place, neighbours intact.
            INDArray flat = Nd4j.zeros(DataType.FLOAT, 10).addi(9);
            INDArray view = flat.get(NDArrayIndex.interval(3, 7)).reshape(2, 2);
            st.readInto("a", view);
            assertThat(flat.toFloatVector()).containsExactly(9, 9, 9, 1.5f, -2f, 0.25f, 3e-3f, 9, 9, 9);

            // A transposed (non-contiguous) destination still receives the values in logical row-major order.
            INDArray base = Nd4j.zeros(DataType.FLOAT, 2, 2);
            INDArray transposed = base.transpose();
            st.readInto("a", transposed);
            assertThat(transposed.getFloat(0, 1)).isEqualTo(-2f);
            assertThat(base.getFloat(1, 0)).isEqualTo(-2f);

            INDArray doubles = Nd4j.zeros(DataType.DOUBLE, 2);
            st.readInto("b", doubles);
            assertThat(doubles.toDoubleVector()).containsExactly(1.0, 3.140625);

            FloatBuffer buffer = FloatBuffer.allocate(7);
            buffer.put(42f);
            st.readInto("h", buffer);
            assertThat(buffer.position()).isEqualTo(6);
            assertThat(buffer.get(1)).isEqualTo(1f);
            assertThat(buffer.get(2)).isEqualTo(-2f);
        }
    }

    @Test
    void namesTheMissingTensorAndTheWrongShape() throws IOException {
        Path p = handBuilt();
        try (SafeTensors st = SafeTensors.open(p)) {
            assertThat(st.contains("nope")).isFalse();
            assertThatThrownBy(() -> st.readFloats("nope"))
                    .isInstanceOf(ModelFileException.class)
                    .hasMessageStartingWith(p.toString())
                    .hasMessageContainingAll("no tensor named 'nope'", "5 tensors", "a, h, b, d, n");
            assertThatThrownBy(() -> st.readFloats("a", 3, 2))
                    .isInstanceOf(ModelFileException.class)
                    .hasMessageContainingAll("tensor 'a'", "has shape [2, 2]", "expected [3, 2]");
            assertThatThrownBy(() -> st.readInto("a", Nd4j.zeros(DataType.FLOAT, 4)))
                    .isInstanceOf(ModelFileException.class)
                    .hasMessageContainingAll("tensor 'a'", "[2, 2]", "destination has [4]");
        }
    }

    @Test
    void readsInSmallWindowsLikeInOneMapping() throws IOException {
        Random random = new Random(3);
        float[] values = new float[101];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        Path p = dir.resolve("w.safetensors");
        SafeTensors.writer().add("x", values, 101).add("h", DType.F16, values, 101).write(p);
        float[] whole;
        float[] wholeHalf;
        try (SafeTensors st = SafeTensors.open(p)) {
            whole = st.readFloats("x");
            wholeHalf = st.readFloats("h");
        }
        assertThat(whole).containsExactly(values);
        // 13-byte windows: elements never straddle windows, each read takes many mappings.
        try (SafeTensors st = SafeTensors.open(p, 13)) {
            assertThat(st.readFloats("x")).containsExactly(whole);
            assertThat(st.readFloats("h")).containsExactly(wholeHalf);
            assertThat(st.read("x").toFloatVector()).containsExactly(whole);
        }
    }

    /** Offsets past 2^31 work: a sparse file whose last tensor lies beyond 2 GiB (holes take no disk space). */
    @Test
    void readsTensorsBeyondTwoGigabytes() throws IOException {
        long filler = (1L << 31) + 4;
        String header = "{\"head\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"filler\":{\"dtype\":\"U8\",\"shape\":[" + filler + "],\"data_offsets\":[8," + (8 + filler) + "]},"
                + "\"tail\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[" + (8 + filler) + "," + (20 + filler)
                + "]}}";
        byte[] start = file(header, f32(7f, 8f));
        Path p = dir.resolve("big.safetensors");
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(start), 0);
            ch.write(ByteBuffer.wrap(f32(-1f, 0.5f, 1e9f)), start.length + filler);
        }
        assertThat(Files.size(p)).isGreaterThan(1L << 31);
        try (SafeTensors st = SafeTensors.open(p)) {
            assertThat(st.readFloats("tail")).containsExactly(-1f, 0.5f, 1e9f);
            assertThat(st.readFloats("head")).containsExactly(7f, 8f);
            assertThat(st.info("filler").byteLength()).isEqualTo(filler);
        }
    }

    // ---------------------------------------------------------------------------------------- malformed files

    @Test
    void rejectsTruncatedFiles() throws IOException {
        assertOpenFails(new byte[5], "truncated", "5 bytes");
        assertOpenFails(rawLength(100, "{\"a\":".getBytes(StandardCharsets.UTF_8)),
                "header length 100", "past the end of the file", "truncated");
        // A valid header whose data was cut short.
        byte[] whole = file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", f32(1, 2, 3, 4));
        assertOpenFails(java.util.Arrays.copyOf(whole, whole.length - 3),
                "tensor 'a'", "data_offsets [0, 16]", "past the end of the data (13 bytes)", "truncated");
    }

    @Test
    void rejectsAbsurdHeaderLengths() throws IOException {
        assertOpenFails(rawLength(1L << 40, new byte[16]), "header length 1099511627776", "limit");
        assertOpenFails(rawLength(-1L, new byte[16]), "header length 18446744073709551615", "limit");
    }

    @Test
    void rejectsInvalidHeaderJson() throws IOException {
        assertOpenFails(file("{\"a\": {\"dtype\":", new byte[0]), "header is not valid JSON");
        assertOpenFails(file("[1, 2]", new byte[0]), "header is not a JSON object");
        assertOpenFails(file("{} {}", new byte[0]), "header is not valid JSON");
        assertOpenFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", f32(1, 2)),
                "not valid JSON", "Duplicate field 'a'");
        assertOpenFails(file("{\"__metadata__\":{\"format\":1}}", new byte[0]), "__metadata__", "'format'",
                "must be a string");
        assertOpenFails(file("{\"a\":[1]}", new byte[0]), "tensor 'a'", "must be a JSON object");
        assertOpenFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", f32(1)),
                "tensor 'a'", "\"shape\"", "non-negative integers");
        assertOpenFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", f32(1)),
                "tensor 'a'", "\"data_offsets\" must be a list of 2");
        assertOpenFails(file("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", f32(1)), "tensor 'a'", "\"dtype\"");
    }

    @Test
    void rejectsUnknownDtypes() throws IOException {
        assertOpenFails(file("{\"w\":{\"dtype\":\"F17\",\"shape\":[1],\"data_offsets\":[0,4]}}", f32(1)),
                "tensor 'w'", "unknown dtype 'F17'", "F32");
        assertOpenFails(file("{\"w\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", f32(1)),
                "unknown dtype 'f32'");
    }

    @Test
    void rejectsBadOffsets() throws IOException {
        assertOpenFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}", f32(1, 2)),
                "tensor 'a'", "data_offsets [8, 16]", "past the end of the data (8 bytes)");
        assertOpenFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", f32(1, 2)),
                "tensor 'a'", "hold 8 bytes", "F32 [3] needs 12");
        assertOpenFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", f32(1, 2)),
                "tensor 'a'", "end before they begin");
        assertOpenFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", f32(1, 2, 3)),
                "tensors 'a'", "'b'", "overlap");
        assertOpenFails(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],"
                + "\"data_offsets\":[0,8]}}", f32(1, 2)), "tensor 'a'", "too large");
    }

    // ---------------------------------------------------------------------------------------- writing

    @Test
    void writesAFileThatAnIndependentParserReads() throws IOException {
        INDArray matrix = Nd4j.createFromArray(new float[][] {{1, 2, 3}, {4, 5, 6}});
        INDArray column = matrix.getColumn(1);                   // a non-contiguous view: 2, 5
        Path p = dir.resolve("out.safetensors");
        SafeTensors.writer()
                .metadata("format", "pt")
                .add("b.bf16", DType.BF16, new float[] {1f, -2.5f, 3.140625f, 1.00390625f, 1.01171875f}, 5)
                .add("m", matrix)
                .add("h", DType.F16, new float[] {0.5f, -1.25f, 65504f, 0x1p-24f, 1e6f}, 5)
                .add("col", column)
                .add("scalar", new float[] {7f})
                .write(p);

        byte[] bytes = Files.readAllBytes(p);
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long n = buf.getLong(0);
        assertThat(n % 8).as("header padded to 8 bytes").isZero();
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
        int data = 8 + (int) n;
        assertThat(header.get("__metadata__").get("format").asText()).isEqualTo("pt");
        assertThat(header.size()).isEqualTo(6);

        JsonNode m = header.get("m");
        assertThat(m.get("dtype").asText()).isEqualTo("F32");
        assertThat(m.get("shape").toString()).isEqualTo("[2,3]");
        int mStart = data + m.get("data_offsets").get(0).asInt();
        assertThat(m.get("data_offsets").get(1).asInt() - m.get("data_offsets").get(0).asInt()).isEqualTo(24);
        for (int i = 0; i < 6; i++) {
            assertThat(buf.getFloat(mStart + 4 * i)).isEqualTo(i + 1f);
        }
        JsonNode col = header.get("col");
        assertThat(col.get("shape").toString()).isEqualTo("[2]");
        int cStart = data + col.get("data_offsets").get(0).asInt();
        assertThat(buf.getFloat(cStart)).isEqualTo(2f);
        assertThat(buf.getFloat(cStart + 4)).isEqualTo(5f);
        JsonNode scalar = header.get("scalar");
        assertThat(scalar.get("shape").toString()).isEqualTo("[]");
        assertThat(buf.getFloat(data + scalar.get("data_offsets").get(0).asInt())).isEqualTo(7f);

        JsonNode h = header.get("h");
        assertThat(h.get("dtype").asText()).isEqualTo("F16");
        int hStart = data + h.get("data_offsets").get(0).asInt();
        int[] halfBits = new int[5];
        for (int i = 0; i < 5; i++) {
            halfBits[i] = buf.getShort(hStart + 2 * i) & 0xffff;
        }
        assertThat(halfBits).containsExactly(0x3800, 0xbd00, 0x7bff, 0x0001, 0x7c00);

        JsonNode b = header.get("b.bf16");
        assertThat(b.get("dtype").asText()).isEqualTo("BF16");
        int bStart = data + b.get("data_offsets").get(0).asInt();
        int[] bfBits = new int[5];
        for (int i = 0; i < 5; i++) {
            bfBits[i] = buf.getShort(bStart + 2 * i) & 0xffff;
        }
        // 1 + 2^-8 and 1 + 3 * 2^-8 are ties: they go to the even neighbour.
        assertThat(bfBits).containsExactly(0x3f80, 0xc020, 0x4049, 0x3f80, 0x3f82);

        // Contiguous, aligned, covering the data section exactly.
        long end = 0;
        for (String name : List.of("m", "col", "scalar", "h", "b.bf16")) {
            JsonNode t = header.get(name);
            end = Math.max(end, t.get("data_offsets").get(1).asLong());
            int width = t.get("dtype").asText().equals("F32") ? 4 : 2;
            assertThat(t.get("data_offsets").get(0).asLong() % width).as("alignment of %s", name).isZero();
        }
        assertThat(bytes.length).isEqualTo(data + end);
    }

    @Test
    void roundTripsRandomTensorsThroughEachType() throws IOException {
        Random random = new Random(11);
        INDArray weights = Nd4j.rand(DataType.FLOAT, 37, 19).subi(0.5).muli(10);
        float[] small = new float[300];
        for (int i = 0; i < small.length; i++) {
            small[i] = (float) (random.nextGaussian() * Math.pow(10, random.nextInt(12) - 8));
        }
        Path p = dir.resolve("rt.safetensors");
        SafeTensors.writer().add("w", weights).add("s", small, 3, 100).write(p);
        try (SafeTensors st = SafeTensors.open(p)) {
            assertThat(st.read("w")).isEqualTo(weights);
            assertThat(st.readFloats("s", 3, 100)).containsExactly(small);
            assertThat(st.metadata()).isEmpty();
        }
        for (DType type : new DType[] {DType.F16, DType.BF16}) {
            Path q = dir.resolve(type + ".safetensors");
            SafeTensors.writer().dtype(type).add("s", small, 300).write(q);
            try (SafeTensors st = SafeTensors.open(q)) {
                assertThat(st.info("s").dtype()).isEqualTo(type);
                float[] back = st.readFloats("s");
                for (int i = 0; i < small.length; i++) {
                    float expected = type == DType.F16
                            ? FloatFormats.halfToFloat(FloatFormats.floatToHalf(small[i]))
                            : FloatFormats.bfloat16ToFloat(FloatFormats.floatToBfloat16(small[i]));
                    assertThat(back[i]).isEqualTo(expected);
                }
            }
        }
    }

    @Test
    void replacesFilesAtomicallyAndLeavesNoTemporaryFiles() throws IOException {
        Path p = dir.resolve("model.safetensors");
        SafeTensors.writer().add("a", new float[] {1, 2}, 2).write(p);
        try (SafeTensors old = SafeTensors.open(p)) {
            SafeTensors.writer().add("b", new float[] {3}, 1).write(p);
            // The reader opened before the replacement still sees the old file.
            assertThat(old.readFloats("a")).containsExactly(1, 2);
        }
        try (SafeTensors st = SafeTensors.open(p)) {
            assertThat(st.names()).containsExactly("b");
        }
        try (var files = Files.list(dir)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly("model.safetensors");
        }
    }

    @Test
    void writerRejectsBadInput() {
        SafeTensorsWriter w = SafeTensors.writer().add("a", new float[] {1}, 1);
        assertThatThrownBy(() -> w.add("a", new float[] {1}, 1)).hasMessageContaining("'a' was added twice");
        assertThatThrownBy(() -> w.add("b", new float[] {1, 2}, 3))
                .hasMessageContainingAll("tensor 'b'", "[3]", "3 elements", "2 values");
        assertThatThrownBy(() -> w.add("c", DType.I64, new float[] {1}, 1)).hasMessageContaining("not I64");
        assertThatThrownBy(() -> w.dtype(DType.F64)).hasMessageContaining("not F64");
        assertThatThrownBy(() -> w.add("__metadata__", new float[] {1}, 1)).hasMessageContaining("invalid tensor name");
    }
}
