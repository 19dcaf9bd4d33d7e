package dev.attune.core.model;

/** The two residual branches of a layer: {@code x + attn(ln_1(x))} and {@code x + mlp(ln_2(x))}. */
public enum Branch {
    ATTENTION,
    MLP
}
