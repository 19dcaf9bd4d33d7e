package dev.attune.core.train;

import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Full training of a {@link GptModel}: every weight, saved as a Hugging Face checkpoint. */
final class FullModel implements Trainable {

    private final GptModel model;
    private final List<TrainableTensor> tensors;

    FullModel(GptModel model) {
        this.model = model;
        List<TrainableTensor> list = new ArrayList<>();
        for (String name : model.parameterNames()) {
            // each named tensor is a contiguous view into the flat buffer; its offset is where it starts
            list.add(new TrainableTensor(name, model.parameterShape(name), model.parameter(name).offset()));
        }
        this.tensors = List.copyOf(list);
    }

    GptModel model() {
        return model;
    }

    @Override
    public List<TrainableTensor> tensors() {
        return tensors;
    }

    @Override
    public INDArray parameters() {
        return model.parameters();
    }

    @Override
    public INDArray gradients() {
        return model.gradients();
    }

    @Override
    public double forwardBackward(TokenBatch batch, double lossDivisor, boolean accumulate, long dropoutSeed) {
        return model.forwardBackward(batch, lossDivisor, accumulate, dropoutSeed);
    }

    @Override
    public double loss(TokenBatch batch) {
        return model.loss(batch);
    }

    @Override
    public int contextLength() {
        return model.config().contextLength();
    }

    /**
     * Float32 bytes: weights, gradients and AdamW's two moments (16 per parameter), and per layer the activations
     * kept for the backward pass (about 20 values per position and channel, plus the attention probabilities,
     * heads x T x T per row), and the logits with their gradient (2 x V per position).
     */
    @Override
    public long estimatedTrainingBytes(int rows, int positions) {
        var c = model.config();
        double r = (double) rows * positions;
        double perLayer = 20 * r * c.embeddingSize() + (double) rows * c.heads() * positions * positions;
        double values = c.layers() * perLayer + 2 * r * c.vocabSize() + 4 * r * c.embeddingSize();
        double bytes = 16.0 * model.parameterCount() + 4 * values;
        return bytes >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) bytes;
    }

    @Override
    public void save(Path directory) throws IOException {
        HfCheckpoint.save(model, directory);
    }

    @Override
    public void load(Path directory) throws IOException {
        GptModel saved = HfCheckpoint.load(directory);
        // dropout settings may differ between runs; the shapes must not
        if (!saved.config().withDropout(0).equals(model.config().withDropout(0))) {
            throw new IOException(directory + " holds a model of shape " + saved.config() + ", but the model being "
                    + "trained is " + model.config());
        }
        model.parameters().assign(saved.parameters());
    }

    @Override
    public String toString() {
        return "all " + model.parameterCount() + " weights of " + model;
    }
}
