package dev.attune.core.io;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.engine.Engine;
import dev.attune.core.engine.HostBuffers;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.ShortBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.shape.Shape;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A safetensors file opened for reading: the format Hugging Face uses for model weights.
 *
 * <p>Layout: an unsigned 64-bit little-endian header length {@code N}, {@code N} bytes of UTF-8 JSON mapping each
 * tensor name to {@code {"dtype", "shape", "data_offsets": [begin, end]}} (plus an optional {@code "__metadata__"}
 * map of strings), then the raw little-endian tensor data; offsets count from the first byte after the header.
 *
 * <p>{@link #open(Path)} reads and checks the whole header (types, shapes, offsets inside the file, no overlaps),
 * so a malformed file fails there with a {@link ModelFileException} naming the file and the problem. Tensor data is
 * read on demand from memory-mapped windows of the file (of at most 1 GiB each, so files and tensors larger than
 * 2 GB work) and converted to float: F32, F16, BF16 and F64 tensors can be read. Nothing but the header is held on
 * the Java heap, so loading a 500 MB file into ND4J arrays does not need a second 500 MB copy.
 *
 * <p>Reads may run concurrently from several threads. Close the reader when done.
 *
 * <pre>{@code
 * try (SafeTensors file = SafeTensors.open(path)) {
 *     float[] wte = file.readFloats("wte.weight", 50257, 768);
 * }
 * }</pre>
 *
 * @see SafeTensorsWriter
 */
public final class SafeTensors implements Closeable {

    /** The largest header accepted, the same limit as the reference implementation's. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    /** Bytes mapped at a time. */
    static final long DEFAULT_WINDOW_BYTES = 1L << 30;
    /** Elements moved into an INDArray at a time. */
    private static final int TRANSFER_ELEMENTS = 1 << 20;
    /** The longest Java array the JVM reliably allocates. */
    private static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    static final String METADATA_KEY = "__metadata__";

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private final Path file;
    private final FileChannel channel;
    private final long fileSize;
    private final long dataStart;
    private final long windowBytes;
    private final Map<String, TensorInfo> tensors; // in data order
    private final Map<String, String> metadata;
    private volatile boolean closed;

    private SafeTensors(Path file, FileChannel channel, long fileSize, long dataStart, long windowBytes,
                        Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.file = file;
        this.channel = channel;
        this.fileSize = fileSize;
        this.dataStart = dataStart;
        this.windowBytes = windowBytes;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Opens a safetensors file and checks its header.
     *
     * @throws java.nio.file.NoSuchFileException if the file does not exist
     * @throws ModelFileException if the file is not a valid safetensors file (truncated, header too large or not
     *                            JSON, unknown dtype, offsets out of range, overlapping or not matching the shape)
     */
    public static SafeTensors open(Path file) throws IOException {
        return open(file, DEFAULT_WINDOW_BYTES);
    }

    /** Starts a writer; see {@link SafeTensorsWriter}. */
    public static SafeTensorsWriter writer() {
        return new SafeTensorsWriter();
    }

    static SafeTensors open(Path file, long windowBytes) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long size = channel.size();
            if (size < 8) {
                throw new ModelFileException(file, "truncated: " + size
                        + " bytes, but a safetensors file starts with an 8-byte header length");
            }
            long headerLength = readFully(channel, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
                throw new ModelFileException(file, "header length " + Long.toUnsignedString(headerLength)
                        + " is larger than the " + MAX_HEADER_BYTES
                        + "-byte limit: this is not a safetensors file, or it is corrupt");
            }
            if (8 + headerLength > size) {
                throw new ModelFileException(file, "header length " + headerLength + " runs past the end of the file ("
                        + size + " bytes): the file is truncated or not a safetensors file");
            }
            ByteBuffer headerBytes = readFully(channel, 8, (int) headerLength);
            long dataStart = 8 + headerLength;
            Header header = parseHeader(file, headerBytes.array(), size - dataStart);
            return new SafeTensors(file, channel, size, dataStart, windowBytes, header.tensors, header.metadata);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private record Header(Map<String, TensorInfo> tensors, Map<String, String> metadata) {
    }

    private static Header parseHeader(Path file, byte[] bytes, long dataLength) throws ModelFileException {
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new ModelFileException(file, "header is not valid JSON: " + e.getOriginalMessage()
                    + " (header byte " + e.getLocation().getByteOffset() + ")");
        } catch (IOException e) {
            throw new ModelFileException(file, "header is not valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new ModelFileException(file, "header is not a JSON object");
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        List<TensorInfo> list = new ArrayList<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String name = field.getKey();
            JsonNode node = field.getValue();
            if (name.equals(METADATA_KEY)) {
                readMetadata(file, node, metadata);
            } else {
                list.add(readEntry(file, name, node, dataLength));
            }
        }
        // Sorting by offset also gives names() a stable, file-defined order.
        list.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        TensorInfo previous = null;
        for (TensorInfo t : list) {
            if (t.byteLength() == 0) {
                continue;
            }
            if (previous != null && t.begin() < previous.end()) {
                throw new ModelFileException(file, "tensors '" + previous.name() + "' (data_offsets [" + previous.begin()
                        + ", " + previous.end() + "]) and '" + t.name() + "' ([" + t.begin() + ", " + t.end()
                        + "]) overlap");
            }
            previous = t;
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (TensorInfo t : list) {
            tensors.put(t.name(), t);
        }
        return new Header(Collections.unmodifiableMap(tensors), Collections.unmodifiableMap(metadata));
    }

    private static void readMetadata(Path file, JsonNode node, Map<String, String> into) throws ModelFileException {
        if (node.isNull()) {
            return;
        }
        if (!node.isObject()) {
            throw new ModelFileException(file, "__metadata__ must be a JSON object of strings, got " + abbreviate(node));
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isTextual()) {
                throw new ModelFileException(file, "__metadata__ value of '" + e.getKey() + "' must be a string, got "
                        + abbreviate(e.getValue()));
            }
            into.put(e.getKey(), e.getValue().textValue());
        }
    }

    private static TensorInfo readEntry(Path file, String name, JsonNode node, long dataLength)
            throws ModelFileException {
        String where = "tensor '" + name + "': ";
        if (!node.isObject()) {
            throw new ModelFileException(file, where + "header entry must be a JSON object, got " + abbreviate(node));
        }
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isTextual()) {
            throw new ModelFileException(file, where + "missing or non-string \"dtype\"");
        }
        DType dtype = DType.parse(dtypeNode.textValue());
        if (dtype == null) {
            throw new ModelFileException(file, where + "unknown dtype '" + dtypeNode.textValue() + "' (known: "
                    + Arrays.toString(DType.values()) + ")");
        }
        long[] shape = longs(file, where, node.get("shape"), "shape", -1);
        long[] offsets = longs(file, where, node.get("data_offsets"), "data_offsets", 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new ModelFileException(file, where + "data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        long needed;
        try {
            needed = Math.multiplyExact(TensorInfo.elementCount(shape), dtype.bytes());
        } catch (ArithmeticException e) {
            throw new ModelFileException(file, where + "shape " + Arrays.toString(shape) + " is too large");
        }
        if (end - begin != needed) {
            throw new ModelFileException(file, where + "data_offsets [" + begin + ", " + end + "] hold " + (end - begin)
                    + " bytes, but " + dtype + " " + Arrays.toString(shape) + " needs " + needed);
        }
        if (end > dataLength) {
            throw new ModelFileException(file, where + "data_offsets [" + begin + ", " + end
                    + "] run past the end of the data (" + dataLength + " bytes): the file is truncated");
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    private static long[] longs(Path file, String where, JsonNode node, String key, int expectedLength)
            throws ModelFileException {
        if (node == null || !node.isArray() || (expectedLength >= 0 && node.size() != expectedLength)) {
            throw new ModelFileException(file, where + "\"" + key + "\" must be a list of "
                    + (expectedLength >= 0 ? expectedLength + " " : "") + "non-negative integers, got "
                    + (node == null ? "nothing" : abbreviate(node)));
        }
        long[] values = new long[node.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.longValue() < 0) {
                throw new ModelFileException(file, where + "\"" + key + "\" must hold non-negative integers, got "
                        + abbreviate(node));
            }
            values[i] = v.longValue();
        }
        return values;
    }

    private static String abbreviate(JsonNode node) {
        String s = node.toString();
        return s.length() <= 80 ? s : s.substring(0, 77) + "...";
    }

    private static ByteBuffer readFully(FileChannel channel, long position, int length) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new java.io.EOFException();
            }
        }
        buffer.flip();
        return buffer;
    }

    // ------------------------------------------------------------------------------------------- queries

    /** The file this reader reads. */
    public Path path() {
        return file;
    }

    /** Size of the file in bytes. */
    public long fileSize() {
        return fileSize;
    }

    /** Tensor names in the order their data lies in the file. */
    public List<String> names() {
        return List.copyOf(tensors.keySet());
    }

    /** Every tensor's header entry, in the order their data lies in the file. */
    public List<TensorInfo> tensors() {
        return List.copyOf(tensors.values());
    }

    /** True when the file holds a tensor of this name. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * The header entry of a tensor.
     *
     * @throws ModelFileException if there is no tensor of this name
     */
    public TensorInfo info(String name) throws ModelFileException {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new ModelFileException(file, "no tensor named '" + name + "' (the file holds " + tensors.size()
                    + " tensor" + (tensors.size() == 1 ? "" : "s") + summary() + ")");
        }
        return t;
    }

    private String summary() {
        if (tensors.isEmpty()) {
            return "";
        }
        List<String> names = names();
        return ": " + String.join(", ", names.subList(0, Math.min(8, names.size())))
                + (names.size() > 8 ? ", ..." : "");
    }

    /** The {@code __metadata__} map (empty when the file has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    // ------------------------------------------------------------------------------------------- reads

    /**
     * Reads a tensor's values as floats, in row-major order.
     *
     * @throws ModelFileException if the tensor is missing, its dtype cannot be read as float, or it has more
     *                            elements than a Java array holds (use {@link #readInto(String, INDArray)})
     */
    public float[] readFloats(String name) throws IOException {
        TensorInfo t = readable(name);
        long n = t.elementCount();
        if (n > MAX_ARRAY) {
            throw new ModelFileException(file, "tensor '" + name + "' has " + n
                    + " elements, too many for a Java array; read it into an INDArray with readInto");
        }
        float[] values = new float[(int) n];
        decode(t, 0, values.length, FloatBuffer.wrap(values));
        return values;
    }

    /**
     * Reads a tensor's values as floats after checking its shape.
     *
     * @throws ModelFileException if the tensor is missing or its shape differs from {@code expectedShape} (the
     *                            message names the tensor and both shapes)
     */
    public float[] readFloats(String name, long... expectedShape) throws IOException {
        checkShape(info(name), expectedShape, "expected");
        return readFloats(name);
    }

    /** Reads a tensor into a new float32 INDArray of the stored shape. */
    public INDArray read(String name) throws IOException {
        TensorInfo t = readable(name);
        Engine.init();
        INDArray out = t.shape().length == 0 ? Nd4j.scalar(DataType.FLOAT, 0f) : Nd4j.create(DataType.FLOAT, t.shape());
        readInto(name, out);
        return out;
    }

    /**
     * Reads a tensor into {@code destination}, which must have exactly the tensor's shape and a floating-point data
     * type. The destination may be a view (for example one parameter inside a flat buffer); it is written in place,
     * without a temporary copy of the whole tensor.
     *
     * @throws ModelFileException if the tensor is missing or its shape differs from the destination's
     */
    public void readInto(String name, INDArray destination) throws IOException {
        TensorInfo t = readable(name);
        checkShape(t, destination.shape(), "destination has");
        if (!destination.dataType().isFPType()) {
            throw new IllegalArgumentException("destination for tensor '" + name + "' must be floating point, is "
                    + destination.dataType());
        }
        long n = t.elementCount();
        if (n == 0) {
            return;
        }
        if (destination.dataType() == DataType.FLOAT && Engine.isCpu() && HostBuffers.isDense(destination)
                && destination.offset() + n <= Integer.MAX_VALUE) {
            // Host memory on the CPU backend: convert straight from the mapped file into the array.
            decode(t, 0, n, HostBuffers.floats(destination));
            return;
        }
        boolean inPlace = destination.ordering() == 'c' && Shape.hasDefaultStridesForShape(destination);
        INDArray flat = inPlace ? destination.reshape('c', new long[] {n}) : Nd4j.create(destination.dataType(), n);
        float[] chunk = new float[(int) Math.min(n, TRANSFER_ELEMENTS)];
        for (long start = 0; start < n; start += chunk.length) {
            int count = (int) Math.min(chunk.length, n - start);
            decode(t, start, count, FloatBuffer.wrap(chunk));
            float[] part = count == chunk.length ? chunk : Arrays.copyOf(chunk, count);
            flat.get(NDArrayIndex.interval(start, start + count)).assign(Nd4j.createFromArray(part));
        }
        if (!inPlace) {
            destination.assign(flat.reshape('c', destination.shape()));
        }
    }

    /**
     * Reads a tensor's values into {@code destination} from its position on, advancing the position.
     *
     * @throws java.nio.BufferOverflowException if fewer than {@link TensorInfo#elementCount()} floats remain
     */
    public void readInto(String name, FloatBuffer destination) throws IOException {
        TensorInfo t = readable(name);
        if (destination.remaining() < t.elementCount()) {
            throw new java.nio.BufferOverflowException();
        }
        decode(t, 0, t.elementCount(), destination);
    }

    /**
     * Reads a tensor's values as float32 into {@code destination} from its position on, in the destination's byte
     * order, advancing the position by 4 bytes a value. A float32 tensor read into a little-endian buffer is read
     * with the file's own read calls, without mapping the file: one copy from the page cache, and a file cut short
     * since it was opened fails with a {@link ModelFileException} naming the tensor (instead of a fault in a mapped
     * read).
     *
     * @throws java.nio.BufferOverflowException if fewer than 4 * {@link TensorInfo#elementCount()} bytes remain
     * @throws ModelFileException if the tensor is missing or not a float type, or the file ends before its data does
     */
    public void readInto(String name, ByteBuffer destination) throws IOException {
        TensorInfo t = readable(name);
        long bytes = t.elementCount() * Float.BYTES;
        if (destination.remaining() < bytes) {
            throw new java.nio.BufferOverflowException();
        }
        if (closed) {
            throw new IllegalStateException(file + " is closed");
        }
        int start = destination.position();
        if (t.dtype() == DType.F32 && destination.order() == ByteOrder.LITTLE_ENDIAN) {
            ByteBuffer target = destination.slice().limit((int) bytes);
            long from = dataStart + t.begin();
            while (target.hasRemaining()) {
                if (channel.read(target, from + target.position()) < 0) {
                    throw new ModelFileException(file, "tensor '" + name + "': the file ends at byte "
                            + (from + target.position()) + ", inside the tensor's data (data_offsets [" + t.begin()
                            + ", " + t.end() + "] after a " + dataStart + "-byte header): it was cut short after "
                            + "it was opened");
                }
            }
        } else {
            decode(t, 0, t.elementCount(), destination.slice().order(destination.order()).asFloatBuffer());
        }
        destination.position(start + (int) bytes);
    }

    /**
     * A tensor's stored bytes as they are (little-endian, row-major), whatever its type: the way to read {@code I8}
     * weights, or {@code BF16} values without converting them.
     *
     * @throws ModelFileException if the tensor is missing or larger than a Java array
     */
    public byte[] readBytes(String name) throws IOException {
        TensorInfo t = info(name);
        if (t.byteLength() > MAX_ARRAY) {
            throw new ModelFileException(file, "tensor '" + name + "' has " + t.byteLength()
                    + " bytes, too many for a Java array");
        }
        if (closed) {
            throw new IllegalStateException(file + " is closed");
        }
        byte[] bytes = new byte[(int) t.byteLength()];
        for (int done = 0; done < bytes.length; ) {
            int n = (int) Math.min(windowBytes, bytes.length - done);
            channel.map(FileChannel.MapMode.READ_ONLY, dataStart + t.begin() + done, n).get(bytes, done, n);
            done += n;
        }
        return bytes;
    }

    private TensorInfo readable(String name) throws ModelFileException {
        TensorInfo t = info(name);
        if (!t.dtype().readable()) {
            throw new ModelFileException(file, "tensor '" + name + "' has dtype " + t.dtype()
                    + ", which Attune cannot read as floats (it reads F32, F16, BF16 and F64)");
        }
        return t;
    }

    private void checkShape(TensorInfo t, long[] expected, String label) throws ModelFileException {
        if (!t.hasShape(expected)) {
            throw new ModelFileException(file, "tensor '" + t.name() + "' has shape " + t.shapeString() + ", "
                    + label + " " + Arrays.toString(expected));
        }
    }

    /** Converts elements [first, first + count) of a tensor into {@code dst}, window by window. */
    private void decode(TensorInfo t, long first, long count, FloatBuffer dst) throws IOException {
        if (closed) {
            throw new IllegalStateException(file + " is closed");
        }
        int size = t.dtype().bytes();
        long perWindow = Math.max(1, windowBytes / size);
        for (long done = 0; done < count; ) {
            int n = (int) Math.min(perWindow, count - done);
            long position = dataStart + t.begin() + (first + done) * size;
            MappedByteBuffer window = channel.map(FileChannel.MapMode.READ_ONLY, position, (long) n * size);
            window.order(ByteOrder.LITTLE_ENDIAN);
            convert(t.dtype(), window, dst, n);
            done += n;
        }
    }

    private static void convert(DType dtype, ByteBuffer src, FloatBuffer dst, int n) {
        switch (dtype) {
            case F32 -> dst.put(src.asFloatBuffer());
            case F16 -> {
                ShortBuffer shorts = src.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    dst.put(FloatFormats.halfToFloat(shorts.get(i)));
                }
            }
            case BF16 -> {
                ShortBuffer shorts = src.asShortBuffer();
                for (int i = 0; i < n; i++) {
                    dst.put(FloatFormats.bfloat16ToFloat(shorts.get(i)));
                }
            }
            case F64 -> {
                DoubleBuffer doubles = src.asDoubleBuffer();
                for (int i = 0; i < n; i++) {
                    dst.put((float) doubles.get(i));
                }
            }
            default -> throw new IllegalStateException("not readable: " + dtype);
        }
    }

    /** Closes the file. Arrays already read stay valid. */
    @Override
    public void close() throws IOException {
        closed = true;
        channel.close();
    }

    @Override
    public String toString() {
        return "SafeTensors[" + file + ", " + tensors.size() + " tensors]";
    }
}
