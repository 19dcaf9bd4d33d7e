package dev.attune.core.model;

import dev.attune.core.engine.HostBuffers;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The output projection, tied to the token embedding ({@code logits = x wte^T}), and the cross-entropy loss. */
final class LmHead {

    /** Logit matrices up to this many elements get {@link RowKernels#exp} instead of ND4J's native exp. */
    static final long JAVA_EXP_MAX = 1L << 20;

    private final Param wteParam;
    private final INDArray wte;      // [V, C]; null when compressed
    private final CompressedTensor compressed;  // null: float32 weights
    private final ByteBuffer wteBytes;           // wte's host memory, for that kernel; null where it cannot read it

    LmHead(Param wte, CompressedTensor compressed, boolean decodingLayout) {
        this.wteParam = wte;
        this.wte = wte.value;
        this.compressed = compressed;
        this.wteBytes = decodingLayout && compressed == null ? Linear.readableBytes(wte.value) : null;
    }

    /** x [R, C] -> logits [R, V]. */
    void forward(INDArray x, INDArray logits) {
        if (compressed != null) {
            compressed.multiply(x, logits, null);
            return;
        }
        if (wteBytes != null && x.rows() <= CompressedTensor.PACKED_ROWS && Block.VECTOR_API
                && Ops.hostKernels(logits.dataType()) && HostBuffers.isDense(x) && HostBuffers.isDense(logits)) {
            forwardRows(x, logits);
            return;
        }
        Ops.gemm(x, false, wte, true, logits, 1.0, 0.0);
    }

    /**
     * A decoding step's logits: wte [V, C] already holds one row per output (a vocabulary entry), so the packed
     * kernel reads it as one contiguous stream per thread.
     */
    private void forwardRows(INDArray x, INDArray logits) {
        int rows = (int) x.rows();
        int c = (int) x.columns();
        int v = (int) logits.columns();
        float[][] scratch = PackedKernels.rowsScratch(rows * c, rows * v);
        float[] xs = scratch[0];
        float[] ys = scratch[1];
        HostBuffers.window(x, 0, rows * c).get(0, xs, 0, rows * c);
        ByteBuffer w = wteBytes;
        PackedKernels.product(rows, v, ys, null, false, (from, to) -> PackedKernels.fp32(xs, rows, w, c, v, ys, from, to));
        HostBuffers.window(logits, 0, rows * v).put(0, ys, 0, rows * v);
    }

    /**
     * dlogits [R, V] -> dx [R, C] (overwritten) and the wte gradient (overwritten, or added to; skipped while the base
     * is frozen).
     */
    void backward(INDArray x, INDArray dlogits, INDArray dx, boolean accumulate) {
        INDArray wteGrad = wteParam.grad();
        if (wteGrad != null) {
            Ops.gemm(dlogits, true, x, false, wteGrad, 1.0, accumulate ? 1.0 : 0.0);
        }
        Ops.gemm(dlogits, false, wte, false, dx, 1.0, 0.0);
    }

    /**
     * Summed cross-entropy of {@code targets} (entries below zero skipped) under {@code logits} [R, V]. When
     * {@code gradScale} is not NaN, turns logits in place into d(loss * gradScale)/d(logits); otherwise leaves
     * softmax probabilities there.
     */
    static double crossEntropy(INDArray logits, int[] targets, double gradScale) {
        return crossEntropy(logits, targets, gradScale, new double[(int) logits.rows()], null);
    }

    /**
     * As {@link #crossEntropy(INDArray, int[], double)}, also writing each row's loss ({@code -log p(target)}, 0 for
     * skipped rows) into {@code rowLoss} and, when {@code greedy} is not null, whether the target is the row's argmax
     * (ties count).
     */
    static double crossEntropy(INDArray logits, int[] targets, double gradScale, double[] rowLoss, boolean[] greedy) {
        if (Ops.hostKernels(logits.dataType())) {
            return crossEntropyHost(logits, targets, gradScale, rowLoss, greedy);
        }
        int rows = (int) logits.rows();
        INDArray max = logits.max(1);
        logits.subiColumnVector(max);
        double[] targetLogit = new double[rows];
        for (int r = 0; r < rows; r++) {
            if (targets[r] >= 0) {
                targetLogit[r] = logits.getDouble(r, targets[r]);
                if (greedy != null) {
                    greedy[r] = targetLogit[r] >= 0;  // the row's max is 0 after the shift
                }
            }
        }
        Transforms.exp(logits, false);
        INDArray sums = logits.sum(1);
        logits.diviColumnVector(sums);
        double loss = 0;
        double[] sum = sums.toDoubleVector();
        for (int r = 0; r < rows; r++) {
            if (targets[r] >= 0) {
                rowLoss[r] = Math.log(sum[r]) - targetLogit[r];
                loss += rowLoss[r];
            }
        }
        if (!Double.isNaN(gradScale)) {
            double[] rowScale = new double[rows];
            for (int r = 0; r < rows; r++) {
                if (targets[r] >= 0) {
                    logits.putScalar(r, targets[r], logits.getDouble(r, targets[r]) - 1.0);
                    rowScale[r] = gradScale;
                }
            }
            logits.muliColumnVector(Nd4j.createFromArray(rowScale).castTo(logits.dataType()).reshape(rows, 1));
        }
        return loss;
    }

    /**
     * Cross-entropy over host memory in three sweeps: per row, subtract the max (Java); exponentiate the whole matrix
     * in one native, vectorised call (Java's Math.exp on 50M logits cost more than the LM head's GEMM), or, up to
     * {@link #JAVA_EXP_MAX} logits, with {@link RowKernels#exp} in the first sweep; then per row
     * sum, the target's loss and, for training, {@code (softmax - onehot) * gradScale} in place (Java).
     */
    private static double crossEntropyHost(INDArray logits, int[] targets, double gradScale, double[] rowLoss,
                                           boolean[] greedy) {
        int rows = (int) logits.rows();
        int v = (int) logits.columns();
        boolean gradient = !Double.isNaN(gradScale);
        // Small logits (a small vocabulary) are exponentiated in the first sweep: there one native call's fixed cost
        // and threading outweighed the work (7% of the tiny model's training step under load).
        boolean javaExp = logits.length() <= JAVA_EXP_MAX;
        float[] shiftedTarget = new float[rows];
        Ops.split(rows, 8, (from, to) -> {
            float[] row = new float[v];
            float[] exps = javaExp ? new float[v] : null;
            RowWindows windows = new RowWindows(logits, v, to);
            for (int r = from; r < to; r++) {
                FloatBuffer buffer = windows.at(r);
                int at = windows.offset(r);
                buffer.get(at, row);
                float max = Float.NEGATIVE_INFINITY;
                for (int j = 0; j < v; j++) {
                    max = Math.max(max, row[j]);
                }
                for (int j = 0; j < v; j++) {
                    row[j] -= max;
                }
                if (targets[r] >= 0) {
                    shiftedTarget[r] = row[targets[r]];
                    if (greedy != null) {
                        greedy[r] = shiftedTarget[r] >= 0;  // the row's max is 0 after the shift
                    }
                }
                if (javaExp) {
                    RowKernels.exp(row, v, exps);
                }
                buffer.put(at, row);
            }
        });
        if (!javaExp) {
            Transforms.exp(logits, false);
        }
        Ops.split(rows, 8, (from, to) -> {
            float[] row = new float[v];
            RowWindows windows = new RowWindows(logits, v, to);
            for (int r = from; r < to; r++) {
                FloatBuffer buffer = windows.at(r);
                int at = windows.offset(r);
                buffer.get(at, row);
                double sum = 0;
                for (int j = 0; j < v; j++) {
                    sum += row[j];
                }
                int t = targets[r];
                if (t >= 0) {
                    rowLoss[r] = Math.log(sum) - shiftedTarget[r];
                }
                if (gradient) {
                    float scale = t >= 0 ? (float) (gradScale / sum) : 0f;
                    for (int j = 0; j < v; j++) {
                        row[j] *= scale;
                    }
                    if (t >= 0) {
                        row[t] -= (float) gradScale;
                    }
                    buffer.put(at, row);
                }
            }
        });
        double loss = 0;
        for (double l : rowLoss) {
            loss += l;
        }
        return loss;
    }

    /**
     * Consecutive rows of a logits matrix through as few buffers as possible: one per range rather than one per row
     * (each buffer is a JNI call and a liveness check; the tiny model's step made 1,024 of them, about 1% of its JFR
     * samples). A buffer spans at most 2^31 - 1 elements, so GPT-2's vocabulary gets a new one every 42,700 rows.
     */
    private static final class RowWindows {
        private final INDArray logits;
        private final int v;
        private final int end;
        private final int maxRows;
        private FloatBuffer buffer;
        private int first;
        private int last;

        RowWindows(INDArray logits, int v, int end) {
            this.logits = logits;
            this.v = v;
            this.end = end;
            this.maxRows = Math.max(1, Integer.MAX_VALUE / Math.max(1, v));
        }

        /** The buffer holding row {@code r}; rows are asked for in increasing order. */
        FloatBuffer at(int r) {
            if (buffer == null || r < first || r >= last) {
                first = r;
                last = (int) Math.min(end, (long) r + maxRows);
                buffer = HostBuffers.window(logits, (long) r * v, (last - first) * v);
            }
            return buffer;
        }

        /** Where row {@code r} starts in {@link #at}'s buffer. */
        int offset(int r) {
            return (r - first) * v;
        }
    }
}
