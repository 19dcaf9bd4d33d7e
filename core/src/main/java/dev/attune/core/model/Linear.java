package dev.attune.core.model;

import dev.attune.core.engine.Engine;
import dev.attune.core.engine.HostBuffers;
import dev.attune.core.engine.StepTeam;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * GPT-2's Conv1D: {@code y = x W + b} with {@code W [in, out]} (the transpose of torch's Linear layout), and the slot
 * where a {@link ProjectionAdapter} wraps it. Forward and backward side by side.
 */
final class Linear {

    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final ThreadLocal<NativeRows> NATIVE_ROWS = ThreadLocal.withInitial(NativeRows::new);

    private final Param weightParam;
    private final Param biasParam;
    final INDArray weight;      // [in, out]; null when compressed
    final INDArray bias;        // [out]
    final CompressedTensor compressed;  // null: float32 weights
    /** The same float32 weights stored one row per output channel ({@link GptModel#forDecoding()}); else null. */
    final INDArray weightRows;  // [out, in], weight is its transposed view
    ProjectionAdapter adapter;  // null: the plain projection
    private INDArray adaptedInput;
    private Boolean denseWeight;        // null until hostRows() first asks
    private float[] hostBias;           // forwardRows' copy of the bias
    private FloatPointer weightPointer;  // forwardRows' view of the float32 weight's host memory
    private final ByteBuffer weightRowBytes;  // weightRows' host memory; null where the packed kernel cannot read it

    Linear(Param weight, Param bias, CompressedTensor compressed) {
        this(weight, bias, compressed, null);
    }

    Linear(Param weight, Param bias, CompressedTensor compressed, INDArray weightRows) {
        this.weightParam = weight;
        this.biasParam = bias;
        this.weight = weight.value;
        this.bias = bias.value;
        this.compressed = compressed;
        this.weightRows = weightRows;
        this.weightRowBytes = weightRows == null ? null : readableBytes(weightRows);
    }

    /** x [R, in] -> y [R, out]. */
    void forward(INDArray x, INDArray y, Pass p) {
        forward(x, y, p, null);
    }

    /**
     * x [R, in] -> y [R, out], then {@code after} on y's rows (null: nothing), each row in exactly one call: on the
     * product's row blocks as each is written where no adapter wraps this projection and the weights are float32 in
     * host memory (see {@link Ops#gemm(INDArray, boolean, INDArray, boolean, INDArray, double, double,
     * StepTeam.RowRange, StepTeam.RowRange)}), else over all rows once y is final. {@code after} reads host memory:
     * pass one only where {@link Ops#hostKernels} holds for y.
     */
    void forward(INDArray x, INDArray y, Pass p, StepTeam.RowRange after) {
        INDArray in = adapter == null ? x : adapter.forwardInput(x, p);
        boolean fused = false;
        if (compressed != null) {
            compressed.multiply(in, y, bias);                    // bf16 / int8 weights, read as stored
        } else {
            // W [in, out] is weightRows^T in the decoding layout
            INDArray w = weightRows == null ? weight : weightRows;
            boolean transposed = weightRows != null;
            if (Ops.hostKernels(y.dataType()) && HostBuffers.isDense(y) && HostBuffers.isDense(bias)) {
                int out = (int) bias.length();
                float[] b = new float[out];
                HostBuffers.window(bias, 0, out).get(0, b);
                FloatBuffer yb = HostBuffers.floats(y);
                // y = x W + y with y's rows first set to the bias (the bias rides in the GEMM), each block's rows by
                // the thread that computes the block; an adapter changes y afterwards, so then no row hook
                if (y.rank() == 2) {
                    fused = adapter == null;
                    Ops.gemm(in, false, w, transposed, y, 1.0, 1.0, (from, to) -> fillRows(yb, b, from, to),
                            fused ? after : null);
                } else {
                    fillRows(yb, b, 0, (int) (y.length() / out));
                    Ops.gemm(in, false, w, transposed, y, 1.0, 1.0);
                }
            } else {
                Ops.gemm(in, false, w, transposed, y, 1.0, 0.0);
                y.addiRowVector(bias);
            }
        }
        if (adapter != null) {
            adapter.forwardOutput(x, y, p);
            adaptedInput = in == x ? null : in;
        }
        if (after != null && !fused) {
            Ops.split((int) (y.length() / bias.length()), 4, after);
        }
    }

    /**
     * Every row of {@code y [R, out]} becomes {@code bias} (host memory): an ND4J broadcast add after the GEMM cost
     * more than the tiny model's GEMMs themselves (a quarter of a step's samples).
     */
    private static void fillRows(FloatBuffer y, float[] bias, int from, int to) {
        for (int r = from; r < to; r++) {
            y.put(r * bias.length, bias);
        }
    }

    /**
     * Whether {@link #forwardRows} can stand for {@link #forward}: no adapter wraps this projection (its hooks take
     * INDArrays) and the float32 weight, if that is what it holds, is one dense block of host memory.
     */
    boolean hostRows() {
        if (adapter != null) {
            return false;
        }
        if (denseWeight == null) {
            // the views never move: check once
            denseWeight = compressed != null || (weightRows != null ? weightRowBytes != null : HostBuffers.isDense(weight));
        }
        return denseWeight;
    }

    /** Output width. */
    int outputs() {
        return (int) bias.length();
    }

    /**
     * {@code y = x W + b} over Java arrays, {@code x [rows, in]} and {@code y [rows, out]} for a few rows (the
     * one-token decoding step), then GELU when {@code gelu}: compressed weights and the decoding layout through the
     * packed kernels, float32 weights in GPT-2's layout through one CBLAS call on a native copy of x. See
     * {@link #hostRows()}.
     */
    void forwardRows(float[] x, int rows, float[] y, boolean gelu) {
        int in = inputs();
        int out = outputs();
        if (hostBias == null) {
            hostBias = new float[out];
        }
        HostBuffers.window(bias, 0, out).get(0, hostBias);     // read each step: training may have changed it
        if (compressed != null) {
            compressed.multiply(x, rows, y, hostBias, gelu);
            return;
        }
        if (weightRows != null) {
            ByteBuffer w = weightRowBytes;
            PackedKernels.product(rows, out, y, hostBias, gelu,
                    (from, to) -> PackedKernels.fp32(x, rows, w, in, out, y, from, to));
            return;
        }
        NativeRows scratch = NATIVE_ROWS.get();
        FloatPointer xs = scratch.x(rows * in);
        FloatPointer ys = scratch.y(rows * out);
        xs.put(x, 0, rows * in);
        if (weightPointer == null) {
            weightPointer = new FloatPointer(weight.data().pointer()).position(weight.offset());
        }
        openblas_nolapack.cblas_sgemm(ROW_MAJOR, NO_TRANS, NO_TRANS, rows, out, in, 1f, xs, in, weightPointer, out,
                0f, ys, out);
        ys.get(y, 0, rows * out);
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                float v = y[r * out + o] + hostBias[o];
                y[r * out + o] = gelu ? RowKernels.gelu(v) : v;
            }
        }
    }

    /**
     * The host bytes of float32 weights for {@link PackedKernels#fp32}, or null where it cannot read them: not ND4J's
     * CPU backend, not one dense block of host memory, or 2^31 bytes or more (a byte buffer's limit). Kept out of
     * PackedKernels so that asking needs no Vector API.
     */
    static ByteBuffer readableBytes(INDArray weights) {
        return Engine.isCpu() && HostBuffers.isDense(weights) && 4 * weights.length() <= Integer.MAX_VALUE
                ? HostBuffers.bytes(weights) : null;
    }

    private int inputs() {
        return compressed != null ? (int) compressed.shape()[0] : (int) weight.size(0);
    }

    /** Native buffers for {@link #forwardRows}' float32 products, one pair per thread, grown as needed. */
    private static final class NativeRows {
        private FloatPointer x = new FloatPointer(0L);
        private FloatPointer y = new FloatPointer(0L);

        FloatPointer x(int n) {
            if (x.capacity() < n) {
                x.close();
                x = new FloatPointer((long) n);
            }
            return x;
        }

        FloatPointer y(int n) {
            if (y.capacity() < n) {
                y.close();
                y = new FloatPointer((long) n);
            }
            return y;
        }
    }

    /**
     * dy [R, out] -> dW, db (overwritten, or added to when the pass accumulates; skipped while the base is frozen)
     * and dx [R, in] (overwritten), through the adapter's hooks when one wraps this projection.
     */
    void backward(INDArray x, INDArray dy, INDArray dx, Pass p) {
        backward(x, dy, dx, p, true);
    }

    /**
     * As {@link #backward(INDArray, INDArray, INDArray, Pass)}; when {@code inputGradient} is false nothing reads dx
     * afterwards (the lowest trained layer of a frozen base), so the base's input-gradient GEMM is skipped unless the
     * adapter reads it ({@link ProjectionAdapter#readsInputGradient()}): dx then enters the adapter's
     * {@code backwardInput} as zeros, which still writes its parameters' gradients.
     */
    void backward(INDArray x, INDArray dy, INDArray dx, Pass p, boolean inputGradient) {
        backward(x, dy, dx, p, inputGradient, null);
    }

    /**
     * As {@link #backward(INDArray, INDArray, INDArray, Pass, boolean)}, then {@code after} on dx's rows (null:
     * nothing), each row in exactly one call: on the input-gradient product's row blocks as each is written where
     * no adapter wraps this projection, else over all rows at the end. {@code after} reads host memory: pass one
     * only where {@link Ops#hostKernels} holds for dx, and with {@code inputGradient}.
     */
    void backward(INDArray x, INDArray dy, INDArray dx, Pass p, boolean inputGradient, StepTeam.RowRange after) {
        if (compressed != null || weightRows != null) {
            throw new IllegalStateException((compressed != null ? "compressed weights are" : "the decoding layout is")
                    + " for inference only: train the float32 model");
        }
        INDArray dBase = adapter == null ? dy : adapter.backwardOutput(x, dy, p);
        INDArray in = adapter == null || adaptedInput == null ? x : adaptedInput;
        INDArray weightGrad = weightParam.grad();
        if (weightGrad != null) {
            double beta = p.accumulate() ? 1.0 : 0.0;
            Ops.gemm(in, true, dBase, false, weightGrad, 1.0, beta);
            Ops.sumRows(dBase, biasParam.grad(), p.accumulate());
        }
        if (inputGradient || adapter != null && adapter.readsInputGradient()) {
            Ops.gemm(dBase, false, weight, true, dx, 1.0, 0.0, null, adapter == null ? after : null);
        } else if (adapter != null) {
            dx.assign(0);
        }
        if (adapter != null) {
            adapter.backwardInput(x, dy, dx, p);
            if (after != null) {
                Ops.split((int) dx.rows(), 4, after);
            }
        }
    }
}
