package dev.attune.core.io;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.engine.Engine;
import dev.attune.core.engine.HostBuffers;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Collects named tensors and writes them as one safetensors file.
 *
 * <p>Tensors are stored as F32 unless {@link #dtype(DType)} or the {@code add} overloads taking a {@link DType} ask
 * for F16 or BF16 (rounded to nearest even). {@link #write(Path)} streams the values into the file chunk by chunk,
 * so the file is never built in memory, and writes atomically: readers see the old file or the complete new one.
 * The arrays are read when {@code write} runs, not when they are added.
 *
 * <pre>{@code
 * SafeTensors.writer()
 *         .metadata("format", "pt")
 *         .add("wte.weight", wte)                  // an INDArray
 *         .add("scale", new float[] {0.5f, 2f}, 2) // values and shape
 *         .write(dir.resolve("model.safetensors"));
 * }</pre>
 */
public final class SafeTensorsWriter {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK_ELEMENTS = 1 << 20;

    /** Where a tensor's values come from when the file is written. */
    private interface Source {
        /** Elements [start, start + count) in row-major order. */
        FloatBuffer range(long start, int count);
    }

    private record Entry(String name, DType dtype, long[] shape, long elements, Source source, byte[] raw) {
    }

    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private DType defaultType = DType.F32;

    SafeTensorsWriter() {
    }

    /** The type to store tensors in when {@code add} is not given one: F32 (the default), F16 or BF16. */
    public SafeTensorsWriter dtype(DType dtype) {
        this.defaultType = requireWritable(dtype);
        return this;
    }

    /** Adds an entry to the {@code __metadata__} map (Hugging Face model files carry {@code format: pt}). */
    public SafeTensorsWriter metadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /** Adds every entry of {@code values} to the {@code __metadata__} map. */
    public SafeTensorsWriter metadata(Map<String, String> values) {
        values.forEach(this::metadata);
        return this;
    }

    /** Adds a tensor with the array's shape, stored in the writer's type. */
    public SafeTensorsWriter add(String name, INDArray tensor) {
        return add(name, null, tensor);
    }

    /** Adds a tensor with the array's shape, stored as {@code dtype}. */
    public SafeTensorsWriter add(String name, DType dtype, INDArray tensor) {
        long[] shape = tensor.shape();
        long n = tensor.length();
        // Resolved on first use: the array is read when the file is written.
        Source source = new Source() {
            private FloatBuffer host;
            private INDArray flat;

            @Override
            public FloatBuffer range(long start, int count) {
                if (host == null && flat == null) {
                    if (tensor.dataType() == DataType.FLOAT && Engine.isCpu() && HostBuffers.isDense(tensor)
                            && tensor.offset() + n <= Integer.MAX_VALUE) {
                        host = HostBuffers.floats(tensor); // straight from host memory, no copy
                    } else {
                        flat = tensor.reshape('c', new long[] {n});
                    }
                }
                return host != null
                        ? host.slice((int) start, count)
                        : FloatBuffer.wrap(flat.get(NDArrayIndex.interval(start, start + count)).toFloatVector());
            }
        };
        return put(new Entry(name, dtype, shape, n, source, null));
    }

    /** Adds a tensor from row-major values and a shape, stored in the writer's type. */
    public SafeTensorsWriter add(String name, float[] values, long... shape) {
        return add(name, null, values, shape);
    }

    /** Adds a tensor from row-major values and a shape, stored as {@code dtype}. */
    public SafeTensorsWriter add(String name, DType dtype, float[] values, long... shape) {
        long n = TensorInfo.elementCount(shape);
        if (n != values.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " has " + n
                    + " elements but " + values.length + " values were given");
        }
        return put(new Entry(name, dtype, shape.clone(), n,
                (start, count) -> FloatBuffer.wrap(values, (int) start, count).slice(), null));
    }

    /**
     * Adds a tensor of any type from its stored bytes (little-endian, row-major), written as they are: for example
     * the {@code I8} values of an int8 weight, or {@code BF16} values that are already rounded.
     */
    public SafeTensorsWriter addRaw(String name, DType dtype, byte[] littleEndian, long... shape) {
        Objects.requireNonNull(dtype, "dtype");
        long n = TensorInfo.elementCount(shape);
        if (n * dtype.bytes() != littleEndian.length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " of "
                    + dtype + " takes " + n * dtype.bytes() + " bytes but " + littleEndian.length + " were given");
        }
        return put(new Entry(name, dtype, shape.clone(), n, null, littleEndian));
    }

    private SafeTensorsWriter put(Entry e) {
        if (e.name == null || e.name.isEmpty() || e.name.equals(SafeTensors.METADATA_KEY)) {
            throw new IllegalArgumentException("invalid tensor name '" + e.name + "'");
        }
        for (long d : e.shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor '" + e.name + "': negative dimension in "
                        + Arrays.toString(e.shape));
            }
        }
        if (e.dtype != null && e.raw == null) {
            requireWritable(e.dtype);
        }
        if (entries.putIfAbsent(e.name, e) != null) {
            throw new IllegalArgumentException("tensor '" + e.name + "' was added twice");
        }
        return this;
    }

    private static DType requireWritable(DType dtype) {
        if (!dtype.writable()) {
            throw new IllegalArgumentException("Attune writes F32, F16 or BF16 tensors, not " + dtype);
        }
        return dtype;
    }

    /** Writes the file atomically (a temporary file in the same directory, renamed when complete). */
    public void write(Path file) throws IOException {
        // Wider types first keeps every tensor aligned to its element size, as the reference writer does.
        List<Entry> layout = new ArrayList<>(entries.values());
        layout.sort(Comparator.comparingInt((Entry e) -> -typeOf(e).bytes()));
        byte[] header = header(layout);
        AtomicFiles.write(file, out -> {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length);
            out.write(length.array());
            out.write(header);
            for (Entry e : layout) {
                writeData(e, typeOf(e), out);
            }
        });
    }

    private DType typeOf(Entry e) {
        return e.dtype != null ? e.dtype : defaultType;
    }

    private byte[] header(List<Entry> layout) {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafeTensors.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Entry e : layout) {
            long bytes = Math.multiplyExact(e.elements, typeOf(e).bytes());
            ObjectNode node = root.putObject(e.name);
            node.put("dtype", typeOf(e).name());
            ArrayNode shape = node.putArray("shape");
            for (long d : e.shape) {
                shape.add(d);
            }
            node.putArray("data_offsets").add(offset).add(offset + bytes);
            offset += bytes;
        }
        byte[] json;
        try {
            json = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException ex) {
            throw new IllegalStateException(ex);
        }
        // Pad with spaces so the data starts 8-byte aligned.
        int padded = (json.length + 7) & ~7;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    private static void writeData(Entry e, DType dtype, OutputStream out) throws IOException {
        if (e.raw != null) {
            out.write(e.raw);
            return;
        }
        int chunk = (int) Math.min(e.elements, CHUNK_ELEMENTS);
        byte[] bytes = new byte[chunk * dtype.bytes()];
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (long start = 0; start < e.elements; start += chunk) {
            int count = (int) Math.min(chunk, e.elements - start);
            FloatBuffer values = e.source.range(start, count);
            switch (dtype) {
                case F32 -> buffer.asFloatBuffer().put(values);
                case F16 -> {
                    ShortBuffer shorts = buffer.asShortBuffer();
                    for (int i = 0; i < count; i++) {
                        shorts.put(i, FloatFormats.floatToHalf(values.get(i)));
                    }
                }
                case BF16 -> {
                    ShortBuffer shorts = buffer.asShortBuffer();
                    for (int i = 0; i < count; i++) {
                        shorts.put(i, FloatFormats.floatToBfloat16(values.get(i)));
                    }
                }
                default -> throw new IllegalStateException("not writable: " + dtype);
            }
            out.write(bytes, 0, count * dtype.bytes());
        }
    }
}
