package dev.attune.core.data;

import dev.attune.core.model.TokenBatch;
import java.util.List;

/**
 * Where training batches come from: packed token windows ({@link TokenWindows}), prompt/completion pairs
 * ({@link PromptCompletionData}), or your own.
 *
 * <p>Batches are a pure function of their arguments: micro-batch {@code index} with a given seed is always the same
 * batch. That is what makes a resumed run see exactly the data the uninterrupted run would have seen: the trainer
 * stores only how many micro-batches it has drawn.
 */
public interface TrainingData {

    /**
     * Micro-batch number {@code index} (0, 1, ...) of the training stream.
     *
     * @param batchSize rows
     * @param maxLength the most positions a row may have (the training context); shorter data gives shorter rows
     * @param seed      the run's seed
     */
    TokenBatch batch(long index, int batchSize, int maxLength, long seed);

    /**
     * Batches for measuring the loss: the same at every call, at most {@code maxBatches} of them (0 = all the data
     * has to offer).
     */
    List<TokenBatch> evaluationBatches(int batchSize, int maxLength, int maxBatches);

    /**
     * How many examples are longer than {@code maxLength} and get cut (the trainer warns about them); 0 for data
     * that is cut into windows by design.
     */
    default long truncatedExamples(int maxLength) {
        return 0;
    }

    /** A short description for logs, e.g. {@code "1,234,567 tokens from train.bin"}. */
    String description();
}
