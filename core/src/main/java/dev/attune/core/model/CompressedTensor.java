package dev.attune.core.model;

import static org.nd4j.linalg.indexing.NDArrayIndex.all;
import static org.nd4j.linalg.indexing.NDArrayIndex.interval;

import dev.attune.core.engine.Engine;
import dev.attune.core.engine.HostBuffers;
import dev.attune.core.engine.Parallel;
import dev.attune.core.io.FloatFormats;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One weight matrix of a compressed model ({@link GptModel#compressed(WeightFormat)}), held as bfloat16 or int8 and
 * multiplied in float32 without a float copy of the matrix. Seen from outside it has the Hugging Face name and shape
 * of the tensor it replaces ({@code [in, out]} for the Conv1D projections, {@code [V, C]} for {@code wte}); inside,
 * one row per output channel, so the product's inner loop runs over contiguous weights.
 *
 * <p>INT8 is symmetric and weight-only: each block of {@link #groupSize()} consecutive inputs of an output channel
 * shares one float32 scale, {@code w = q * scale} with {@code q} in [-127, 127] and {@code scale = max|w| / 127}
 * over the block. The scales form a tensor of the weight's shape with the input axis divided by the group size,
 * rounded up (the input axis is the first of a Conv1D weight and the second of {@code wte}).
 */
public final class CompressedTensor {

    /** Rows up to which the one-token decoding step runs over Java arrays ({@link Block#forwardOneToken}). */
    static final int PACKED_ROWS = 8;
    /**
     * Input rows up to which a product runs the packed kernels; larger batches (scoring, long prompts) dequantize
     * blocks for a GEMM. The packed kernels convert each weight once per four rows, so their cost grows with the rows,
     * while the GEMM path pays for writing a float copy of every block and for MKL's thread hand-offs: a 16-token
     * prompt of GPT-2 small (int8) took about the same CPU time both ways, and 65-180 ms of wall time (packed kernels on
     * the step team) against 145-260 ms through the GEMM (2026-12-02, busy machine, the measuring process at high
     * priority).
     */
    static final int PACKED_MAX_ROWS = 32;
    /** Elements of one dequantized block for the GEMM path (4 MB). */
    private static final int BLOCK_ELEMENTS = 1 << 20;
    private static final ThreadLocal<INDArray> BLOCK = new ThreadLocal<>();
    private final String name;
    private final WeightFormat format;
    private final int out;
    private final int in;
    private final boolean conv1d;  // stored by Hugging Face as [in, out]
    private short[] bf16;          // [out * in]
    private byte[] q;              // [out * in]
    private float[] scales;        // [out * groups]
    private int group;

    private CompressedTensor(String name, WeightFormat format, int out, int in, boolean conv1d) {
        if (format == WeightFormat.FP32) {
            throw new IllegalArgumentException("FP32 weights are not compressed");
        }
        this.name = name;
        this.format = format;
        this.out = out;
        this.in = in;
        this.conv1d = conv1d;
        long n = (long) out * in;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("tensor '" + name + "' has " + n + " weights, more than a compressed "
                    + "tensor holds (2^31)");
        }
        if (format == WeightFormat.BF16) {
            bf16 = new short[(int) n];
        } else {
            q = new byte[(int) n];
            group = WeightFormat.INT8_GROUP;
            scales = new float[out * groups()];
        }
    }

    /**
     * Fails unless compressed weights can run here: on ND4J's CPU backend (the kernels read host memory) in a JVM
     * started with {@code --add-modules jdk.incubator.vector}.
     */
    static void requireSupported() {
        if (!Engine.isCpu()) {
            throw new IllegalStateException("compressed weights run on ND4J's CPU backend only, this is "
                    + Engine.init().backend());
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            throw new IllegalStateException("compressed weights need the Java Vector API: start the JVM with "
                    + "--add-modules jdk.incubator.vector (the attune launcher and the Maven build pass it)");
        }
    }

    /**
     * A zero tensor standing for the Hugging Face tensor {@code name} ({@code wte.weight} or a projection weight,
     * see {@link GptModel#compressedNames}) of shape {@code hfShape}, for loaders to fill with {@link #load} or
     * {@link #quantize}.
     */
    public static CompressedTensor zeros(String name, WeightFormat format, long[] hfShape) {
        boolean conv1d = !name.equals("wte.weight");
        int rows = Math.toIntExact(hfShape[0]);
        int cols = Math.toIntExact(hfShape[1]);
        return conv1d ? new CompressedTensor(name, format, cols, rows, true)
                : new CompressedTensor(name, format, rows, cols, false);
    }

    /** The Hugging Face name, e.g. {@code h.0.attn.c_attn.weight}. */
    public String name() {
        return name;
    }

    public WeightFormat format() {
        return format;
    }

    /** The Hugging Face shape: {@code [in, out]} for a Conv1D weight, {@code [V, C]} for {@code wte}. */
    public long[] shape() {
        return conv1d ? new long[] {in, out} : new long[] {out, in};
    }

    /** Inputs per int8 scale; 0 for bfloat16. */
    public int groupSize() {
        return format == WeightFormat.INT8 ? group : 0;
    }

    /** The shape of {@link #scales()}: {@link #shape()} with the input axis divided by the group size, rounded up. */
    public long[] scaleShape() {
        requireInt8();
        return conv1d ? new long[] {groups(), out} : new long[] {out, groups()};
    }

    /** False when a value (bf16) or a scale (int8) is infinite or NaN. */
    public boolean isFinite() {
        if (format == WeightFormat.INT8) {
            for (float s : scales) {
                if (!Float.isFinite(s)) {
                    return false;
                }
            }
            return true;
        }
        for (short v : bf16) {
            if ((v & 0x7f80) == 0x7f80) {
                return false;
            }
        }
        return true;
    }

    /** Bytes the compressed values and scales occupy. */
    public long bytes() {
        return format == WeightFormat.BF16 ? 2L * bf16.length : q.length + 4L * scales.length;
    }

    private int groups() {
        return (in + group - 1) / group;
    }

    private void requireInt8() {
        if (format != WeightFormat.INT8) {
            throw new IllegalStateException("tensor '" + name + "' is " + format.id() + ": only int8 has scales");
        }
    }

    // --------------------------------------------------------------------------------- conversion and storage

    /**
     * Compresses float weights of the Hugging Face shape into this tensor: bfloat16 rounds to nearest even, int8
     * takes each block's scale from its largest magnitude and rounds to nearest.
     */
    public void quantize(INDArray hf) {
        if (!Arrays.equals(hf.shape(), shape())) {
            throw new IllegalArgumentException("tensor '" + name + "' has shape " + Arrays.toString(shape())
                    + ", got values of shape " + Arrays.toString(hf.shape()));
        }
        if (hf.dataType() == DataType.FLOAT && HostBuffers.isDense(hf) && Engine.isCpu()) {
            quantizeSlabs(HostBuffers.floats(hf));
            return;
        }
        float[] w = (conv1d ? hf.transpose() : hf).castTo(DataType.FLOAT).dup('c').data().asFloat(); // [out, in]
        if (format == WeightFormat.BF16) {
            Parallel.rows(out, 64, (from, to) -> {
                for (int i = from * in; i < to * in; i++) {
                    bf16[i] = FloatFormats.floatToBfloat16(w[i]);
                }
            });
            return;
        }
        group = WeightFormat.INT8_GROUP;
        scales = new float[out * groups()];
        Parallel.rows(out, 64, (from, to) -> {
            for (int o = from; o < to; o++) {
                for (int g = 0; g < groups(); g++) {
                    quantizeGroup(w, o * in + g * group, 1, Math.min(in, (g + 1) * group) - g * group, o, g);
                }
            }
        });
    }

    /**
     * {@link #quantize} reading the float32 host memory of the Hugging Face tensor directly, a slab of rows at a time:
     * no transposed copy of the matrix, no Java copy of it, so compressing a model needs little memory beyond the
     * float32 original and the result (it was twice the float32 model in transient copies). A Conv1D weight is
     * {@code [in, out]}: a slab of {@code group} input rows holds one group of every output channel.
     */
    private void quantizeSlabs(FloatBuffer hf) {
        if (format == WeightFormat.INT8) {
            group = WeightFormat.INT8_GROUP;
            scales = new float[out * groups()];
        }
        int slabRows = conv1d ? (format == WeightFormat.INT8 ? group : 64) : 64;
        int hfRows = conv1d ? in : out;
        int hfCols = conv1d ? out : in;
        int slabs = (hfRows + slabRows - 1) / slabRows;
        Parallel.rows(slabs, 1, (first, last) -> {
            float[] slab = new float[slabRows * hfCols];
            for (int k = first; k < last; k++) {
                int r0 = k * slabRows;
                int n = Math.min(slabRows, hfRows - r0);
                hf.get(r0 * hfCols, slab, 0, n * hfCols);
                if (format == WeightFormat.BF16) {
                    for (int r = 0; r < n; r++) {
                        for (int c = 0; c < hfCols; c++) {
                            int at = conv1d ? c * in + r0 + r : (r0 + r) * in + c;   // [out, in] inside
                            bf16[at] = FloatFormats.floatToBfloat16(slab[r * hfCols + c]);
                        }
                    }
                } else if (conv1d) {
                    for (int o = 0; o < out; o++) {                     // one group (this slab) of every output
                        quantizeGroup(slab, o, out, n, o, k, r0);
                    }
                } else {
                    for (int r = 0; r < n; r++) {                       // whole output rows, every group
                        for (int g = 0; g < groups(); g++) {
                            quantizeGroup(slab, r * in + g * group, 1, Math.min(in, (g + 1) * group) - g * group,
                                    r0 + r, g);
                        }
                    }
                }
            }
        });
    }

    /**
     * Group {@code g} of output row {@code o}: {@code n} weights at {@code w[at], w[at + stride], ...}; the scale is
     * the largest magnitude / 127, each weight rounds to the nearest step.
     */
    private void quantizeGroup(float[] w, int at, int stride, int n, int o, int g) {
        quantizeGroup(w, at, stride, n, o, g, g * group);
    }

    private void quantizeGroup(float[] w, int at, int stride, int n, int o, int g, int firstInput) {
        float max = 0;
        for (int i = 0; i < n; i++) {
            max = Math.max(max, Math.abs(w[at + i * stride]));
        }
        float scale = max / 127f;
        scales[o * groups() + g] = scale;
        int base = o * in + firstInput;
        for (int i = 0; i < n; i++) {
            q[base + i] = scale == 0 ? 0 : (byte) Math.max(-127, Math.min(127, Math.round(w[at + i * stride] / scale)));
        }
    }

    /** The float32 values this tensor stands for, in the Hugging Face shape (a new array). */
    public INDArray dequantize() {
        float[] w = new float[out * in];
        Parallel.rows(out, 64, (from, to) -> {
            for (int o = from; o < to; o++) {
                dequantizeRow(o, w, o * in);
            }
        });
        INDArray rows = Nd4j.createFromArray(w).reshape(out, in);
        return conv1d ? rows.transpose().dup('c') : rows;
    }

    /** Output row {@code o} as floats into {@code dst[offset ..]} ({@code in} values). */
    void dequantizeRow(int o, float[] dst, int offset) {
        if (format == WeightFormat.BF16) {
            PackedKernels.bf16Row(bf16, in, o, dst, offset);
        } else {
            PackedKernels.int8Row(q, scales, in, group, o, dst, offset);
        }
    }

    /**
     * The stored values as little-endian bytes in the Hugging Face shape's row-major order: one byte an element for
     * int8 (two's complement), two for bfloat16. This is what a safetensors {@code I8} or {@code BF16} tensor holds.
     */
    public byte[] storedBytes() {
        int n = out * in;
        if (format == WeightFormat.INT8) {
            if (!conv1d) {
                return q.clone();
            }
            byte[] b = new byte[n];
            for (int o = 0; o < out; o++) {
                for (int i = 0; i < in; i++) {
                    b[i * out + o] = q[o * in + i];
                }
            }
            return b;
        }
        ByteBuffer b = ByteBuffer.allocate(2 * n).order(ByteOrder.LITTLE_ENDIAN);
        for (int k = 0; k < n; k++) {
            b.putShort(2 * k, bf16[conv1d ? (k % out) * in + k / out : k]);
        }
        return b.array();
    }

    /** The int8 scales in the order of {@link #scaleShape()} (a copy). */
    public float[] scales() {
        requireInt8();
        if (!conv1d) {
            return scales.clone();
        }
        int groups = groups();
        float[] s = new float[scales.length];
        for (int o = 0; o < out; o++) {
            for (int g = 0; g < groups; g++) {
                s[g * out + o] = scales[o * groups + g];
            }
        }
        return s;
    }

    /**
     * Replaces the values with stored ones, as {@link #storedBytes()} and {@link #scales()} give them (a file's
     * tensors); {@code scales} and {@code groupSize} are ignored for bfloat16.
     */
    public void load(byte[] stored, float[] storedScales, int groupSize) {
        int n = out * in;
        int width = format == WeightFormat.INT8 ? 1 : 2;
        if (stored.length != (long) n * width) {
            throw new IllegalArgumentException("tensor '" + name + "' needs " + (long) n * width + " bytes of "
                    + format.id() + " values, got " + stored.length);
        }
        if (format == WeightFormat.BF16) {
            ByteBuffer b = ByteBuffer.wrap(stored).order(ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k < n; k++) {
                bf16[conv1d ? (k % out) * in + k / out : k] = b.getShort(2 * k);
            }
            return;
        }
        if (groupSize <= 0) {
            throw new IllegalArgumentException("tensor '" + name + "': int8 group size must be positive, got "
                    + groupSize);
        }
        int groups = (in + groupSize - 1) / groupSize;
        if (storedScales.length != (long) out * groups) {
            throw new IllegalArgumentException("tensor '" + name + "' with groups of " + groupSize + " needs "
                    + (long) out * groups + " scales, got " + storedScales.length);
        }
        for (int k = 0; k < n; k++) {
            q[conv1d ? (k % out) * in + k / out : k] = stored[k];
        }
        group = groupSize;
        scales = new float[out * groups];
        for (int k = 0; k < scales.length; k++) {
            scales[conv1d ? (k % out) * groups + k / out : k] = storedScales[k];
        }
    }

    // ------------------------------------------------------------------------------------------------ products

    /**
     * {@code y = x W (+ bias)} for {@code x [R, in]} and {@code y [R, out]} (float32 host arrays). Up to
     * {@link #PACKED_MAX_ROWS} rows run the packed kernels, split by output rows over the engine's threads; more rows
     * (prompts, scoring) are a GEMM, so blocks of the matrix are dequantized into a scratch buffer that stays small.
     */
    void multiply(INDArray x, INDArray y, INDArray bias) {
        int rows = (int) x.rows();
        if (x.columns() != in || y.rows() != rows || y.columns() != out) {
            throw new IllegalArgumentException("tensor '" + name + "' maps " + in + " inputs to " + out + " outputs, "
                    + "got x " + Arrays.toString(x.shape()) + " and y " + Arrays.toString(y.shape()));
        }
        if (rows > PACKED_MAX_ROWS) {
            multiplyBlocks(x, y);
            if (bias != null) {
                y.addiRowVector(bias);
            }
            return;
        }
        // each check of an INDArray's layout costs microseconds of ND4J shape queries: once per operand
        float[][] scratch = PackedKernels.rowsScratch(rows * in, rows * out);
        float[] xs = scratch[0];
        HostBuffers.window(HostBuffers.isDense(x) ? x : x.dup('c'), 0, rows * in).get(0, xs, 0, rows * in);
        float[] ys = scratch[1];
        float[] b = null;
        if (bias != null) {
            b = new float[out];
            HostBuffers.window(bias, 0, out).get(0, b);               // a contiguous [out] view
        }
        multiply(xs, rows, ys, b, false);
        if (HostBuffers.isDense(y)) {
            HostBuffers.window(y, 0, rows * out).put(0, ys, 0, rows * out);
        } else {
            y.assign(Nd4j.createFromArray(Arrays.copyOf(ys, rows * out)).reshape(rows, out));
        }
    }

    /**
     * {@code y = x W + bias} over Java arrays ({@code x [rows, in]}, {@code y [rows, out]}, {@code bias} [out] or
     * null), then GELU when {@code gelu}: the packed kernels for up to {@link #PACKED_MAX_ROWS} rows, split by output rows
     * over the engine's threads, each part adding the bias to its own outputs (and applying GELU) while they are in cache.
     */
    void multiply(float[] x, int rows, float[] y, float[] bias, boolean gelu) {
        if (rows > PACKED_MAX_ROWS || x.length < rows * in || y.length < rows * out
                || (bias != null && bias.length < out)) {
            throw new IllegalArgumentException("tensor '" + name + "' maps " + in + " inputs to " + out
                    + " outputs for up to " + PACKED_MAX_ROWS + " rows, got " + rows + " rows, x of " + x.length
                    + ", y of " + y.length + (bias == null ? "" : ", bias of " + bias.length));
        }
        if (format == WeightFormat.INT8) {
            PackedKernels.product(rows, out, y, bias, gelu,
                    (from, to) -> PackedKernels.int8(x, rows, q, scales, in, out, group, y, from, to));
        } else {
            PackedKernels.product(rows, out, y, bias, gelu,
                    (from, to) -> PackedKernels.bf16(x, rows, bf16, in, out, y, from, to));
        }
    }

    /** y = x W^T block by block of output rows: dequantize a block, then one GEMM into y's matching columns. */
    private void multiplyBlocks(INDArray x, INDArray y) {
        int blockRows = Math.max(1, Math.min(out, BLOCK_ELEMENTS / in));
        INDArray block = BLOCK.get();
        if (block == null || block.length() < (long) blockRows * in) {
            block = Nd4j.create(DataType.FLOAT, Math.max(BLOCK_ELEMENTS, (long) blockRows * in));
            BLOCK.set(block);
        }
        INDArray scratch = block;
        for (int o0 = 0; o0 < out; o0 += blockRows) {
            int n = Math.min(blockRows, out - o0);
            int first = o0;
            FloatBuffer dst = HostBuffers.window(scratch, 0, n * in);
            Parallel.rows(n, 16, (from, to) -> {
                float[] row = new float[in];
                for (int o = from; o < to; o++) {
                    dequantizeRow(first + o, row, 0);
                    dst.put(o * in, row);
                }
            });
            INDArray w = scratch.get(interval(0, (long) n * in)).reshape(n, in);     // [n, in]
            Ops.gemm(x, false, w, true, y.get(all(), interval(o0, o0 + n)), 1.0, 0.0);
        }
    }

    @Override
    public String toString() {
        return "CompressedTensor[" + name + " " + format.id() + " " + Arrays.toString(shape())
                + (format == WeightFormat.INT8 ? ", groups of " + group : "") + "]";
    }
}
