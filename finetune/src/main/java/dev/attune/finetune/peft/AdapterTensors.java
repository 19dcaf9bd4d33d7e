package dev.attune.finetune.peft;

import dev.attune.core.train.TrainableTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * An adapter's weights in one flat buffer and their gradients in another of the same layout, each named tensor a
 * view, so the optimizer updates an adapter in one pass and holds state only for these tensors (the base model's
 * weights are never in here).
 *
 * <p>Names are the adapter's own (PEFT key names for PEFT methods); a method declares its tensors with
 * {@link #builder()} and fills them through {@link #parameter(String)}.
 */
public final class AdapterTensors {

    private final INDArray parameters;
    private final INDArray gradients;
    private final Map<String, INDArray> parameterViews = new LinkedHashMap<>();
    private final Map<String, INDArray> gradientViews = new LinkedHashMap<>();
    private final List<TrainableTensor> tensors;

    private AdapterTensors(List<TrainableTensor> tensors, long total, DataType dataType) {
        this.tensors = List.copyOf(tensors);
        this.parameters = Nd4j.create(dataType, Math.max(total, 1));
        this.gradients = Nd4j.create(dataType, Math.max(total, 1));
        for (TrainableTensor t : tensors) {
            parameterViews.put(t.name(), view(parameters, t));
            gradientViews.put(t.name(), view(gradients, t));
        }
    }

    private static INDArray view(INDArray flat, TrainableTensor t) {
        return flat.get(NDArrayIndex.interval(t.offset(), t.end())).reshape(t.shape());
    }

    /** Declares tensors one by one; float32 unless told otherwise. */
    public static Builder builder() {
        return new Builder();
    }

    /** The tensors in declaration order, with their offsets in the flat buffers. */
    public List<TrainableTensor> tensors() {
        return tensors;
    }

    /** Names in declaration order. */
    public List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(parameterViews.keySet()));
    }

    /** Number of scalars. */
    public long size() {
        return tensors.isEmpty() ? 0 : tensors.get(tensors.size() - 1).end();
    }

    /** All weights, flat. */
    public INDArray parameters() {
        return parameters;
    }

    /** All gradients, flat, same layout. */
    public INDArray gradients() {
        return gradients;
    }

    public boolean contains(String name) {
        return parameterViews.containsKey(name);
    }

    /** A named weight tensor: a view, so writing into it changes the adapter. */
    public INDArray parameter(String name) {
        return lookup(parameterViews, name);
    }

    /** A named gradient tensor, a view into {@link #gradients()}. */
    public INDArray gradient(String name) {
        return lookup(gradientViews, name);
    }

    private INDArray lookup(Map<String, INDArray> views, String name) {
        INDArray v = views.get(name);
        if (v == null) {
            throw new IllegalArgumentException("no adapter tensor '" + name + "'; this adapter has " + views.keySet());
        }
        return v;
    }

    /** Collects tensor names and shapes, then allocates the two buffers once. */
    public static final class Builder {
        private final List<TrainableTensor> tensors = new ArrayList<>();
        private DataType dataType = DataType.FLOAT;
        private long offset;

        private Builder() {
        }

        /** Float64 exists for gradient checks; adapters train in float32. */
        public Builder dataType(DataType type) {
            if (type != DataType.FLOAT && type != DataType.DOUBLE) {
                throw new IllegalArgumentException("adapter tensors are FLOAT or DOUBLE, got " + type);
            }
            this.dataType = type;
            return this;
        }

        public Builder add(String name, long... shape) {
            for (TrainableTensor t : tensors) {
                if (t.name().equals(name)) {
                    throw new IllegalArgumentException("adapter tensor '" + name + "' declared twice");
                }
            }
            TrainableTensor t = new TrainableTensor(name, shape, offset);
            tensors.add(t);
            offset = t.end();
            return this;
        }

        public AdapterTensors build() {
            return new AdapterTensors(tensors, offset, dataType);
        }
    }

    @Override
    public String toString() {
        return "AdapterTensors[" + tensors.size() + " tensors, " + size() + " weights"
                + (tensors.isEmpty() ? "" : ", " + Arrays.toString(tensors.get(0).shape()) + "...") + "]";
    }
}
