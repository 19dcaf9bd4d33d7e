package dev.attune.finetune.peft;

import dev.attune.core.data.TokenWindows;
import dev.attune.core.model.Step;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.train.AdamW;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.TrainingListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Steps for checking adapter layers alone, outside a model (fixed seeds, so every forward draws the same masks), and
 * the training and finite-difference loops the model-level tests share.
 */
public final class TestSteps {

    private TestSteps() {
    }

    /** A step of {@code rows} rows of one position, float64 masks from {@code seed} and the site. */
    public static Step training(int rows, boolean accumulate, long seed) {
        return step(true, accumulate, rows, seed);
    }

    public static Step inference(int rows) {
        return step(false, false, rows, 0);
    }

    private static Step step(boolean training, boolean accumulate, int rows, long seed) {
        return new Step() {
            @Override
            public boolean training() {
                return training;
            }

            @Override
            public boolean accumulate() {
                return accumulate;
            }

            @Override
            public int batchSize() {
                return rows;
            }

            @Override
            public int length() {
                return 1;
            }

            @Override
            public INDArray dropoutMask(double p, long site, long... shape) {
                long n = 1;
                for (long s : shape) {
                    n *= s;
                }
                SplittableRandom rng = new SplittableRandom(seed * 31 + site);
                double[] m = new double[(int) n];
                for (int i = 0; i < m.length; i++) {
                    m[i] = rng.nextDouble() < p ? 0 : 1 / (1 - p);
                }
                return Nd4j.createFromArray(m).reshape(shape).castTo(DataType.DOUBLE);
            }
        };
    }

    /**
     * Trains {@code peft} on {@link Fixtures#CYCLE} repeated to {@code textLength} tokens (rows of 16 tokens, 4 a
     * step, AdamW without weight decay) for {@code steps} steps, writing run files under {@code runDirectory} (null:
     * the trainer's default); returns the loss of every step.
     */
    public static List<Double> trainOnCycle(PeftModel peft, int textLength, int steps, double learningRate,
                                            Path runDirectory) throws IOException {
        int[] text = new int[textLength];
        for (int i = 0; i < text.length; i++) {
            text[i] = Fixtures.CYCLE[i % Fixtures.CYCLE.length];  // a cycle the base has not learned
        }
        List<Double> losses = new ArrayList<>();
        LmTraining.Builder b = LmTraining.builder().trainable(peft).data(TokenWindows.of(text)).batchSize(4)
                .contextLength(16).optimizer(AdamW.builder().weightDecay(0).build()).learningRate(learningRate)
                .maxSteps(steps).progress(false).listener(new TrainingListener() {
                    @Override
                    public void onStep(StepMetrics step) {
                        losses.add(step.loss());
                    }
                });
        if (runDirectory != null) {
            b.outputDirectory(runDirectory);
        }
        b.build().run();
        return losses;
    }

    /**
     * The central difference {@code (L(p + h) - L(p - h)) / 2h} of the mean loss over {@code batch}'s targets in the
     * trained parameter {@code index} of {@code peft}, which is left as it was.
     */
    public static double centralDifference(PeftModel peft, TokenBatch batch, int index, double h) {
        INDArray p = peft.parameters();
        int n = batch.validTargets();
        double v = p.getDouble(index);
        p.putScalar(index, v + h);
        double up = peft.loss(batch) / n;
        p.putScalar(index, v - h);
        double down = peft.loss(batch) / n;
        p.putScalar(index, v);
        return (up - down) / (2 * h);
    }

    /** Uniform random values in [-scale, scale], float64. */
    public static INDArray random(long seed, double scale, long... shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (rng.nextDouble() * 2 - 1) * scale;
        }
        return Nd4j.createFromArray(v).reshape(shape);
    }
}
