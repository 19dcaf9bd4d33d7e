package dev.attune.core.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Extra key/value positions in front of every row, in every layer (prefix tuning), attached with
 * {@link Adapters#prefix}. Every query attends to them. They take the position ids 0 .. P-1, as a past of P tokens
 * does in Hugging Face (and so in PEFT's prefix tuning): the real tokens have positions P, P+1, ..., and a sequence
 * with a prefix holds at most context length - P real tokens. In generation they are written into the key/value
 * cache when it is created, in slots of their own that the generator's capacity does not count.
 */
public interface KvPrefix {

    /** Number of virtual positions P. */
    int length();

    /** Keys of layer {@code layer}, [P, C], heads side by side as in {@code c_attn}'s output. */
    INDArray keys(int layer);

    /** Values of layer {@code layer}, [P, C]. */
    INDArray values(int layer);

    /** Loss gradients of this layer's keys and values, [P, C] each, summed over the batch. */
    void backward(int layer, INDArray dKeys, INDArray dValues, Step step);
}
