package dev.attune.core.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Direct access to the host memory behind an INDArray, for kernels written in Java (CPU backend only).
 *
 * <p>ND4J pays several microseconds per native call; a fused loop over the raw buffer does a whole layer's
 * element-wise work in one pass. Only dense, C-ordered float32 arrays qualify.
 */
public final class HostBuffers {

    private HostBuffers() {
    }

    /** A little-endian float view of exactly {@code array}'s elements, index 0 being its first element. */
    public static FloatBuffer floats(INDArray array) {
        if (array.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("host kernels need float32, got " + array.dataType());
        }
        if (!isDense(array)) {
            throw new IllegalArgumentException("host kernels need a dense C-ordered array, got shape "
                    + Arrays.toString(array.shape()) + " strides " + Arrays.toString(array.stride()));
        }
        return window(array, 0, Math.toIntExact(array.length()));
    }

    /**
     * A little-endian float view of elements {@code [from, from + count)} of a dense float32 array. Cut from the
     * native pointer: {@code data().asNioFloat()} silently stops at 2^31 bytes, which GPT-2 large's weights exceed.
     */
    public static FloatBuffer window(INDArray array, long from, int count) {
        if (from < 0 || count < 0 || from + count > array.length()) {
            throw new IndexOutOfBoundsException("window [" + from + ", " + (from + count) + ") outside an array of "
                    + array.length() + " elements");
        }
        FloatPointer at = new FloatPointer(array.data().pointer()).getPointer(array.offset() + from);
        at.capacity(count);
        return at.asBuffer();
    }

    /**
     * A little-endian byte view of a dense float32 array's elements (byte 0 is its first element's first byte), for
     * kernels that read floats with {@code FloatVector.fromByteBuffer}.
     *
     * @throws IllegalArgumentException if the array is not dense float32 or spans 2^31 bytes or more
     */
    public static ByteBuffer bytes(INDArray array) {
        FloatBuffer floats = floats(array);   // checks float32 and density
        if (4L * floats.capacity() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a byte view holds less than 2^31 bytes, the array has "
                    + 4L * floats.capacity());
        }
        FloatPointer at = new FloatPointer(array.data().pointer()).getPointer(array.offset());
        at.capacity(floats.capacity());
        return at.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** True when the array's elements are contiguous in C order (a plain array or a contiguous view). */
    public static boolean isDense(INDArray array) {
        if (array.ordering() != 'c' && array.rank() > 1) {
            return false;
        }
        long[] shape = array.shape();
        long[] stride = array.stride();
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && stride[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }
}
