package dev.attune.core.train;

import java.util.ArrayList;
import java.util.List;

/**
 * Hyper-parameters of the AdamW optimizer, with the semantics of PyTorch's {@code torch.optim.AdamW}
 * (Loshchilov and Hutter's decoupled weight decay). For a parameter {@code p} with gradient {@code g}, at update
 * {@code t = 1, 2, ...} and learning rate {@code lr} (from the {@link LearningRateSchedule}):
 *
 * <pre>
 *   p  = p * (1 - lr * weightDecay)          only for tensors that {@link #decays decay}
 *   m  = m + (1 - beta1) * (g - m)           first moment
 *   v  = beta2 * v + (1 - beta2) * g * g     second moment
 *   p  = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + epsilon)
 * </pre>
 *
 * <p>Weight decay applies only to matrices (tensors of rank 2 or more): never to biases or LayerNorm gains, and
 * to the token and position embeddings only when {@link #decayEmbeddings()} is set (off by default, a common
 * choice for GPT-2 fine-tuning; nanoGPT decays them).
 *
 * @param beta1           decay of the first-moment average, in [0, 1)
 * @param beta2           decay of the second-moment average, in [0, 1)
 * @param epsilon         added to the denominator, positive
 * @param weightDecay     decoupled weight-decay coefficient, 0 or more
 * @param decayEmbeddings whether {@code wte}/{@code wpe} embeddings are decayed too
 */
public record AdamW(double beta1, double beta2, double epsilon, double weightDecay, boolean decayEmbeddings) {

    public AdamW {
        List<String> problems = new ArrayList<>();
        if (!(beta1 >= 0 && beta1 < 1)) {
            problems.add("beta1 must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            problems.add("beta2 must be in [0, 1), got " + beta2);
        }
        if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
            problems.add("epsilon must be positive, got " + epsilon);
        }
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            problems.add("weightDecay must be 0 or more, got " + weightDecay);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("Invalid AdamW settings: " + String.join("; ", problems));
        }
    }

    /** PyTorch's defaults: betas (0.9, 0.999), epsilon 1e-8, weight decay 0.01, embeddings not decayed. */
    public static AdamW defaults() {
        return builder().build();
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Whether weight decay applies to a tensor: matrices only (rank 2 or more), and embeddings only when
     * {@link #decayEmbeddings()} is set. Names are Hugging Face GPT-2 names, with or without a prefix.
     */
    public boolean decays(String name, long[] shape) {
        if (shape.length < 2) {
            return false;
        }
        return decayEmbeddings || !isEmbedding(name);
    }

    static boolean isEmbedding(String name) {
        return name.equals("wte.weight") || name.equals("wpe.weight")
                || name.endsWith(".wte.weight") || name.endsWith(".wpe.weight");
    }

    /** Fluent builder; defaults are PyTorch's. */
    public static final class Builder {
        private double beta1 = 0.9;
        private double beta2 = 0.999;
        private double epsilon = 1e-8;
        private double weightDecay = 0.01;
        private boolean decayEmbeddings;

        private Builder() {
        }

        public Builder betas(double beta1, double beta2) {
            this.beta1 = beta1;
            this.beta2 = beta2;
            return this;
        }

        public Builder epsilon(double epsilon) {
            this.epsilon = epsilon;
            return this;
        }

        public Builder weightDecay(double weightDecay) {
            this.weightDecay = weightDecay;
            return this;
        }

        public Builder decayEmbeddings(boolean decayEmbeddings) {
            this.decayEmbeddings = decayEmbeddings;
            return this;
        }

        /** Validates and builds; the message lists every problem found. */
        public AdamW build() {
            return new AdamW(beta1, beta2, epsilon, weightDecay, decayEmbeddings);
        }
    }
}
