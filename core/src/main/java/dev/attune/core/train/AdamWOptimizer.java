package dev.attune.core.train;

import dev.attune.core.engine.Engine;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * AdamW over one flat parameter buffer: the moments are flat buffers of the same length, and an update is one
 * pass over parameters, gradients and moments together (with gradient clipping folded in as a scale).
 *
 * <p>On the CPU backend the pass is a Java loop over the native memory, in tiles of {@value #TILE} floats copied
 * to heap arrays (which the JIT vectorises), split across the engine's threads. Elsewhere it is a short sequence
 * of ND4J operations per contiguous range. Both give the same numbers up to float rounding, and the result does
 * not depend on the thread count.
 */
final class AdamWOptimizer {

    /** Elements per tile: four tiles of floats (p, g, m, v) fit in a core's L2 cache. */
    static final int TILE = 1 << 14;

    private final AdamW config;
    private final INDArray parameters;
    private final INDArray gradients;
    private final INDArray firstMoment;
    private final INDArray secondMoment;
    private final List<Range> ranges;
    private final boolean hostKernel;
    private final int threads;
    /** Tiles in buffer order; thread k handles tiles [split[k], split[k+1]). */
    private final long[] tileStart;
    private final int[] tileLength;
    private final boolean[] tileDecays;
    private final int[] split;
    private long step;

    /** A contiguous run of tensors that share one weight-decay choice. */
    record Range(long from, long to, boolean decays) {
    }

    AdamWOptimizer(AdamW config, INDArray parameters, INDArray gradients, List<TrainableTensor> tensors) {
        this(config, parameters, gradients, tensors, Engine.isCpu(), Engine.init().threads());
    }

    AdamWOptimizer(AdamW config, INDArray parameters, INDArray gradients, List<TrainableTensor> tensors,
                   boolean hostKernel, int threads) {
        HostFloats.requireFlat(parameters, "parameters");
        HostFloats.requireFlat(gradients, "gradients");
        if (parameters.length() != gradients.length()) {
            throw new IllegalArgumentException("parameters have " + parameters.length() + " elements but gradients "
                    + gradients.length());
        }
        this.config = config;
        this.parameters = parameters;
        this.gradients = gradients;
        this.ranges = ranges(config, tensors, parameters.length());
        this.firstMoment = Nd4j.zeros(DataType.FLOAT, parameters.length());
        this.secondMoment = Nd4j.zeros(DataType.FLOAT, parameters.length());
        this.hostKernel = hostKernel;
        this.threads = Math.max(1, threads);

        List<long[]> tiles = new ArrayList<>();
        for (Range r : ranges) {
            for (long s = r.from; s < r.to; s += TILE) {
                tiles.add(new long[] {s, Math.min(TILE, r.to - s), r.decays ? 1 : 0});
            }
        }
        tileStart = new long[tiles.size()];
        tileLength = new int[tiles.size()];
        tileDecays = new boolean[tiles.size()];
        for (int i = 0; i < tiles.size(); i++) {
            tileStart[i] = tiles.get(i)[0];
            tileLength[i] = (int) tiles.get(i)[1];
            tileDecays[i] = tiles.get(i)[2] == 1;
        }
        int parts = Math.min(this.threads, Math.max(1, tiles.size()));
        split = new int[parts + 1];
        for (int k = 0; k <= parts; k++) {
            split[k] = (int) ((long) tiles.size() * k / parts);
        }
    }

    /** Sorts the tensors, checks they do not overlap or overrun the buffer, and merges neighbours. */
    static List<Range> ranges(AdamW config, List<TrainableTensor> tensors, long bufferLength) {
        if (tensors.isEmpty()) {
            throw new IllegalArgumentException("nothing to train: the list of trainable tensors is empty");
        }
        List<TrainableTensor> sorted = new ArrayList<>(tensors);
        sorted.sort(Comparator.comparingLong(TrainableTensor::offset));
        List<Range> out = new ArrayList<>();
        TrainableTensor previous = null;
        for (TrainableTensor t : sorted) {
            if (t.end() > bufferLength) {
                throw new IllegalArgumentException("tensor " + t + " runs past the end of the parameter buffer ("
                        + bufferLength + " elements)");
            }
            if (previous != null && t.offset() < previous.end()) {
                throw new IllegalArgumentException("tensors " + previous + " and " + t + " overlap");
            }
            boolean decays = config.weightDecay() > 0 && config.decays(t.name(), t.shape());
            Range last = out.isEmpty() ? null : out.get(out.size() - 1);
            if (last != null && last.to == t.offset() && last.decays == decays) {
                out.set(out.size() - 1, new Range(last.from, t.end(), decays));
            } else {
                out.add(new Range(t.offset(), t.end(), decays));
            }
            previous = t;
        }
        return List.copyOf(out);
    }

    AdamW config() {
        return config;
    }

    /** Number of updates applied so far ({@code t} in the bias corrections). */
    long step() {
        return step;
    }

    INDArray firstMoment() {
        return firstMoment;
    }

    INDArray secondMoment() {
        return secondMoment;
    }

    List<Range> ranges() {
        return ranges;
    }

    /** Restores a saved state: the update count and both moments (copied in). */
    void restore(long updates, INDArray m, INDArray v) {
        if (updates < 0) {
            throw new IllegalArgumentException("negative optimizer step " + updates);
        }
        if (m.length() != firstMoment.length() || v.length() != secondMoment.length()) {
            throw new IllegalArgumentException("optimizer state has " + m.length() + "/" + v.length()
                    + " elements, the model trains " + firstMoment.length());
        }
        firstMoment.assign(m.reshape(firstMoment.length()));
        secondMoment.assign(v.reshape(secondMoment.length()));
        step = updates;
    }

    /**
     * The global L2 norm of the trained gradients, accumulated in double. NaN or infinite when any gradient is.
     */
    double gradientNorm() {
        if (!hostKernel) {
            double sum = 0;
            for (Range r : ranges) {
                double n = gradients.get(NDArrayIndex.interval(r.from, r.to)).norm2Number().doubleValue();
                sum += n * n;
            }
            return Math.sqrt(sum);
        }
        double[] partial = new double[tileStart.length];
        parallel(k -> {
            float[] g = new float[TILE];
            for (int i = split[k]; i < split[k + 1]; i++) {
                int n = tileLength[i];
                HostFloats.window(gradients, tileStart[i], n).get(0, g, 0, n);
                // four independent sums: one serial chain of double additions would be latency-bound
                double s0 = 0;
                double s1 = 0;
                double s2 = 0;
                double s3 = 0;
                int j = 0;
                for (; j + 3 < n; j += 4) {
                    s0 += (double) g[j] * g[j];
                    s1 += (double) g[j + 1] * g[j + 1];
                    s2 += (double) g[j + 2] * g[j + 2];
                    s3 += (double) g[j + 3] * g[j + 3];
                }
                for (; j < n; j++) {
                    s0 += (double) g[j] * g[j];
                }
                partial[i] = (s0 + s1) + (s2 + s3);
            }
        });
        double sum = 0;
        for (double s : partial) {
            sum += s; // fixed order: the norm does not depend on the thread count
        }
        return Math.sqrt(sum);
    }

    /**
     * Applies one AdamW update with learning rate {@code lr}, the gradients first multiplied by
     * {@code gradientScale} (1 when not clipping).
     */
    void update(double lr, double gradientScale) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be finite and non-negative, got " + lr);
        }
        step++;
        double bias1 = 1 - Math.pow(config.beta1(), step);
        double bias2Sqrt = Math.sqrt(1 - Math.pow(config.beta2(), step));
        float stepSize = (float) (lr / bias1);
        float decay = (float) (1 - lr * config.weightDecay());
        if (hostKernel) {
            hostUpdate(stepSize, (float) bias2Sqrt, decay, (float) gradientScale);
        } else {
            ndUpdate(stepSize, bias2Sqrt, decay, gradientScale);
        }
    }

    private void hostUpdate(float stepSize, float bias2Sqrt, float decay, float scale) {
        float b1 = (float) config.beta1();
        float b2 = (float) config.beta2();
        float oneMinusB1 = (float) (1 - config.beta1());
        float oneMinusB2 = (float) (1 - config.beta2());
        float eps = (float) config.epsilon();
        parallel(k -> {
            float[] p = new float[TILE];
            float[] g = new float[TILE];
            float[] m = new float[TILE];
            float[] v = new float[TILE];
            for (int i = split[k]; i < split[k + 1]; i++) {
                int n = tileLength[i];
                long at = tileStart[i];
                FloatBuffer pb = HostFloats.window(parameters, at, n);
                FloatBuffer mb = HostFloats.window(firstMoment, at, n);
                FloatBuffer vb = HostFloats.window(secondMoment, at, n);
                pb.get(0, p, 0, n);
                HostFloats.window(gradients, at, n).get(0, g, 0, n);
                mb.get(0, m, 0, n);
                vb.get(0, v, 0, n);
                float d = tileDecays[i] ? decay : 1f;
                for (int j = 0; j < n; j++) {
                    float gj = g[j] * scale;
                    float mj = m[j] + oneMinusB1 * (gj - m[j]); // PyTorch's lerp(m, g, 1 - beta1)
                    float vj = b2 * v[j] + oneMinusB2 * gj * gj;
                    m[j] = mj;
                    v[j] = vj;
                    float denom = (float) Math.sqrt(vj) / bias2Sqrt + eps;
                    p[j] = p[j] * d - stepSize * (mj / denom);
                }
                pb.put(0, p, 0, n);
                mb.put(0, m, 0, n);
                vb.put(0, v, 0, n);
            }
        });
    }

    /** Elements per ND4J operation: bounds the temporaries each operation allocates. */
    private static final long ND_CHUNK = 1L << 22;

    private void ndUpdate(float stepSize, double bias2Sqrt, float decay, double scale) {
        for (Range whole : ranges) {
            for (long from = whole.from; from < whole.to; from += ND_CHUNK) {
                ndUpdate(new Range(from, Math.min(whole.to, from + ND_CHUNK), whole.decays), stepSize, bias2Sqrt,
                        decay, scale);
            }
        }
    }

    private void ndUpdate(Range r, float stepSize, double bias2Sqrt, float decay, double scale) {
        var span = NDArrayIndex.interval(r.from, r.to);
        INDArray p = parameters.get(span);
        INDArray g = gradients.get(span);
        INDArray m = firstMoment.get(span);
        INDArray v = secondMoment.get(span);
        INDArray gs = scale == 1 ? g : g.mul(scale);
        m.addi(gs.sub(m).muli(1 - config.beta1()));
        v.muli(config.beta2()).addi(gs.mul(gs).muli(1 - config.beta2()));
        if (r.decays) {
            p.muli(decay);
        }
        INDArray denom = Transforms.sqrt(v, true).divi(bias2Sqrt).addi(config.epsilon());
        p.subi(m.div(denom).muli(stepSize));
    }

    private void parallel(java.util.function.IntConsumer part) {
        int parts = split.length - 1;
        if (parts == 1) {
            part.accept(0);
        } else {
            IntStream.range(0, parts).parallel().forEach(part);
        }
    }
}
