package dev.attune.finetune.peft.ia3;

import dev.attune.core.model.ProjectionAdapter;
import dev.attune.core.model.Step;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * IA3 on one projection {@code y = x W + b}: a learned vector {@code l} rescales the output
 * ({@code y' = y * l}, bias included, as PEFT) or, for feed-forward modules, the input ({@code y = (x * l) W + b}).
 *
 * <pre>
 * output form, l [out]:  y' = y * l            dL/dy = dy' * l          dl = sum_rows(dy' * y)
 * input form,  l [in]:   x' = x * l            dL/dx = dL/dx' * l       dl = sum_rows(dL/dx' * x)
 * </pre>
 */
final class IA3Layer implements ProjectionAdapter {

    final INDArray scale;       // [out] or [in]
    private final INDArray gradScale;
    private final boolean feedforward;
    private INDArray baseOutput; // [R, out], the unscaled y, kept in training (output form)

    IA3Layer(INDArray scale, INDArray gradScale, boolean feedforward) {
        this.scale = scale;
        this.gradScale = gradScale;
        this.feedforward = feedforward;
    }

    @Override
    public INDArray forwardInput(INDArray x, Step s) {
        return feedforward ? x.mulRowVector(scale) : x;
    }

    @Override
    public void forwardOutput(INDArray x, INDArray y, Step s) {
        if (feedforward) {
            return;
        }
        if (s.training()) {
            baseOutput = y.dup();
        }
        y.muliRowVector(scale);
    }

    @Override
    public INDArray backwardOutput(INDArray x, INDArray dy, Step s) {
        if (feedforward) {
            return dy;
        }
        if (baseOutput == null) {
            throw new IllegalStateException("IA3 backward without a training forward pass");
        }
        accumulate(dy.mul(baseOutput).sum(0), s);
        return dy.mulRowVector(scale);
    }

    /** Only the feedforward scale sits on the input, and its gradient reads the base's input gradient. */
    @Override
    public boolean readsInputGradient() {
        return feedforward;
    }

    @Override
    public void backwardInput(INDArray x, INDArray dy, INDArray dx, Step s) {
        if (!feedforward) {
            return;
        }
        accumulate(dx.mul(x).sum(0), s);
        dx.muliRowVector(scale);
    }

    private void accumulate(INDArray g, Step s) {
        if (s.accumulate()) {
            gradScale.addi(g.reshape(gradScale.shape()));
        } else {
            gradScale.assign(g.reshape(gradScale.shape()));
        }
    }

    /** Folds the vector into the base: columns of W and the bias (output form) or rows of W (input form). */
    void merge(INDArray weight, INDArray bias) {
        if (feedforward) {
            weight.muliColumnVector(scale.reshape(scale.length(), 1));
        } else {
            weight.muliRowVector(scale);
            bias.muli(scale);
        }
    }
}
