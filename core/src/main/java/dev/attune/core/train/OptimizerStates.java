package dev.attune.core.train;

import dev.attune.core.io.SafeTensors;
import dev.attune.core.io.SafeTensorsWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * AdamW's state as a safetensors file: for every trained tensor {@code exp_avg.<name>} and {@code exp_avg_sq.<name>}
 * (PyTorch's names for the moments) in the tensor's shape, float32, and the update count in the metadata. Per-tensor
 * entries make the file readable by other tools and let a resume check that the model matches. Safetensors offsets
 * are 64-bit and the writer streams, so states of any size save and load.
 */
final class OptimizerStates {

    static final String FORMAT = "attune-adamw";

    private OptimizerStates() {
    }

    static void write(Path file, AdamWOptimizer optimizer, List<TrainableTensor> tensors) throws IOException {
        SafeTensorsWriter w = SafeTensors.writer()
                .metadata("format", FORMAT)
                .metadata("step", Long.toString(optimizer.step()));
        for (TrainableTensor t : tensors) {
            w.add("exp_avg." + t.name(), slice(optimizer.firstMoment(), t));
            w.add("exp_avg_sq." + t.name(), slice(optimizer.secondMoment(), t));
        }
        w.write(file);
    }

    /**
     * Reads a state into {@code optimizer}. The update count comes from the file; {@code expectedUpdates} (from the
     * trainer state) must agree with it.
     */
    static void read(Path file, AdamWOptimizer optimizer, List<TrainableTensor> tensors, long expectedUpdates)
            throws IOException {
        try (SafeTensors f = SafeTensors.open(file)) {
            if (!FORMAT.equals(f.metadata().get("format"))) {
                throw new IOException(file + ": not an AdamW state written by Attune (metadata format is "
                        + f.metadata().get("format") + ", expected " + FORMAT + ")");
            }
            long updates;
            try {
                updates = Long.parseLong(f.metadata().getOrDefault("step", ""));
            } catch (NumberFormatException e) {
                throw new IOException(file + ": metadata \"step\" is missing or not a number");
            }
            if (updates != expectedUpdates) {
                throw new IOException(file + ": the optimizer has " + updates + " updates but trainer_state.json says "
                        + expectedUpdates + "; the checkpoint is inconsistent");
            }
            for (TrainableTensor t : tensors) {
                for (String kind : new String[] {"exp_avg.", "exp_avg_sq."}) {
                    if (!f.contains(kind + t.name())) {
                        throw new IOException(file + ": no '" + kind + t.name() + "': the checkpoint was written for "
                                + "a different set of trained tensors");
                    }
                }
            }
            // read into copies first, so a failure half-way leaves the optimizer untouched
            INDArray m = optimizer.firstMoment().dup();
            INDArray v = optimizer.secondMoment().dup();
            for (TrainableTensor t : tensors) {
                f.readInto("exp_avg." + t.name(), slice(m, t));
                f.readInto("exp_avg_sq." + t.name(), slice(v, t));
            }
            optimizer.restore(updates, m, v);
        }
    }

    private static INDArray slice(INDArray flat, TrainableTensor t) {
        return flat.get(NDArrayIndex.interval(t.offset(), t.end())).reshape(t.shape());
    }
}
