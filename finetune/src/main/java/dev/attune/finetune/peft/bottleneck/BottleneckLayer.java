package dev.attune.finetune.peft.bottleneck;

import static dev.attune.core.model.Gemm.gemm;

import dev.attune.core.model.ResidualAdapter;
import dev.attune.core.model.Step;
import dev.attune.finetune.peft.bottleneck.BottleneckConfig.NonLinearity;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * One bottleneck adapter on a branch output {@code y [R, C]}, forward and backward side by side.
 *
 * <pre>
 *   z  = y Wd + bd        [R, m]
 *   a  = act(z)           [R, m]
 *   y' = y + a Wu + bu    [R, C]
 * backward, given dy' :
 *   dWu = a^T dy'   dbu = sum_rows dy'
 *   dz  = (dy' Wu^T) * act'(z)
 *   dWd = y^T dz    dbd = sum_rows dz
 *   dy  = dy' + dz Wd^T
 * </pre>
 */
final class BottleneckLayer implements ResidualAdapter {

    private static final double GELU_K = Math.sqrt(2 / Math.PI);

    final INDArray down;      // [C, m]
    final INDArray downBias;  // [m]
    final INDArray up;        // [m, C]
    final INDArray upBias;    // [C]
    private final INDArray gDown;
    private final INDArray gDownBias;
    private final INDArray gUp;
    private final INDArray gUpBias;
    private final NonLinearity act;

    private INDArray input;   // [R, C], y before the adapter (training)
    private INDArray z;       // [R, m]
    private INDArray a;       // [R, m]

    BottleneckLayer(INDArray[] weights, INDArray[] grads, NonLinearity act) {
        this.down = weights[0];
        this.downBias = weights[1];
        this.up = weights[2];
        this.upBias = weights[3];
        this.gDown = grads[0];
        this.gDownBias = grads[1];
        this.gUp = grads[2];
        this.gUpBias = grads[3];
        this.act = act;
    }

    @Override
    public void forward(INDArray y, Step s) {
        INDArray zz = Nd4j.create(y.dataType(), y.size(0), down.size(1));
        gemm(y, false, down, false, zz, 1.0, 0.0);
        zz.addiRowVector(downBias);
        INDArray aa = activate(zz);
        if (s.training()) {
            input = y.dup();
            z = zz;
            a = aa;
        }
        gemm(aa, false, up, false, y, 1.0, 1.0);
        y.addiRowVector(upBias);
    }

    @Override
    public INDArray backward(INDArray dy, Step s) {
        if (input == null) {
            throw new IllegalStateException("bottleneck adapter backward without a training forward pass");
        }
        double beta = s.accumulate() ? 1.0 : 0.0;
        gemm(a, true, dy, false, gUp, 1.0, beta);
        addRows(dy, gUpBias, s.accumulate());
        INDArray dz = Nd4j.create(dy.dataType(), dy.size(0), up.size(0));
        gemm(dy, false, up, true, dz, 1.0, 0.0);
        dz.muli(derivative(z));
        gemm(input, true, dz, false, gDown, 1.0, beta);
        addRows(dz, gDownBias, s.accumulate());
        gemm(dz, false, down, true, dy, 1.0, 1.0);
        return dy;
    }

    private static void addRows(INDArray x, INDArray out, boolean accumulate) {
        INDArray sum = x.sum(0);
        if (accumulate) {
            out.addi(sum);
        } else {
            out.assign(sum);
        }
    }

    private INDArray activate(INDArray zz) {
        double[] v = zz.dup('c').data().asDouble();
        for (int i = 0; i < v.length; i++) {
            double x = v[i];
            v[i] = switch (act) {
                case RELU -> Math.max(0, x);
                case TANH -> Math.tanh(x);
                case SWISH -> x / (1 + Math.exp(-x));
                case GELU_NEW -> 0.5 * x * (1 + Math.tanh(GELU_K * (x + 0.044715 * x * x * x)));
            };
        }
        return Nd4j.createFromArray(v).reshape(zz.shape()).castTo(zz.dataType());
    }

    private INDArray derivative(INDArray zz) {
        double[] v = zz.dup('c').data().asDouble();
        for (int i = 0; i < v.length; i++) {
            double x = v[i];
            v[i] = switch (act) {
                case RELU -> x > 0 ? 1 : 0;
                case TANH -> 1 - Math.tanh(x) * Math.tanh(x);
                case SWISH -> {
                    double sg = 1 / (1 + Math.exp(-x));
                    yield sg + x * sg * (1 - sg);
                }
                case GELU_NEW -> {
                    double t = Math.tanh(GELU_K * (x + 0.044715 * x * x * x));
                    yield 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_K * (1 + 3 * 0.044715 * x * x);
                }
            };
        }
        return Nd4j.createFromArray(v).reshape(zz.shape()).castTo(zz.dataType());
    }
}
