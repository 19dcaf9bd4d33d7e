package dev.attune.examples.bench;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The machine's ceilings as ND4J reaches them: a large single-precision GEMM (the shape of GPT-2 small's MLP
 * up-projection at 512 tokens) and memory bandwidth over buffers far larger than the caches. The report divides
 * model throughput by these to give FLOP and bandwidth utilisation.
 */
final class KernelBenches {

    private KernelBenches() {
    }

    static Measurement sgemm(Settings s) throws Exception {
        int m = s.smoke() ? 64 : 512;
        int k = s.smoke() ? 96 : 768;
        int n = s.smoke() ? 128 : 3072;
        Nd4j.getRandom().setSeed(1);
        INDArray a = Nd4j.rand(DataType.FLOAT, m, k);
        INDArray b = Nd4j.rand(DataType.FLOAT, k, n);
        INDArray c = Nd4j.create(DataType.FLOAT, m, n);
        double[] seconds = Timer.time(s.warmup(), s.iterations(), () -> Nd4j.gemm(a, b, c, false, false, 1.0, 0.0));
        long flops = 2L * m * k * n;
        return new Measurement(seconds, flops, Measurement.fields("m", m, "k", k, "n", n, "flops_per_iter", flops));
    }

    /** Read bandwidth: a sum over the buffer, which reads each byte once and writes nothing. */
    static Measurement memoryRead(Settings s) throws Exception {
        INDArray src = Nd4j.rand(DataType.FLOAT, elements(s));
        long bytes = 4L * src.length();
        double[] seconds = Timer.time(s.warmup(), s.iterations(), src::sumNumber);
        return new Measurement(seconds, bytes, Measurement.fields("bytes_per_iter", bytes));
    }

    /** Copy bandwidth: bytes read plus bytes written. */
    static Measurement memoryCopy(Settings s) throws Exception {
        INDArray src = Nd4j.rand(DataType.FLOAT, elements(s));
        INDArray dst = Nd4j.create(DataType.FLOAT, src.length());
        long bytes = 2L * 4L * src.length();
        double[] seconds = Timer.time(s.warmup(), s.iterations(), () -> dst.assign(src));
        return new Measurement(seconds, bytes, Measurement.fields("bytes_per_iter", bytes));
    }

    private static long elements(Settings s) {
        return s.smoke() ? 1L << 20 : 256L << 20; // 1 GiB of float32: beyond any cache
    }
}
