package dev.attune.core.model;

import java.util.function.Supplier;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One named weight tensor of the base model as a layer sees it: its value (a view into the flat parameter buffer)
 * and, while the base trains, its gradient (a view into the flat gradient buffer, allocated on first use).
 */
final class Param {

    final INDArray value;
    private final Supplier<INDArray> gradient;

    /** @param gradient gives the gradient view, or null while the base is frozen */
    Param(INDArray value, Supplier<INDArray> gradient) {
        this.value = value;
        this.gradient = gradient;
    }

    /** The gradient view, or null when the base is frozen (then no weight gradient is computed). */
    INDArray grad() {
        return gradient.get();
    }
}
