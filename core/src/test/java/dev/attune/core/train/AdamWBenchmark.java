package dev.attune.core.train;

import dev.attune.core.engine.Engine;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.config.Adam;

/**
 * Times one AdamW update over GPT-2 small's 124,439,808 parameters: the host kernel at 1 and N threads, the
 * ND4J-ops path, and ND4J's own {@code AdamUpdater} for reference. Not a test; run with
 * {@code java -cp <test classpath> dev.attune.core.train.AdamWBenchmark [parameters] [repeats]}.
 */
public final class AdamWBenchmark {

    public static void main(String[] args) {
        Engine.Info info = Engine.init();
        long n = args.length > 0 ? Long.parseLong(args[0]) : 124_439_808L;
        int repeats = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        System.out.println("engine " + info + ", " + n + " parameters, median of " + repeats);
        Nd4j.getRandom().setSeed(1);
        INDArray p = Nd4j.randn(DataType.FLOAT, n);
        INDArray g = Nd4j.randn(DataType.FLOAT, n);
        // GPT-2-like mix: one decayed matrix and one undecayed vector, so both tile kinds run
        List<TrainableTensor> tensors = List.of(new TrainableTensor("h.0.mlp.c_fc.weight", new long[] {n - 768}, 0),
                new TrainableTensor("h.0.mlp.c_fc.bias", new long[] {768}, n - 768));
        for (int threads : new int[] {1, info.threads()}) {
            AdamWOptimizer opt = new AdamWOptimizer(AdamW.defaults(), p, g, tensors, true, threads);
            report("host kernel, " + threads + " thread(s): norm + update", repeats, () -> {
                double norm = opt.gradientNorm();
                opt.update(1e-4, Math.min(1, 1.0 / norm));
            });
            report("host kernel, " + threads + " thread(s): update only", repeats, () -> opt.update(1e-4, 1));
        }
        AdamWOptimizer nd = new AdamWOptimizer(AdamW.defaults(), p, g, tensors, false, info.threads());
        report("ND4J ops path: norm + update", repeats, () -> {
            double norm = nd.gradientNorm();
            nd.update(1e-4, Math.min(1, 1.0 / norm));
        });
        AdamUpdater updater = new AdamUpdater(new Adam(1e-4));
        INDArray state = Nd4j.zeros(DataType.FLOAT, 1, 2 * n);
        updater.setStateViewArray(state, new long[] {1, n}, 'c', true);
        int[] iteration = {0};
        report("ND4J AdamUpdater (no decay, for reference)", repeats, () -> {
            INDArray gc = g.dup();
            updater.applyUpdater(gc, iteration[0]++, 0);
            p.subi(gc);
        });
    }

    private static void report(String what, int repeats, Runnable body) {
        body.run(); // warm-up
        double[] seconds = new double[repeats];
        for (int i = 0; i < repeats; i++) {
            long t0 = System.nanoTime();
            body.run();
            seconds[i] = (System.nanoTime() - t0) / 1e9;
        }
        Arrays.sort(seconds);
        System.out.printf("%-55s median %.3f s (min %.3f, max %.3f)%n", what, seconds[repeats / 2], seconds[0],
                seconds[repeats - 1]);
    }
}
