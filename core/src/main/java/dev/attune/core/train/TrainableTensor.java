package dev.attune.core.train;

import java.util.Arrays;

/**
 * One trained tensor inside a {@link Trainable}'s flat parameter buffer.
 *
 * @param name   the tensor's name (Hugging Face GPT-2 names for full models, e.g. {@code h.0.attn.c_attn.weight})
 * @param shape  the tensor's shape
 * @param offset index of its first element in the flat parameter (and gradient) buffer
 */
public record TrainableTensor(String name, long[] shape, long offset) {

    public TrainableTensor {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a trainable tensor needs a name");
        }
        shape = shape.clone();
        for (long d : shape) {
            if (d <= 0) {
                throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " has a non-positive size");
            }
        }
        if (offset < 0) {
            throw new IllegalArgumentException(name + ": negative offset " + offset);
        }
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements. */
    public long length() {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    /** Index one past its last element in the flat buffer. */
    public long end() {
        return offset + length();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainableTensor t && t.name.equals(name) && t.offset == offset && Arrays.equals(t.shape, shape);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * name.hashCode() + Arrays.hashCode(shape)) + Long.hashCode(offset);
    }

    @Override
    public String toString() {
        return name + Arrays.toString(shape) + "@" + offset;
    }
}
