package dev.attune.core.train;

import dev.attune.core.engine.HostBuffers;
import java.nio.FloatBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Direct {@link FloatBuffer} windows onto the host memory of a float32 ND4J vector (CPU backend only).
 *
 * <p>{@code INDArray.data().asNioFloat()} caps at 2^31 bytes (it silently returns a shorter buffer for larger
 * arrays), so windows are cut from the native pointer instead: any array size works, one window at a time.
 */
final class HostFloats {

    private HostFloats() {
    }

    /** Checks that {@code flat} is a contiguous float32 vector, naming it in the error. */
    static void requireFlat(INDArray flat, String what) {
        if (flat.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException(what + " must be float32, got " + flat.dataType());
        }
        if (flat.rank() > 2 || (flat.rank() == 2 && Math.min(flat.size(0), flat.size(1)) != 1)
                || (flat.length() > 1 && flat.elementWiseStride() != 1)) {
            throw new IllegalArgumentException(what + " must be a contiguous vector, got shape "
                    + java.util.Arrays.toString(flat.shape()) + " with element-wise stride " + flat.elementWiseStride());
        }
    }

    /** A buffer over elements {@code [from, from + count)} of the contiguous vector {@code flat}. */
    static FloatBuffer window(INDArray flat, long from, int count) {
        return HostBuffers.window(flat, from, count);
    }
}
