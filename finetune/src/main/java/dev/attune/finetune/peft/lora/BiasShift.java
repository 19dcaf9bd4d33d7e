package dev.attune.finetune.peft.lora;

import dev.attune.core.model.ProjectionAdapter;
import dev.attune.core.model.ResidualAdapter;
import dev.attune.core.model.Step;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A trained bias of the base model, kept as a shift {@code d} from the frozen bias: {@code y' = y + d} on every row of
 * the module's output, so the model computes with bias {@code b + d} while {@code b} stays bit-identical. Around a
 * projection it is a {@link ProjectionAdapter}; on a LayerNorm's output a {@link ResidualAdapter}.
 *
 * <pre>
 *   y' = y + d            [R, out]
 * backward, given dy' = dL/dy':
 *   dL/dy = dy'           (the module's output enters y' unchanged)
 *   dd    = sum over rows of dy'   [out]
 * </pre>
 */
final class BiasShift implements ProjectionAdapter, ResidualAdapter {

    final INDArray shift;              // [out]
    private final INDArray gradient;   // [out]

    BiasShift(INDArray shift, INDArray gradient) {
        this.shift = shift;
        this.gradient = gradient;
    }

    @Override
    public void forwardOutput(INDArray x, INDArray y, Step step) {
        forward(y, step);
    }

    @Override
    public INDArray backwardOutput(INDArray x, INDArray dy, Step step) {
        return backward(dy, step);
    }

    /** The shift's gradient needs only the output's: a frozen base need not keep the projection's input for it. */
    @Override
    public boolean readsInput() {
        return false;
    }

    /** No input hook: the base's input gradient passes through untouched. */
    @Override
    public boolean readsInputGradient() {
        return false;
    }

    @Override
    public void forward(INDArray y, Step step) {
        y.addiRowVector(shift);
    }

    @Override
    public INDArray backward(INDArray dy, Step step) {
        INDArray sum = dy.sum(0);
        if (step.accumulate()) {
            gradient.addi(sum);
        } else {
            gradient.assign(sum);
        }
        return dy;
    }

    /** Folds the shift into the base bias: {@code bias += d}. */
    void merge(INDArray bias) {
        bias.addi(shift);
    }
}
