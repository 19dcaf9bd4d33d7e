package dev.attune.core.train;

import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What {@link LmTraining} trains: a set of tensors in one flat parameter buffer, a loss with gradients in a flat
 * buffer of the same layout, and a way to save and reload the result.
 *
 * <p>{@link #of(GptModel)} trains every weight of a model (pretraining and full fine-tuning); parameter-efficient
 * methods implement this interface over their adapter weights.
 */
public interface Trainable {

    /** The trained tensors and where they sit in {@link #parameters()}. */
    List<TrainableTensor> tensors();

    /** The flat float32 parameter buffer the tensors live in. Updates write into it. */
    INDArray parameters();

    /** The flat float32 gradient buffer, same length and layout as {@link #parameters()}. */
    INDArray gradients();

    /**
     * Forward and backward over one batch: returns the summed cross-entropy over targets {@code >= 0}, and leaves
     * {@code d(sum / lossDivisor) / d(parameters)} in {@link #gradients()} (added to them when {@code accumulate}).
     * Dropout masks derive from {@code dropoutSeed} alone.
     */
    double forwardBackward(TokenBatch batch, double lossDivisor, boolean accumulate, long dropoutSeed);

    /** Summed cross-entropy over targets {@code >= 0}, without dropout and without touching the gradients. */
    double loss(TokenBatch batch);

    /** The longest sequence the model accepts. */
    int contextLength();

    /** Writes the trained artifact into {@code directory} (which exists and is empty). */
    void save(Path directory) throws IOException;

    /** Reads back into {@link #parameters()} what {@link #save(Path)} wrote (used when resuming). */
    void load(Path directory) throws IOException;

    /**
     * About how many bytes training needs at {@code rows x positions} a micro-batch: weights, gradients, optimizer
     * moments and activations. {@link LmTraining} refuses a run that would not fit in the machine's memory before
     * allocating anything; 0 (the default) means unknown and skips that check.
     */
    default long estimatedTrainingBytes(int rows, int positions) {
        return 0;
    }

    /** Trains every weight of {@code model}; saves and loads Hugging Face checkpoints. */
    static Trainable of(GptModel model) {
        return new FullModel(model);
    }
}
