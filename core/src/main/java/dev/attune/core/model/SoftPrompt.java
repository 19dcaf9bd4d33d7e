package dev.attune.core.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Virtual input embeddings in front of every row's real tokens (prompt tuning), attached with
 * {@link Adapters#softPrompt}. They enter where token embeddings do (position embeddings are added), right after any
 * left padding, and take positions 0..P-1 (the real tokens follow at P, P+1, ...). They have no targets, and what
 * callers read back (logits, hidden states, target log-probabilities) covers only their real positions.
 */
public interface SoftPrompt {

    /** Number of virtual positions P. */
    int length();

    /** The virtual embeddings, [P, C]. */
    INDArray embeddings();

    /** Loss gradient of the embeddings, [P, C], summed over the batch. */
    void backward(INDArray dEmbeddings, Step step);
}
