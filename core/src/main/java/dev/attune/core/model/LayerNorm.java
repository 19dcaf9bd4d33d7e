package dev.attune.core.model;

import dev.attune.core.engine.HostBuffers;
import dev.attune.core.engine.StepTeam;
import dev.attune.core.engine.Engine;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Layer normalisation over the last dimension with GPT-2's epsilon. ND4J's native {@code layer_norm} has no
 * epsilon, so both passes are written here: a fused Java kernel on the CPU and plain ND4J ops elsewhere.
 */
final class LayerNorm {

    private final Param weightParam;
    private final Param biasParam;
    final INDArray weight;     // [C]
    final INDArray bias;       // [C]
    private final float eps;
    private float[] hostWeight;  // forwardRows' copies of weight and bias
    private float[] hostBias;

    LayerNorm(Param weight, Param bias, double eps) {
        this.weightParam = weight;
        this.biasParam = bias;
        this.weight = weight.value;
        this.bias = bias.value;
        this.eps = (float) eps;
    }

    /** x [R, C] -> out [R, C]; keeps mean [R] and 1/std [R] for the backward pass. */
    void forward(INDArray x, INDArray out, INDArray mean, INDArray rstd) {
        if (Ops.hostKernels(x.dataType())) {
            forwardHost(x, null, x, out, mean, rstd);
            return;
        }
        INDArray mu = x.mean(1);
        INDArray centered = x.subColumnVector(mu);
        INDArray variance = centered.mul(centered).mean(1);
        INDArray r = Transforms.pow(variance.addi(eps), -0.5, false);
        mean.assign(mu);
        rstd.assign(r);
        out.assign(centered.muliColumnVector(r).muliRowVector(weight).addiRowVector(bias));
    }

    /**
     * dout [R, C] -> dx [R, C] (always added to: it is the residual stream's gradient), dW and db (overwritten,
     * or added to when {@code accumulate}; skipped while the base is frozen).
     */
    void backward(INDArray dout, INDArray x, INDArray mean, INDArray rstd, INDArray dx, boolean accumulate) {
        if (Ops.hostKernels(x.dataType())) {
            backwardHost(dout, x, mean, rstd, dx, accumulate);
            return;
        }
        INDArray weightGrad = weightParam.grad();
        INDArray biasGrad = biasParam.grad();
        INDArray xhat = x.subColumnVector(mean).muliColumnVector(rstd);
        if (weightGrad != null) {
            INDArray dw = dout.mul(xhat).sum(0);
            INDArray db = dout.sum(0);
            if (accumulate) {
                weightGrad.addi(dw);
                biasGrad.addi(db);
            } else {
                weightGrad.assign(dw);
                biasGrad.assign(db);
            }
        }
        INDArray dnorm = dout.mulRowVector(weight);
        INDArray dnormMean = dnorm.mean(1);
        INDArray dnormXhatMean = dnorm.mul(xhat).mean(1);
        dx.addi(dnorm.subiColumnVector(dnormMean).subi(xhat.muliColumnVector(dnormXhatMean)).muliColumnVector(rstd));
    }

    /**
     * The forward pass over Java arrays, for the one-token decoding step: rows of {@code x [rows, C]} into
     * {@code out}, with the same arithmetic as the host kernel below (no statistics kept: nothing goes backward).
     */
    void forwardRows(float[] x, float[] out, int rows, int c) {
        if (hostWeight == null) {
            hostWeight = new float[c];
            hostBias = new float[c];
        }
        HostBuffers.window(weight, 0, c).get(0, hostWeight);  // read each step: training may have changed them
        HostBuffers.window(bias, 0, c).get(0, hostBias);
        for (int r = 0; r < rows; r++) {
            int at = r * c;
            float m = mean(x, at, c);
            float s = rstd(x, at, c, m, eps);
            for (int i = 0; i < c; i++) {
                out[at + i] = (x[at + i] - m) * s * hostWeight[i] + hostBias[i];
            }
        }
    }

    /**
     * The mean of {@code x[at, at + c)}, summed in double in four interleaved chains: one chain of dependent double
     * additions is bound by their latency (a row of 128 took about 0.7 us; four chains about 0.3).
     */
    static float mean(float[] x, int at, int c) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = 0;
        for (; i + 3 < c; i += 4) {
            s0 += x[at + i];
            s1 += x[at + i + 1];
            s2 += x[at + i + 2];
            s3 += x[at + i + 3];
        }
        for (; i < c; i++) {
            s0 += x[at + i];
        }
        return (float) (((s0 + s1) + (s2 + s3)) / c);
    }

    /** {@code 1 / sqrt(variance + eps)} of {@code x[at, at + c)} about {@code m}, in four chains as {@link #mean}. */
    static float rstd(float[] x, int at, int c, float m, float eps) {
        double v0 = 0;
        double v1 = 0;
        double v2 = 0;
        double v3 = 0;
        int i = 0;
        for (; i + 3 < c; i += 4) {
            float d0 = x[at + i] - m;
            float d1 = x[at + i + 1] - m;
            float d2 = x[at + i + 2] - m;
            float d3 = x[at + i + 3] - m;
            v0 += d0 * d0;
            v1 += d1 * d1;
            v2 += d2 * d2;
            v3 += d3 * d3;
        }
        for (; i < c; i++) {
            float d = x[at + i] - m;
            v0 += d * d;
        }
        return (float) (1.0 / Math.sqrt(((v0 + v1) + (v2 + v3)) / c + eps));
    }

    /**
     * {@code sum = x + branch} (a residual add, all [R, C]), then sum -> out as {@link #forward}: the host kernel adds
     * each row as it reads it, where a separate add was a pass on one thread (a [512, 128] add took about 100 us, the
     * work 12 us) with the other thread idle. Same bits as {@link Ops#add} then {@link #forward}.
     */
    void forwardSum(INDArray x, INDArray branch, INDArray sum, INDArray out, INDArray mean, INDArray rstd) {
        if (Ops.hostKernels(x.dataType()) && !Ops.separatePasses && HostBuffers.isDense(branch) && HostBuffers.isDense(sum)
                && x.length() == branch.length() && x.length() == sum.length()) {
            forwardHost(x, branch, sum, out, mean, rstd);
            return;
        }
        Ops.add(x, branch, sum);
        forward(sum, out, mean, rstd);
    }

    /** {@link #forward}, of {@code x + branch} written to {@code sum} where branch is not null. */
    private void forwardHost(INDArray x, INDArray branch, INDArray sum, INDArray out, INDArray mean, INDArray rstd) {
        Ops.split((int) x.rows(), 16, sumRows(x, branch, sum, out, mean, rstd));
    }

    /**
     * {@link #forwardSum}'s host kernel on a range of rows (branch null: {@link #forward}'s), for a product's row hook
     * ({@link Linear#forward(INDArray, INDArray, Pass, StepTeam.RowRange)}): attention's {@code c_proj} computes the
     * branch a block at a time, and each block's rows are added and normalised as soon as they are written.
     * All arrays dense in host memory, {@link Ops#hostKernels} holding.
     */
    StepTeam.RowRange sumRows(INDArray x, INDArray branch, INDArray sum, INDArray out, INDArray mean, INDArray rstd) {
        int c = (int) x.columns();
        FloatBuffer xb = HostBuffers.floats(x);
        FloatBuffer bb = branch == null ? null : HostBuffers.floats(branch);
        FloatBuffer sb = branch == null ? null : HostBuffers.floats(sum);
        FloatBuffer ob = HostBuffers.floats(out);
        FloatBuffer mb = HostBuffers.floats(mean);
        FloatBuffer rb = HostBuffers.floats(rstd);
        float[] w = new float[c];
        float[] b = new float[c];
        HostBuffers.floats(weight).get(0, w);
        HostBuffers.floats(bias).get(0, b);
        return (from, to) -> {
            float[] row = new float[c];
            float[] other = bb == null ? null : new float[c];
            for (int r = from; r < to; r++) {
                xb.get(r * c, row);
                if (bb != null) {
                    bb.get(r * c, other);
                    for (int i = 0; i < c; i++) {
                        row[i] += other[i];
                    }
                    sb.put(r * c, row);
                }
                float m = mean(row, 0, c);
                float s = rstd(row, 0, c, m, eps);
                for (int i = 0; i < c; i++) {
                    row[i] = (row[i] - m) * s * w[i] + b[i];
                }
                ob.put(r * c, row);
                mb.put(r, m);
                rb.put(r, s);
            }
        };
    }

    private void backwardHost(INDArray dout, INDArray x, INDArray mean, INDArray rstd, INDArray dx,
                              boolean accumulate) {
        int rows = (int) x.rows();
        int c = (int) x.columns();
        FloatBuffer gb = HostBuffers.floats(dout);
        FloatBuffer xb = HostBuffers.floats(x);
        FloatBuffer mb = HostBuffers.floats(mean);
        FloatBuffer rb = HostBuffers.floats(rstd);
        FloatBuffer dxb = HostBuffers.floats(dx);
        float[] w = new float[c];
        HostBuffers.floats(weight).get(0, w);
        // One partial sum of dw and db per part, added in order afterwards: the same bits whichever thread ran what.
        int parts = Math.max(1, Math.min(Engine.init().threads(), rows / 16));
        float[][] dwParts = new float[parts][c];
        float[][] dbParts = new float[parts][c];
        Ops.parts(parts, (first, last) -> {
            for (int part = first; part < last; part++) {
                float[] g = new float[c];
                float[] xh = new float[c];
                float[] d = new float[c];
                float[] dw = dwParts[part];
                float[] db = dbParts[part];
                int from = (int) ((long) rows * part / parts);
                int to = (int) ((long) rows * (part + 1) / parts);
                for (int r = from; r < to; r++) {
                    gb.get(r * c, g);
                    xb.get(r * c, xh);
                    dxb.get(r * c, d);
                    float m = mb.get(r);
                    float s = rb.get(r);
                    float dnormMean = 0;
                    float dnormXhatMean = 0;
                    for (int i = 0; i < c; i++) {
                        xh[i] = (xh[i] - m) * s;
                        float dn = g[i] * w[i];
                        dnormMean += dn;
                        dnormXhatMean += dn * xh[i];
                        dw[i] += g[i] * xh[i];
                        db[i] += g[i];
                    }
                    dnormMean /= c;
                    dnormXhatMean /= c;
                    for (int i = 0; i < c; i++) {
                        d[i] += (g[i] * w[i] - dnormMean - xh[i] * dnormXhatMean) * s;
                    }
                    dxb.put(r * c, d);
                }
            }
        });
        float[] dwTotal = new float[c];
        float[] dbTotal = new float[c];
        for (int part = 0; part < parts; part++) {
            for (int i = 0; i < c; i++) {
                dwTotal[i] += dwParts[part][i];
                dbTotal[i] += dbParts[part][i];
            }
        }
        INDArray weightGrad = weightParam.grad();
        if (weightGrad == null) {
            return;
        }
        FloatBuffer wg = HostBuffers.floats(weightGrad);
        FloatBuffer bg = HostBuffers.floats(biasParam.grad());
        for (int i = 0; i < c; i++) {
            wg.put(i, accumulate ? wg.get(i) + dwTotal[i] : dwTotal[i]);
            bg.put(i, accumulate ? bg.get(i) + dbTotal[i] : dbTotal[i]);
        }
    }
}
