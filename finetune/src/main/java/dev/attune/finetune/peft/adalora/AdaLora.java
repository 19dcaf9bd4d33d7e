package dev.attune.finetune.peft.adalora;

import static dev.attune.core.model.Gemm.gemm;

import dev.attune.core.config.GptConfig;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.finetune.peft.Adapter;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.AdapterTensors;
import dev.attune.finetune.peft.Target;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An AdaLoRA adapter: {@link AdaLoraLayer}s under PEFT's keys ({@code ...c_attn.lora_A [r, in]},
 * {@code lora_B [out, r]}, {@code lora_E [r, 1]}), PEFT's rank allocator and orthogonality regulariser.
 *
 * <p>The budget is driven by the training itself: {@link dev.attune.finetune.peft.PeftModel} calls
 * {@link #onStepStart} at each step, where the smoothed importance {@code |w * grad|} (and its uncertainty) of every
 * weight is updated and, on the schedule, the triplets of lowest importance are pruned (their {@code E} zeroed and
 * masked) until the total rank fits the budget. Each reallocation is logged (INFO) with the ranks per module; the
 * current ranks are {@link #ranks()}. The importance averages are not checkpointed: a resumed run restarts them.
 */
public final class AdaLora implements Adapter {

    private static final Logger LOG = LoggerFactory.getLogger(AdaLora.class);
    static final String PREFIX = "base_model.model.";

    private final AdaLoraConfig config;
    private final GptConfig model;
    private final List<Target> targets;
    private final AdapterTensors tensors;
    private final List<AdaLoraLayer> layers = new ArrayList<>();
    private INDArray expAvgImportance;   // flat, like the parameters
    private INDArray expAvgUncertainty;
    private final List<String> rankLog = new ArrayList<>();

    private AdaLora(AdaLoraConfig config, GptConfig model, DataType dataType) {
        this.config = config;
        this.model = model;
        this.targets = config.targets(model);
        AdapterTensors.Builder b = AdapterTensors.builder().dataType(dataType);
        for (Target t : targets) {
            String p = PREFIX + t.modulePath();
            b.add(p + ".lora_A", config.initR(), t.projection().inputSize(model));
            b.add(p + ".lora_E", config.initR(), 1);
            b.add(p + ".lora_B", t.projection().outputSize(model), config.initR());
        }
        this.tensors = b.build();
        for (int i = 0; i < targets.size(); i++) {
            String p = PREFIX + targets.get(i).modulePath();
            layers.add(new AdaLoraLayer(tensors.parameter(p + ".lora_A"), tensors.parameter(p + ".lora_E"),
                    tensors.parameter(p + ".lora_B"), tensors.gradient(p + ".lora_A"), tensors.gradient(p + ".lora_E"),
                    tensors.gradient(p + ".lora_B"), config.scaling(), config.dropout(), 0x20_0000L + i));
        }
    }

    /** PEFT's start: A and B N(0, 0.02), E zero (so the model starts unchanged). */
    static AdaLora create(AdaLoraConfig config, GptConfig model, long seed, DataType type) {
        AdaLora ada = new AdaLora(config, model, type);
        SplittableRandom rng = new SplittableRandom(seed);
        for (AdaLoraLayer l : ada.layers) {
            for (INDArray p : new INDArray[] {l.a, l.b}) {
                double[] v = new double[(int) p.length()];
                for (int k = 0; k < v.length; k++) {
                    v[k] = rng.nextGaussian() * 0.02;
                }
                p.assign(Nd4j.createFromArray(v).reshape(p.shape()).castTo(type));
            }
        }
        return ada;
    }

    @Override
    public AdaLoraConfig config() {
        return config;
    }

    @Override
    public AdapterTensors tensors() {
        return tensors;
    }

    public List<Target> targets() {
        return targets;
    }

    /** Kept triplets per module (its {@code lora_E} key), in layer order. */
    public Map<String, Integer> ranks() {
        Map<String, Integer> r = new LinkedHashMap<>();
        for (int i = 0; i < targets.size(); i++) {
            r.put(PREFIX + targets.get(i).modulePath() + ".lora_E", layers.get(i).rank());
        }
        return r;
    }

    /** Sum of {@link #ranks()}. */
    public int totalRank() {
        return layers.stream().mapToInt(AdaLoraLayer::rank).sum();
    }

    /** One line per reallocation so far: the step, the budget and the ranks. */
    public List<String> rankLog() {
        return List.copyOf(rankLog);
    }

    @Override
    public void attach(GptModel base) {
        checkShape(base);
        Target.wrapAll(base, targets, layers);
    }

    @Override
    public void detach(GptModel base) {
        Target.unwrapAll(base, targets);
    }

    private void checkShape(GptModel base) {
        Adapter.requireShape("this AdaLoRA adapter was", model, base);
    }

    // ------------------------------------------------------------------------------------- rank allocation

    @Override
    public void onStepStart(long step) {
        if (step <= 0) {
            return;
        }
        long last = (long) config.totalStep() - config.tfinal();
        if (step < last) {
            updateImportance();
            AdaLoraConfig.Budget budget = config.budget(step, targets.size());
            if (budget.mask()) {
                maskToBudget(budget.total(), step);
            }
        } else if (step == last) {
            updateImportance();
            maskToBudget(config.budget(step, targets.size()).total(), step);
            expAvgImportance = null;
            expAvgUncertainty = null;
        }
        applyMask(); // zero pruned E, as PEFT does every step once a pattern exists
    }

    /** PEFT's update_ipt: EMA of |w * grad| and of its deviation, per weight. */
    void updateImportance() {
        INDArray ipt = Transforms.abs(tensors.parameters().mul(tensors.gradients()), false);
        if (expAvgImportance == null) {
            expAvgImportance = Nd4j.zeros(ipt.dataType(), ipt.length());
            expAvgUncertainty = Nd4j.zeros(ipt.dataType(), ipt.length());
        }
        double b1 = config.beta1();
        double b2 = config.beta2();
        expAvgImportance.muli(b1).addi(ipt.mul(1 - b1));
        expAvgUncertainty.muli(b2).addi(Transforms.abs(ipt.sub(expAvgImportance), false).muli(1 - b2));
    }

    /** PEFT's mask_to_budget: prunes the triplets of lowest score until {@code budget} remain. */
    void maskToBudget(int budget, long step) {
        INDArray score = expAvgImportance.mul(expAvgUncertainty);
        List<double[]> perModule = new ArrayList<>();
        List<Double> all = new ArrayList<>();
        for (Target t : targets) {
            String p = PREFIX + t.modulePath();
            INDArray sa = view(score, p + ".lora_A").mean(1);        // [r]
            INDArray sb = view(score, p + ".lora_B").mean(0);        // [r]
            INDArray se = view(score, p + ".lora_E").reshape(-1);    // [r]
            double[] triplet = se.add(sa).addi(sb).toDoubleVector();
            perModule.add(triplet);
            for (double v : triplet) {
                all.add(v);
            }
        }
        int prune = all.size() - budget;
        if (prune <= 0) {
            return;
        }
        double[] sorted = all.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double threshold = sorted[prune - 1];
        for (int i = 0; i < layers.size(); i++) {
            double[] triplet = perModule.get(i);
            INDArray keep = layers.get(i).keep;
            for (int k = 0; k < triplet.length; k++) {
                keep.putScalar(k, 0, triplet[k] <= threshold ? 0 : 1);
            }
        }
        String line = "AdaLoRA step " + step + ": budget " + budget + " of " + all.size() + ", ranks "
                + ranks().values();
        rankLog.add(line);
        LOG.info(line);
    }

    private INDArray view(INDArray flat, String name) {
        for (var t : tensors.tensors()) {
            if (t.name().equals(name)) {
                return flat.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(t.offset(), t.end())).reshape(t.shape());
            }
        }
        throw new IllegalArgumentException(name);
    }

    private void applyMask() {
        for (AdaLoraLayer l : layers) {
            l.e.muli(l.keep);
        }
    }

    /**
     * PEFT's orthogonality regulariser, {@code w / n * sum ||A A^T - I||_F + ||B^T B - I||_F} over the n matrices,
     * times {@code fraction}; its gradient {@code 2 M P / ||M||} is added to the gradients.
     */
    @Override
    public double regularise(double fraction) {
        double w = config.orthRegWeight();
        if (w == 0) {
            return 0;
        }
        int n = 2 * layers.size();
        double total = 0;
        for (AdaLoraLayer l : layers) {
            total += orthogonality(l.a, false, l.gradA, fraction * w / n);
            total += orthogonality(l.b, true, l.gradB, fraction * w / n);
        }
        return fraction * w * total / n;
    }

    /** ||M||_F for M = P P^T - I (A) or P^T P - I (B); adds factor * dM/dP to grad. */
    private static double orthogonality(INDArray p, boolean columns, INDArray grad, double factor) {
        long r = columns ? p.size(1) : p.size(0);
        INDArray m = Nd4j.create(p.dataType(), r, r);
        gemm(p, columns, p, !columns, m, 1.0, 0.0);
        m.subi(Nd4j.eye(r).castTo(p.dataType()));
        double norm = m.norm2Number().doubleValue();
        if (norm > 0) {
            if (columns) {
                gemm(p, false, m, false, grad, 2 * factor / norm, 1.0);   // 2 B M / f, [out, r]
            } else {
                gemm(m, false, p, false, grad, 2 * factor / norm, 1.0);   // 2 M A / f, [r, in]
            }
        }
        return norm;
    }

    // ------------------------------------------------------------------------------------------------ files

    @Override
    public Map<String, INDArray> stateDict(GptModel base) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        for (int i = 0; i < targets.size(); i++) {
            String p = PREFIX + targets.get(i).modulePath();
            AdaLoraLayer l = layers.get(i);
            // full rank with pruned E zeroed: PEFT loads it as is and computes the same
            out.put(p + ".lora_A", l.a);
            out.put(p + ".lora_B", l.b);
            out.put(p + ".lora_E", l.e.mul(l.keep));
        }
        return out;
    }

    /**
     * Reads PEFT's or Attune's file. PEFT shrinks the tensors of a trained adapter to the kept triplets and lists
     * them in the config's {@code rank_pattern}; those are put back in their rows, the rest pruned.
     */
    @Override
    public void load(SafeTensors file, GptModel base) throws IOException {
        checkShape(base);
        Map<String, long[]> expected = new LinkedHashMap<>();
        List<boolean[]> patterns = new ArrayList<>();
        for (Target t : targets) {
            String p = PREFIX + t.modulePath();
            boolean[] keep = new boolean[config.initR()];
            List<Boolean> pattern = config.rankPattern().get(p + ".lora_E");
            if (pattern != null && pattern.size() != config.initR()) {
                throw new IOException(file.path() + ": rank_pattern of " + p + " has " + pattern.size()
                        + " entries, init_r is " + config.initR());
            }
            int r = 0;
            for (int k = 0; k < keep.length; k++) {
                keep[k] = pattern == null || pattern.get(k);
                r += keep[k] ? 1 : 0;
            }
            patterns.add(keep);
            expected.put(p + ".lora_A", new long[] {r, t.projection().inputSize(model)});
            expected.put(p + ".lora_E", new long[] {r, 1});
            expected.put(p + ".lora_B", new long[] {t.projection().outputSize(model), r});
        }
        AdapterFiles.checkTensors(file, expected);
        tensors.parameters().assign(0);
        for (int i = 0; i < targets.size(); i++) {
            String p = PREFIX + targets.get(i).modulePath();
            AdaLoraLayer l = layers.get(i);
            boolean[] keep = patterns.get(i);
            int[] rows = new int[(int) Arrays.stream(toInts(keep)).filter(v -> v == 1).count()];
            for (int k = 0, j = 0; k < keep.length; k++) {
                l.keep.putScalar(k, 0, keep[k] ? 1 : 0);
                if (keep[k]) {
                    rows[j++] = k;
                }
            }
            if (rows.length == 0) {
                continue;
            }
            INDArray a = file.read(p + ".lora_A").castTo(l.a.dataType());
            INDArray e = file.read(p + ".lora_E").castTo(l.e.dataType());
            INDArray b = file.read(p + ".lora_B").castTo(l.b.dataType());
            for (int j = 0; j < rows.length; j++) {
                l.a.getRow(rows[j]).assign(a.getRow(j));
                l.e.getRow(rows[j]).assign(e.getRow(j));
                l.b.getColumn(rows[j]).assign(b.getColumn(j));
            }
        }
    }

    private static int[] toInts(boolean[] b) {
        int[] out = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            out[i] = b[i] ? 1 : 0;
        }
        return out;
    }

    @Override
    public boolean mergeable() {
        return true;
    }

    @Override
    public List<String> mergedWeights() {
        return targets.stream().map(Target::weightName).toList();
    }

    @Override
    public void merge(GptModel base) {
        checkShape(base);
        for (int i = 0; i < targets.size(); i++) {
            layers.get(i).merge(base.parameter(targets.get(i).weightName()));
        }
    }

    AdaLoraLayer layer(int index) {
        return layers.get(index);
    }

    @Override
    public String toString() {
        return "AdaLoRA init_r=" + config.initR() + " on " + targets.size() + " projections, total rank "
                + totalRank();
    }
}
