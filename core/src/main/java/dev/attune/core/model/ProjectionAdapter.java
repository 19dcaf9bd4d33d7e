package dev.attune.core.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A module wrapped around one projection {@code y = x W + b} of one layer (GPT-2's Conv1D, {@code W [in, out]}),
 * attached with {@link Adapters#wrap}. Forward and backward sit side by side; every method has a neutral default, so
 * an adapter implements only the hooks it needs. Rows {@code R = batch x positions}.
 *
 * <p>Forward: {@code x -> forwardInput -> base projection -> forwardOutput -> y}. Backward, in reverse:
 * {@code dy -> backwardOutput -> base backward (weight gradients only while the base trains) -> backwardInput -> dx}.
 * The adapter owns its parameters and their gradients, and writes those gradients in the backward hooks (overwriting
 * them, or adding to them when {@link Step#accumulate()}).
 *
 * <p>Worked example, LoRA ({@code y += s * B(A(x))}, without dropout); {@code a [in, r]}, {@code b [r, out]} and their
 * gradients {@code da}, {@code db} are the adapter's own arrays:
 * <pre>{@code
 * class Lora implements ProjectionAdapter {
 *     INDArray a, b, da, db, ax;                           // ax [R, r] kept for the backward
 *     public void forwardOutput(INDArray x, INDArray y, Step s) {
 *         ax = x.mmul(a);                                  // [R, r]
 *         y.addi(ax.mmul(b).muli(scale));                  // [R, out]
 *     }
 *     public void backwardInput(INDArray x, INDArray dy, INDArray dx, Step s) {
 *         INDArray dyb = dy.mmul(b.transpose()).muli(scale);                 // [R, r]
 *         put(db, ax.transpose().mmul(dy).muli(scale), s.accumulate());      // d b = s ax^T dy
 *         put(da, x.transpose().mmul(dyb), s.accumulate());                  // d a = x^T (s dy b^T)
 *         dx.addi(dyb.mmul(a.transpose()));                                  // the adapter's path into dx
 *     }
 * }
 * model.adapters().wrap(0, Projection.C_ATTN, new Lora(...));
 * }</pre>
 */
public interface ProjectionAdapter {

    /**
     * The input the base projection reads, from the layer's input {@code x [R, in]}: {@code x} itself by default,
     * or an array the adapter owns (IA3 rescales the input of {@code mlp.c_proj}). {@code x} must not be changed.
     */
    default INDArray forwardInput(INDArray x, Step step) {
        return x;
    }

    /** Adjusts the base output {@code y [R, out]} in place; {@code x [R, in]} is the layer's original input. */
    default void forwardOutput(INDArray x, INDArray y, Step step) {
    }

    /**
     * From {@code dy [R, out]}, the loss gradient of the adjusted output, returns the gradient of the base output
     * ({@code dy} itself, possibly changed in place, or an array the adapter owns), and writes the gradients of
     * parameters used in {@link #forwardOutput}.
     */
    default INDArray backwardOutput(INDArray x, INDArray dy, Step step) {
        return dy;
    }

    /**
     * Turns {@code dx [R, in]}, on entry the gradient of the base projection's input, into the gradient of the
     * layer's input {@code x} in place (adding the adapter's own path, as LoRA does), and writes the gradients of
     * parameters used in {@link #forwardInput}. {@code dy} is the gradient of the adjusted output as
     * {@link #backwardOutput} left it.
     */
    default void backwardInput(INDArray x, INDArray dy, INDArray dx, Step step) {
    }

    /**
     * Whether the backward hooks read the layer's input {@code x}. While the base is frozen a training pass keeps a
     * projection's input for its backward only when its adapter reads it; an adapter that does not (a bias shift,
     * {@code y + d}) saves that buffer and gets null for {@code x} in {@link #backwardOutput} and
     * {@link #backwardInput}.
     */
    default boolean readsInput() {
        return true;
    }

    /**
     * Whether {@link #backwardInput} reads {@code dx} as it enters (the base projection's input gradient), as an
     * adapter on the input does (IA3 scaling {@code mlp.c_proj}'s input). Where nothing reads the layer's input
     * gradient afterwards (the lowest trained layer of a frozen base) and this is false, the base's input-gradient
     * GEMM is skipped: {@code dx} then enters as zeros, and {@link #backwardInput} still runs for the gradients it
     * writes. True by default, which is always correct; an adapter that only adds its own path (LoRA) returns false.
     */
    default boolean readsInputGradient() {
        return true;
    }
}
