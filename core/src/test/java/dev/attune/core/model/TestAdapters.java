package dev.attune.core.model;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Small adapters written only against the public seam, one per kind of hook, with hand-derived backward passes. The
 * seam tests check them against finite differences and against equivalent changes of the base weights.
 */
final class TestAdapters {

    /** A trainable tensor and its gradient. */
    static final class Tensor {
        final String name;
        final INDArray value;
        final INDArray grad;

        Tensor(String name, INDArray value) {
            this.name = name;
            this.value = value;
            this.grad = Nd4j.zeros(value.dataType(), value.shape());
        }

        void put(INDArray g, Step s) {
            if (s.accumulate()) {
                grad.addi(g);
            } else {
                grad.assign(g);
            }
        }
    }

    static INDArray random(long seed, double scale, long... shape) {
        SplittableRandom rng = new SplittableRandom(seed);
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = scale * rng.nextGaussian();
        }
        return Nd4j.createFromArray(v).reshape(shape).castTo(DataType.DOUBLE);
    }

    /**
     * {@code y += x A B}: LoRA without scaling or dropout, through forwardOutput and backwardInput. It only adds its
     * path to dx, so it does not read the base's input gradient; {@link #dxOnEntry} records what dx held on entry.
     */
    static final class LowRank implements ProjectionAdapter {
        final Tensor a;
        final Tensor b;
        private INDArray xa;
        double dxOnEntry = Double.NaN;     // largest |dx| as backwardInput received it

        LowRank(int in, int out, int rank, long seed) {
            a = new Tensor("A", random(seed, 0.3, in, rank));
            b = new Tensor("B", random(seed + 1, 0.3, rank, out));
        }

        @Override
        public void forwardOutput(INDArray x, INDArray y, Step s) {
            xa = x.mmul(a.value);                       // [R, r]
            y.addi(xa.mmul(b.value));                   // [R, out]
        }

        @Override
        public boolean readsInputGradient() {
            return false;
        }

        @Override
        public void backwardInput(INDArray x, INDArray dy, INDArray dx, Step s) {
            dxOnEntry = dx.amaxNumber().doubleValue();
            INDArray dxa = dy.mmul(b.value.transpose());   // [R, r]
            b.put(xa.transpose().mmul(dy), s);
            a.put(x.transpose().mmul(dxa), s);
            dx.addi(dxa.mmul(a.value.transpose()));
        }
    }

    /** {@code y = y_base * l} (IA3 on an output), through forwardOutput and backwardOutput. */
    static final class ScaleOutput implements ProjectionAdapter {
        final Tensor l;
        private INDArray base;

        ScaleOutput(int out, long seed) {
            l = new Tensor("l_out", random(seed, 0.3, out).addi(1.0));
        }

        @Override
        public void forwardOutput(INDArray x, INDArray y, Step s) {
            base = y.dup();
            y.muliRowVector(l.value);
        }

        @Override
        public INDArray backwardOutput(INDArray x, INDArray dy, Step s) {
            l.put(dy.mul(base).sum(0), s);
            return dy.mulRowVector(l.value);
        }
    }

    /** {@code y = (x * l) W + b} (IA3 on an input), through forwardInput and backwardInput. */
    static final class ScaleInput implements ProjectionAdapter {
        final Tensor l;

        ScaleInput(int in, long seed) {
            l = new Tensor("l_in", random(seed, 0.3, in).addi(1.0));
        }

        @Override
        public INDArray forwardInput(INDArray x, Step s) {
            return x.mulRowVector(l.value);
        }

        @Override
        public void backwardInput(INDArray x, INDArray dy, INDArray dx, Step s) {
            l.put(dx.mul(x).sum(0), s);
            dx.muliRowVector(l.value);
        }
    }

    /** {@code y += tanh(y D) U}: a bottleneck adapter on a residual branch. */
    static final class Bottleneck implements ResidualAdapter {
        final Tensor down;
        final Tensor up;
        private INDArray y0;
        private INDArray h;

        Bottleneck(int width, int hidden, long seed) {
            down = new Tensor("down", random(seed, 0.3, width, hidden));
            up = new Tensor("up", random(seed + 1, 0.3, hidden, width));
        }

        @Override
        public void forward(INDArray y, Step s) {
            y0 = y.dup();
            h = Transforms.tanh(y0.mmul(down.value), true);   // [R, h]
            y.addi(h.mmul(up.value));
        }

        @Override
        public INDArray backward(INDArray dy, Step s) {
            up.put(h.transpose().mmul(dy), s);
            INDArray dh = dy.mmul(up.value.transpose()).muli(h.mul(h).rsubi(1.0));   // through tanh
            down.put(y0.transpose().mmul(dh), s);
            return dy.addi(dh.mmul(down.value.transpose()));
        }
    }

    /**
     * {@code y += d} on every row: a bias trained as a shift of a LayerNorm's or a projection's output (which it does
     * not need the input of).
     */
    static final class Shift implements ResidualAdapter, ProjectionAdapter {
        final Tensor d;

        Shift(int width, long seed) {
            d = new Tensor("shift", random(seed, 0.3, width));
        }

        @Override
        public void forwardOutput(INDArray x, INDArray y, Step s) {
            forward(y, s);
        }

        @Override
        public INDArray backwardOutput(INDArray x, INDArray dy, Step s) {
            return backward(dy, s);
        }

        @Override
        public boolean readsInput() {
            return false;
        }

        @Override
        public void forward(INDArray y, Step s) {
            y.addiRowVector(d.value);
        }

        @Override
        public INDArray backward(INDArray dy, Step s) {
            d.put(dy.sum(0), s);
            return dy;
        }
    }

    /** Trainable keys and values in front of every layer. */
    static final class Prefix implements KvPrefix {
        final List<Tensor> keys = new ArrayList<>();
        final List<Tensor> values = new ArrayList<>();
        private final int length;

        Prefix(int layers, int length, int width, long seed) {
            this.length = length;
            for (int l = 0; l < layers; l++) {
                keys.add(new Tensor("k" + l, random(seed + 2L * l, 0.5, length, width)));
                values.add(new Tensor("v" + l, random(seed + 2L * l + 1, 0.5, length, width)));
            }
        }

        @Override
        public int length() {
            return length;
        }

        @Override
        public INDArray keys(int layer) {
            return keys.get(layer).value;
        }

        @Override
        public INDArray values(int layer) {
            return values.get(layer).value;
        }

        @Override
        public void backward(int layer, INDArray dKeys, INDArray dValues, Step s) {
            keys.get(layer).put(dKeys, s);
            values.get(layer).put(dValues, s);
        }
    }

    /** Trainable virtual input embeddings. */
    static final class Soft implements SoftPrompt {
        final Tensor embeddings;

        Soft(INDArray initial) {
            embeddings = new Tensor("soft", initial);
        }

        @Override
        public int length() {
            return (int) embeddings.value.size(0);
        }

        @Override
        public INDArray embeddings() {
            return embeddings.value;
        }

        @Override
        public void backward(INDArray dEmbeddings, Step s) {
            embeddings.put(dEmbeddings, s);
        }
    }

    private TestAdapters() {
    }
}
