package dev.attune.finetune.peft;

import dev.attune.core.config.GptConfig;

import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import java.io.IOException;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One trained adapter: its weights in one flat buffer ({@link #tensors()}) and the layers that plug them into a
 * model's adapter slots. Methods implement it beside their layer classes (PEFT's {@code tuners/<method>/model.py});
 * users reach adapters through {@link PeftModel}.
 */
public interface Adapter {

    AdapterConfig config();

    /**
     * The {@code adapter_config.json} written beside the weights: the config's, plus what the adapter knows of the
     * model (prompt methods record its dimensions, as PEFT does).
     */
    default com.fasterxml.jackson.databind.node.ObjectNode configJson() {
        return config().toJson();
    }

    /** The trained weights and their gradients. */
    AdapterTensors tensors();

    /**
     * How many of {@link #tensors()}' scalars stand for base weights rather than add new ones (LoRA's trained biases,
     * held as shifts of the base's): PEFT counts those among the base's parameters, so a total counts them once.
     */
    default long baseParametersTrained() {
        return 0;
    }

    /** Plugs the adapter's layers into {@code model.adapters()}. */
    void attach(GptModel model);

    /** Takes them out again. */
    void detach(GptModel model);

    /**
     * The tensors of {@code adapter_model.safetensors}, under the file's key names and shapes, in a fixed order.
     * {@code base} is the model the adapter sits on (PEFT stores trained biases whole, not as differences).
     */
    Map<String, INDArray> stateDict(GptModel base);

    /**
     * Reads what {@link #stateDict} wrote (or PEFT saved) into {@link #tensors()}. Every missing, unexpected or
     * misshapen tensor is reported at once, naming the file and the expected and actual shapes.
     */
    void load(SafeTensors file, GptModel base) throws IOException;

    /**
     * Called by {@link PeftModel} when a training step begins (a forward-backward that does not accumulate), with
     * the number of optimizer steps done so far: the weights are updated, and the previous step's gradients are
     * still in {@link #tensors()}. AdaLoRA reallocates its rank budget here, so the training loop drives it
     * without a callback the user must remember.
     */
    default void onStepStart(long stepsDone) {
    }

    /**
     * Called by {@link PeftModel} after each forward-backward, for methods whose trained weights reach the model
     * through a computation of their own (prefix tuning's reparameterisation MLP): they finish their backward here.
     */
    default void afterBackward(boolean accumulate) {
    }

    /**
     * Adds {@code fraction} times the gradient of the method's regulariser to the gradients and returns
     * {@code fraction} times its value (0 for methods without one). {@link PeftModel} passes each micro-batch's
     * share of the step's targets, so a step adds the regulariser once.
     */
    default double regularise(double fraction) {
        return 0;
    }

    /** Whether {@link #merge} folds this adapter into the base weights. */
    default boolean mergeable() {
        return false;
    }

    /** The base tensors {@link #merge} changes (kept aside by {@link PeftModel#merge()} for an exact unmerge). */
    default java.util.List<String> mergedWeights() {
        return java.util.List.of();
    }

    /** Adds the adapter's effect to {@code base}'s weights. */
    default void merge(GptModel base) {
        throw new UnsupportedOperationException(config().peftType() + " adapters cannot be merged into the weights");
    }

    /**
     * Refuses a base model whose shape differs from {@code made}, the shape the adapter {@code what} was made for
     * (dropout settings may differ).
     */
    static void requireShape(String what, GptConfig made, GptModel base) {
        if (!base.config().withDropout(0).equals(made.withDropout(0))) {
            throw new IllegalArgumentException(what + " made for a model of shape " + made + ", not " + base.config());
        }
    }
}
