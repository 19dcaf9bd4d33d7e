package dev.attune.core.checkpoint;

import dev.attune.core.engine.Engine;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A model's float32 weights in a direct buffer of the JVM's, which needs no ND4J to allocate and fill, handed to
 * ND4J afterwards as the memory of an array, without a copy (see {@code HfCheckpoint.loadThroughHost}).
 */
final class HostParameters {

    /** Start of the buffer, in bytes: a cache line, which is also what MKL asks of its inputs for its fastest paths. */
    static final int ALIGNMENT = 64;

    private HostParameters() {
    }

    /**
     * A zeroed native-order buffer of {@code floats} float32 values starting at a multiple of {@link #ALIGNMENT}, or
     * null when a Java buffer cannot hold that many (2 GB) or the JVM's direct memory is short of it.
     */
    static ByteBuffer allocate(long floats) {
        long bytes = floats * Float.BYTES;
        if (floats < 0 || bytes > Integer.MAX_VALUE - 2L * ALIGNMENT) {
            return null;
        }
        ByteBuffer raw;
        try {
            raw = ByteBuffer.allocateDirect((int) bytes + 2 * ALIGNMENT);
        } catch (OutOfMemoryError e) {
            return null;  // -XX:MaxDirectMemorySize or -Xmx below the model's size: ND4J's own memory may still do
        }
        return raw.alignedSlice(ALIGNMENT).limit((int) bytes).slice().order(ByteOrder.nativeOrder());
    }

    /**
     * A float32 vector of {@code floats} values over {@code host}'s memory from its start (whatever its position),
     * which it keeps alive; null on a backend whose arrays do not live in host memory. Starts ND4J, or waits for it.
     */
    static INDArray wrap(ByteBuffer host, long floats) {
        Engine.init();
        if (!Engine.isCpu()) {
            return null;
        }
        // JavaCPP's pointer over a direct buffer holds on to the buffer (its deallocator keeps it until the pointer
        // is collected), and ND4J neither owns nor frees memory it is handed this way: the JVM frees it once nothing
        // reaches the array's data buffer.
        FloatPointer pointer = new FloatPointer(host.duplicate().clear().asFloatBuffer());
        DataBuffer buffer = Nd4j.createBuffer(pointer, DataType.FLOAT, floats, FloatIndexer.create(pointer));
        return Nd4j.create(buffer, new long[] {floats});
    }
}
