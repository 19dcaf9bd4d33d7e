package dev.attune.core.io;

import java.util.Arrays;

/**
 * One tensor's entry in a safetensors header.
 *
 * @param name   the tensor's name as stored
 * @param dtype  element type as stored
 * @param shape  dimensions, outermost first ({@code []} for a scalar)
 * @param begin  first byte, relative to the start of the data section
 * @param end    one past the last byte, relative to the start of the data section
 */
public record TensorInfo(String name, DType dtype, long[] shape, long begin, long end) {

    public TensorInfo {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** Number of elements: the product of the shape (1 for a scalar). */
    public long elementCount() {
        return elementCount(shape);
    }

    /** Number of bytes the tensor's data occupies. */
    public long byteLength() {
        return end - begin;
    }

    /** True when the shape equals {@code expected}. */
    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    /** The shape written as {@code [2, 3]}. */
    public String shapeString() {
        return Arrays.toString(shape);
    }

    public static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorInfo t && name.equals(t.name) && dtype == t.dtype && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + shapeString();
    }
}
