package dev.attune.finetune.heads;

import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.train.Trainable;
import dev.attune.core.train.TrainableTensor;
import dev.attune.finetune.peft.PeftModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A base trainable (or none) plus the classification head, in one flat buffer as {@link Trainable} asks:
 * {@code [base parameters | score.weight]}. The head's weight is a view of this buffer. The base's weights live in
 * the base's own buffer, so this buffer is the master copy: it is copied into the base before every pass and the
 * base's gradients are copied back after it (one copy of the trained weights each way per micro-batch: nothing next
 * to a forward pass for adapters; for full fine-tuning about a GEMM's worth of memory traffic, and twice the weights'
 * memory).
 *
 * <p>The loss: at each position whose target is a class index (see {@link ClassificationData}), the cross-entropy
 * of {@code softmax(h W^T)} with {@code h} the hidden state after {@code ln_f}.
 */
final class HeadTrainable implements Trainable {

    private final SequenceClassifier classifier;
    private final Trainable base; // null: the head alone
    private final GptModel model;
    private final long baseLength;
    private final INDArray parameters;
    private final INDArray gradients;
    private final INDArray headGradient; // [L, C] view of gradients
    private final List<TrainableTensor> tensors;

    HeadTrainable(SequenceClassifier classifier, Trainable base) {
        this.classifier = classifier;
        this.base = base;
        this.model = classifier.model();
        if (base == null && !model.isFrozen()) {
            model.freeze(); // the head alone: no base gradients to compute
        }
        this.baseLength = base == null ? 0 : base.parameters().length();
        long[] shape = classifier.scoreWeight().shape();
        long headLength = shape[0] * shape[1];
        this.parameters = Nd4j.create(DataType.FLOAT, baseLength + headLength);
        this.gradients = Nd4j.create(DataType.FLOAT, baseLength + headLength);
        List<TrainableTensor> list = new ArrayList<>();
        if (base != null) {
            baseView(parameters).assign(base.parameters());
            list.addAll(base.tensors());
        }
        list.add(new TrainableTensor(SequenceClassifier.SCORE_WEIGHT, shape, baseLength));
        this.tensors = List.copyOf(list);
        classifier.replaceScore(headView(parameters, shape));
        this.headGradient = headView(gradients, shape);
    }

    private INDArray baseView(INDArray flat) {
        return flat.get(NDArrayIndex.interval(0, baseLength));
    }

    private INDArray headView(INDArray flat, long[] shape) {
        return flat.get(NDArrayIndex.interval(baseLength, flat.length())).reshape('c', shape);
    }

    private void pushWeights() {
        if (base != null) {
            base.parameters().assign(baseView(parameters));
        }
    }

    @Override
    public List<TrainableTensor> tensors() {
        return tensors;
    }

    @Override
    public INDArray parameters() {
        return parameters;
    }

    @Override
    public INDArray gradients() {
        return gradients;
    }

    @Override
    public double forwardBackward(TokenBatch batch, double lossDivisor, boolean accumulate, long dropoutSeed) {
        if (!(lossDivisor > 0)) {
            throw new IllegalArgumentException("lossDivisor must be positive, got " + lossDivisor);
        }
        pushWeights();
        INDArray hidden = model.trainingForward(batch, dropoutSeed);                   // [B, T, C]
        Positions at = Positions.of(batch, classifier.labels().size());
        INDArray h = SequenceClassifier.gather(hidden, at.flat);                        // [N, C]
        INDArray w = classifier.scoreWeight();                                          // [L, C]
        double[][] logits = h.mmul(w.transpose()).castTo(DataType.DOUBLE).toDoubleMatrix(); // [N, L]
        double loss = 0;
        double[][] dLogits = new double[logits.length][];
        for (int n = 0; n < logits.length; n++) {
            double[] p = SequenceClassifier.softmax(logits[n]);
            loss -= Math.log(Math.max(p[at.label[n]], Double.MIN_VALUE));
            p[at.label[n]] -= 1;
            for (int j = 0; j < p.length; j++) {
                p[j] /= lossDivisor;
            }
            dLogits[n] = p;
        }
        INDArray d = Nd4j.create(dLogits).castTo(DataType.FLOAT);                       // [N, L]
        INDArray dW = d.transpose().mmul(h);                                            // [L, C]
        if (accumulate) {
            headGradient.addi(dW);
        } else {
            headGradient.assign(dW);
        }
        if (base != null) {
            INDArray dh = d.mmul(w);                                                    // [N, C]
            long c = hidden.size(2);
            INDArray dHidden = Nd4j.create(DataType.FLOAT, hidden.size(0) * hidden.size(1), c);
            for (int n = 0; n < at.flat.length; n++) {
                dHidden.getRow(at.flat[n]).assign(dh.getRow(n));
            }
            model.backwardFromHidden(dHidden.reshape(hidden.size(0), hidden.size(1), c), accumulate);
            baseView(gradients).assign(base.gradients());
        }
        return loss;
    }

    @Override
    public double loss(TokenBatch batch) {
        pushWeights();
        double[][] logits = classifierLogits(batch);
        Positions at = Positions.of(batch, classifier.labels().size());
        double loss = 0;
        for (int n = 0; n < logits.length; n++) {
            loss -= Math.log(Math.max(SequenceClassifier.softmax(logits[n])[at.label[n]], Double.MIN_VALUE));
        }
        return loss;
    }

    private double[][] classifierLogits(TokenBatch batch) {
        Positions at = Positions.of(batch, classifier.labels().size());
        INDArray hidden = model.forward(batch, dev.attune.core.model.Output.HIDDEN).hidden();
        return SequenceClassifier.gather(hidden, at.flat).mmul(classifier.scoreWeight().transpose())
                .castTo(DataType.DOUBLE).toDoubleMatrix();
    }

    @Override
    public int contextLength() {
        return model.config().contextLength() - model.adapters().virtualPositions();
    }

    /**
     * An adapter's directory with the head in it as PEFT's {@code modules_to_save}; otherwise the base's artifact in
     * {@code base/} (when there is a base) and the head in {@code score.safetensors}.
     */
    @Override
    public void save(Path directory) throws IOException {
        pushWeights();
        if (base instanceof PeftModel peft) {
            peft.save(directory, classifier.modulesToSave());
            return;
        }
        if (base != null) {
            Path b = Files.createDirectory(directory.resolve("base"));
            base.save(b);
        }
        classifier.saveHead(directory.resolve("score.safetensors"));
    }

    @Override
    public void load(Path directory) throws IOException {
        if (base instanceof PeftModel peft) {
            peft.load(directory);
            baseView(parameters).assign(base.parameters());
            classifier.loadHead(peft.modulesToSave().orElseThrow(() -> new IOException(directory
                    + " holds no classification head (modules_to_save)")));
            return;
        }
        if (base != null) {
            base.load(directory.resolve("base"));
            baseView(parameters).assign(base.parameters());
        }
        classifier.loadHead(directory.resolve("score.safetensors"));
    }

    /** The positions that carry a class index, and the indices. */
    private record Positions(int[] flat, int[] label) {
        static Positions of(TokenBatch batch, int numLabels) {
            int[] targets = batch.targets();
            int n = batch.validTargets();
            if (n == 0) {
                throw new IllegalArgumentException("the batch carries no class labels");
            }
            int[] flat = new int[n];
            int[] label = new int[n];
            int k = 0;
            for (int i = 0; i < targets.length; i++) {
                if (targets[i] >= 0) {
                    if (targets[i] >= numLabels) {
                        throw new IllegalArgumentException("class index " + targets[i] + " at position " + i
                                + " but the head has " + numLabels + " labels");
                    }
                    flat[k] = i;
                    label[k++] = targets[i];
                }
            }
            return new Positions(flat, label);
        }
    }

    @Override
    public String toString() {
        return (base == null ? "the classification head" : base + " and the classification head") + " ("
                + parameters.length() + " weights)";
    }
}
