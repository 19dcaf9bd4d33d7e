package dev.attune.finetune.heads;

import dev.attune.core.data.Seeds;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.train.Trainable;
import dev.attune.core.train.TrainableTensor;
import dev.attune.finetune.peft.Adapter;
import dev.attune.finetune.peft.PeftModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * A base trainable (or none) plus a linear head, in one flat buffer as {@link Trainable} asks:
 * {@code [base parameters | head weight | head bias]} ({@code score.weight} of the sequence classifier;
 * {@code classifier.weight} and {@code classifier.bias} of the token classifier). The head's tensors are views of
 * this buffer. The base's weights live in
 * the base's own buffer, so this buffer is the master copy: it is copied into the base before every pass and the
 * base's gradients are copied back after it (one copy of the trained weights each way per micro-batch: nothing next
 * to a forward pass for adapters; for full fine-tuning about a GEMM's worth of memory traffic, and twice the weights'
 * memory).
 *
 * <p>The loss: at each position whose target is a class index (see {@link ClassificationData}), the cross-entropy
 * of {@code softmax(h W^T + b)} with {@code h} the hidden state after {@code ln_f} (in training passes after the
 * head's dropout, whose mask derives from the pass's dropout seed alone).
 */
final class HeadTrainable implements Trainable {

    private final LinearHead head;
    private final Trainable base; // null: the head alone
    private final GptModel model;
    private final long baseLength;
    private final long weightLength;
    private final INDArray parameters;
    private final INDArray gradients;
    private final INDArray headGradient; // [L, C] view of gradients
    private final INDArray biasGradient; // [L] view of gradients, or null
    private final List<TrainableTensor> tensors;
    // a PEFT base's active adapter: its step hooks (AdaLoRA's rank budget and regulariser) run here, as in
    // PeftModel.forwardBackward, since the head's pass replaces that one
    private final Adapter adapter;
    private long stepsStarted;

    HeadTrainable(LinearHead head, Trainable base) {
        this.head = head;
        this.base = base;
        this.model = head.model();
        if (base == null && !model.isFrozen()) {
            model.freeze(); // the head alone: no base gradients to compute
        }
        this.baseLength = base == null ? 0 : base.parameters().length();
        this.adapter = base instanceof PeftModel peft ? peft.adapter(peft.activeAdapter()) : null;
        long[] shape = head.weight().shape();
        this.weightLength = shape[0] * shape[1];
        long biasLength = head.biasName() == null ? 0 : shape[0];
        this.parameters = Nd4j.create(DataType.FLOAT, baseLength + weightLength + biasLength);
        this.gradients = Nd4j.create(DataType.FLOAT, baseLength + weightLength + biasLength);
        List<TrainableTensor> list = new ArrayList<>();
        if (base != null) {
            baseView(parameters).assign(base.parameters());
            list.addAll(base.tensors());
        }
        list.add(new TrainableTensor(head.weightName(), shape, baseLength));
        if (biasLength > 0) {
            list.add(new TrainableTensor(head.biasName(), new long[] {shape[0]}, baseLength + weightLength));
        }
        this.tensors = List.copyOf(list);
        head.bind(headView(parameters, shape), biasView(parameters));
        this.headGradient = headView(gradients, shape);
        this.biasGradient = biasView(gradients);
    }

    private INDArray baseView(INDArray flat) {
        return flat.get(NDArrayIndex.interval(0, baseLength));
    }

    private INDArray headView(INDArray flat, long[] shape) {
        return flat.get(NDArrayIndex.interval(baseLength, baseLength + weightLength)).reshape('c', shape);
    }

    private INDArray biasView(INDArray flat) {
        long start = baseLength + weightLength;
        return start == flat.length() ? null : flat.get(NDArrayIndex.interval(start, flat.length()));
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
        if (adapter != null && !accumulate) {
            adapter.onStepStart(stepsStarted++);
        }
        INDArray hidden = model.trainingForward(batch, dropoutSeed);                   // [B, T, C]
        Positions at = Positions.of(batch, head.numLabels());
        INDArray h = SequenceClassifier.gather(hidden, at.flat);                        // [N, C]
        INDArray keep = dropoutMask(h, dropoutSeed);                                    // [N, C] or null
        if (keep != null) {
            h.muli(keep);
        }
        INDArray w = head.weight();                                                     // [L, C]
        double[][] logits = logits(h);                                                  // [N, L]
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
        if (biasGradient != null) {
            INDArray db = d.sum(0);                                                     // [L]
            if (accumulate) {
                biasGradient.addi(db);
            } else {
                biasGradient.assign(db);
            }
        }
        if (base != null) {
            INDArray dh = d.mmul(w);                                                    // [N, C]
            if (keep != null) {
                dh.muli(keep);
            }
            long c = hidden.size(2);
            INDArray dHidden = Nd4j.create(DataType.FLOAT, hidden.size(0) * hidden.size(1), c);
            for (int n = 0; n < at.flat.length; n++) {
                dHidden.getRow(at.flat[n]).assign(dh.getRow(n));
            }
            model.backwardFromHidden(dHidden.reshape(hidden.size(0), hidden.size(1), c), accumulate);
            if (adapter != null) {
                adapter.afterBackward(accumulate);
                adapter.regularise(at.flat.length / lossDivisor);
            }
            baseView(gradients).assign(base.gradients());
        }
        return loss;
    }

    @Override
    public double loss(TokenBatch batch) {
        pushWeights();
        Positions at = Positions.of(batch, head.numLabels());
        INDArray hidden = model.forward(batch, dev.attune.core.model.Output.HIDDEN).hidden();
        double[][] logits = logits(SequenceClassifier.gather(hidden, at.flat));
        double loss = 0;
        for (int n = 0; n < logits.length; n++) {
            loss -= Math.log(Math.max(SequenceClassifier.softmax(logits[n])[at.label[n]], Double.MIN_VALUE));
        }
        return loss;
    }

    /** {@code h W^T (+ b)}: [N, L] from h [N, C]. */
    private double[][] logits(INDArray h) {
        INDArray z = h.mmul(head.weight().transpose());                                 // [N, L]
        if (head.bias() != null) {
            z.addiRowVector(head.bias());
        }
        return z.castTo(DataType.DOUBLE).toDoubleMatrix();
    }

    /** Inverted dropout's scaled keep mask {@code [N, C]} for the head's input; null without dropout. */
    private INDArray dropoutMask(INDArray h, long dropoutSeed) {
        double p = head.dropout();
        if (p == 0) {
            return null;
        }
        SplittableRandom random = new SplittableRandom(Seeds.of(dropoutSeed, HEAD_DROPOUT_STREAM));
        float[] mask = new float[(int) h.length()];
        float scale = (float) (1 / (1 - p));
        for (int i = 0; i < mask.length; i++) {
            mask[i] = random.nextDouble() < p ? 0f : scale;
        }
        return Nd4j.create(mask, h.shape(), DataType.FLOAT);
    }

    /** Keeps the head's dropout stream apart from the model's, which derive from the same seed. */
    private static final long HEAD_DROPOUT_STREAM = 0x4845414444524f50L;

    @Override
    public int contextLength() {
        return model.config().contextLength() - model.adapters().virtualPositions();
    }

    /**
     * With an adapter, the adapter's directory with the head in it as PEFT's {@code modules_to_save}
     * ({@link #modulesToSave}); otherwise the base's artifact in {@code base/} (when there is a base) and the head in
     * its own file ({@link LinearHead#fileName}).
     */
    @Override
    public void save(Path directory) throws IOException {
        pushWeights();
        if (base instanceof dev.attune.finetune.peft.PeftModel peft) {
            peft.save(directory, modulesToSave(head));
            return;
        }
        if (base != null) {
            Path b = Files.createDirectory(directory.resolve("base"));
            base.save(b);
        }
        head.save(directory.resolve(head.fileName()));
    }

    @Override
    public void load(Path directory) throws IOException {
        if (base instanceof dev.attune.finetune.peft.PeftModel peft) {
            peft.load(directory);
            baseView(parameters).assign(base.parameters());
            loadModules(head, peft.modulesToSave().orElseThrow(() -> new IOException(directory
                    + " holds no " + head.description() + " (modules_to_save)")));
            return;
        }
        if (base != null) {
            base.load(directory.resolve("base"));
            baseView(parameters).assign(base.parameters());
        }
        head.load(directory.resolve(head.fileName()));
    }

    /** A head's tensors as PEFT's {@code modules_to_save} of its task model (weight, and bias if it has one). */
    static dev.attune.finetune.peft.ModulesToSave modulesToSave(LinearHead head) {
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put(head.weightName(), head.weight());
        if (head.biasName() != null) {
            tensors.put(head.biasName(), head.bias());
        }
        return new dev.attune.finetune.peft.ModulesToSave(head.taskType(), tensors);
    }

    /** Takes a head's tensors from saved modules; names and shapes must match. */
    static void loadModules(LinearHead head, dev.attune.finetune.peft.ModulesToSave modules) {
        copy(modules, head.weightName(), head.weight());
        if (head.biasName() != null) {
            copy(modules, head.biasName(), head.bias());
        }
    }

    private static void copy(dev.attune.finetune.peft.ModulesToSave modules, String name, INDArray into) {
        INDArray saved = modules.tensor(name);
        if (!java.util.Arrays.equals(saved.shape(), into.shape())) {
            throw new IllegalArgumentException("saved " + name + " has shape " + java.util.Arrays.toString(saved.shape())
                    + ", expected " + java.util.Arrays.toString(into.shape()));
        }
        into.assign(saved.castTo(into.dataType()));
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
        return (base == null ? head.description() : base + " and " + head.description()) + " ("
                + parameters.length() + " weights)";
    }
}
