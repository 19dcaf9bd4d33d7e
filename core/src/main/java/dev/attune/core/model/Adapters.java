package dev.attune.core.model;

import dev.attune.core.config.GptConfig;
import java.util.Objects;
import java.util.Optional;

/**
 * The places where adapters attach to a {@link GptModel}: the four projections of each layer
 * ({@link ProjectionAdapter}), the two residual branches of each layer and the outputs of the LayerNorms
 * ({@link ResidualAdapter}), key/value positions in front of every layer ({@link KvPrefix}) and virtual input
 * embeddings ({@link SoftPrompt}). Every forward path of
 * the model (training, scoring, generation through {@link KvCache}) runs what is attached, and its backward sends
 * each adapter its gradients; with {@link GptModel#freeze()} the base weights themselves get none.
 *
 * <p>Attach adapters before opening a {@link KvCache}: a cache holds the prefix it was opened with.
 */
public final class Adapters {

    private final GptConfig config;
    private final Block[] blocks;
    private KvPrefix prefix;
    private SoftPrompt softPrompt;
    private ResidualAdapter afterFinalNorm;

    Adapters(GptConfig config, Block[] blocks) {
        this.config = config;
        this.blocks = blocks;
    }

    /** Wraps projection {@code projection} of layer {@code layer} (replacing any adapter already there). */
    public void wrap(int layer, Projection projection, ProjectionAdapter adapter) {
        block(layer).projection(Objects.requireNonNull(projection, "projection")).adapter =
                Objects.requireNonNull(adapter, "adapter");
    }

    /** Removes the adapter around a projection, if any. */
    public void unwrap(int layer, Projection projection) {
        block(layer).projection(projection).adapter = null;
    }

    /** The adapter around a projection, if any. */
    public Optional<ProjectionAdapter> wrapped(int layer, Projection projection) {
        return Optional.ofNullable(block(layer).projection(projection).adapter);
    }

    /** Puts {@code adapter} on residual branch {@code branch} of layer {@code layer} (replacing any there). */
    public void insert(int layer, Branch branch, ResidualAdapter adapter) {
        Objects.requireNonNull(adapter, "adapter");
        Block b = block(layer);
        if (Objects.requireNonNull(branch, "branch") == Branch.ATTENTION) {
            b.afterAttention = adapter;
        } else {
            b.afterMlp = adapter;
        }
    }

    /** Removes the adapter on a residual branch, if any. */
    public void remove(int layer, Branch branch) {
        Block b = block(layer);
        if (branch == Branch.ATTENTION) {
            b.afterAttention = null;
        } else {
            b.afterMlp = null;
        }
    }

    /** The adapter on a residual branch, if any. */
    public Optional<ResidualAdapter> inserted(int layer, Branch branch) {
        Block b = block(layer);
        return Optional.ofNullable(branch == Branch.ATTENTION ? b.afterAttention : b.afterMlp);
    }

    /**
     * Puts {@code adapter} on the output of the LayerNorm that opens branch {@code branch} of layer {@code layer}
     * ({@code ln_1} for {@link Branch#ATTENTION}, {@code ln_2} for {@link Branch#MLP}), replacing any there; null
     * removes it. The branch's projections read the adjusted output (LoRA's bias mode {@code all} shifts the
     * LayerNorm biases this way without touching the base).
     */
    public void afterNorm(int layer, Branch branch, ResidualAdapter adapter) {
        Block b = block(layer);
        if (Objects.requireNonNull(branch, "branch") == Branch.ATTENTION) {
            b.afterLn1 = adapter;
        } else {
            b.afterLn2 = adapter;
        }
    }

    /** The adapter on the output of the LayerNorm that opens a branch, if any. */
    public Optional<ResidualAdapter> afterNorm(int layer, Branch branch) {
        Block b = block(layer);
        return Optional.ofNullable(branch == Branch.ATTENTION ? b.afterLn1 : b.afterLn2);
    }

    /**
     * Puts {@code adapter} on the output of the final LayerNorm {@code ln_f} (the hidden states the LM head and task
     * heads read), replacing any there; null removes it.
     */
    public void afterFinalNorm(ResidualAdapter adapter) {
        this.afterFinalNorm = adapter;
    }

    /** The adapter on the final LayerNorm's output, if any. */
    public Optional<ResidualAdapter> afterFinalNorm() {
        return Optional.ofNullable(afterFinalNorm);
    }

    /** Sets the key/value prefix of every layer; null removes it. */
    public void prefix(KvPrefix prefix) {
        if (prefix != null && (prefix.length() <= 0 || prefix.length() >= config.contextLength())) {
            throw new IllegalArgumentException("a key/value prefix needs 1 to " + (config.contextLength() - 1)
                    + " positions (they take position ids, and the model's context is " + config.contextLength()
                    + "), got " + prefix.length());
        }
        this.prefix = prefix;
    }

    /** The key/value prefix, or null. */
    public KvPrefix prefix() {
        return prefix;
    }

    /** Sets the soft prompt; null removes it. */
    public void softPrompt(SoftPrompt softPrompt) {
        if (softPrompt != null && (softPrompt.length() <= 0 || softPrompt.length() >= config.contextLength())) {
            throw new IllegalArgumentException("a soft prompt needs 1 to " + (config.contextLength() - 1)
                    + " virtual tokens (the model's context is " + config.contextLength() + "), got "
                    + softPrompt.length());
        }
        this.softPrompt = softPrompt;
    }

    /** The soft prompt, or null. */
    public SoftPrompt softPrompt() {
        return softPrompt;
    }

    /** Removes every adapter. */
    public void clear() {
        for (Block b : blocks) {
            for (Projection p : Projection.values()) {
                b.projection(p).adapter = null;
            }
            b.afterAttention = null;
            b.afterMlp = null;
            b.afterLn1 = null;
            b.afterLn2 = null;
        }
        prefix = null;
        softPrompt = null;
        afterFinalNorm = null;
    }

    /** True when nothing is attached. */
    public boolean isEmpty() {
        return !trains();
    }

    /** Whether a backward pass has adapter gradients to compute (anything attached trains). */
    boolean trains() {
        return lowestLayer() < blocks.length || afterFinalNorm != null;
    }

    /**
     * Position ids the adapters take in front of every row's tokens: a prefix's and a soft prompt's virtual
     * positions. A row then holds at most {@code contextLength - virtualPositions()} tokens of its own.
     */
    public int virtualPositions() {
        return prefixLength() + softPromptLength();
    }

    /** Key/value positions a cache needs in front of the real ones (the prefix's). */
    int prefixLength() {
        return prefix == null ? 0 : prefix.length();
    }

    /** Positions the soft prompt adds to every row. */
    int softPromptLength() {
        return softPrompt == null ? 0 : softPrompt.length();
    }

    /**
     * The lowest layer a backward pass must reach for the adapters' gradients: 0 with a prefix or soft prompt, the
     * lowest adapted layer otherwise, the number of layers when no layer has an adapter (one on {@code ln_f} needs
     * no layer's backward).
     */
    int lowestLayer() {
        if (prefix != null || softPrompt != null) {
            return 0;
        }
        for (int l = 0; l < blocks.length; l++) {
            Block b = blocks[l];
            if (b.afterAttention != null || b.afterMlp != null || b.afterLn1 != null || b.afterLn2 != null) {
                return l;
            }
            for (Projection p : Projection.values()) {
                if (b.projection(p).adapter != null) {
                    return l;
                }
            }
        }
        return blocks.length;
    }

    private Block block(int layer) {
        if (layer < 0 || layer >= blocks.length) {
            throw new IllegalArgumentException("layer " + layer + " outside [0, " + blocks.length + ")");
        }
        return blocks[layer];
    }
}
