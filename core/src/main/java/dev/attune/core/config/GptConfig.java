package dev.attune.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The shape and hyper-parameters of a GPT-2-family model, as in Hugging Face's {@code config.json}.
 *
 * <p>Immutable; make one with {@link #builder()} or a preset ({@link #gpt2()}, {@link #tiny()}, ...). The
 * builder validates everything in {@link Builder#build()}.
 *
 * @param vocabSize         V, number of token embeddings
 * @param contextLength     T, {@code n_positions}: the longest sequence the position table covers
 * @param embeddingSize     C, {@code n_embd}
 * @param layers            L, {@code n_layer}
 * @param heads             H, {@code n_head}; C must be divisible by H
 * @param innerSize         the MLP width, {@code n_inner} (4C when absent in config.json)
 * @param layerNormEpsilon  {@code layer_norm_epsilon}
 * @param initializerRange  standard deviation of the initial weights
 * @param embeddingDropout  {@code embd_pdrop}
 * @param attentionDropout  {@code attn_pdrop}
 * @param residualDropout   {@code resid_pdrop}
 * @param bosTokenId        beginning-of-sequence id
 * @param eosTokenId        end-of-sequence id
 */
public record GptConfig(
        int vocabSize,
        int contextLength,
        int embeddingSize,
        int layers,
        int heads,
        int innerSize,
        double layerNormEpsilon,
        double initializerRange,
        double embeddingDropout,
        double attentionDropout,
        double residualDropout,
        int bosTokenId,
        int eosTokenId) {

    /** The only activation GPT-2 uses: GELU with the tanh approximation. */
    public static final String ACTIVATION = "gelu_new";

    public GptConfig {
        List<String> problems = new ArrayList<>();
        positive(problems, "vocab_size", vocabSize);
        positive(problems, "n_positions", contextLength);
        positive(problems, "n_embd", embeddingSize);
        positive(problems, "n_layer", layers);
        positive(problems, "n_head", heads);
        positive(problems, "n_inner", innerSize);
        if (heads > 0 && embeddingSize > 0 && embeddingSize % heads != 0) {
            problems.add("n_embd (" + embeddingSize + ") must be divisible by n_head (" + heads + ")");
        }
        if (!(layerNormEpsilon > 0) || Double.isInfinite(layerNormEpsilon)) {
            problems.add("layer_norm_epsilon must be positive, got " + layerNormEpsilon);
        }
        if (!(initializerRange > 0) || Double.isInfinite(initializerRange)) {
            problems.add("initializer_range must be positive, got " + initializerRange);
        }
        probability(problems, "embd_pdrop", embeddingDropout);
        probability(problems, "attn_pdrop", attentionDropout);
        probability(problems, "resid_pdrop", residualDropout);
        tokenId(problems, "bos_token_id", bosTokenId, vocabSize);
        tokenId(problems, "eos_token_id", eosTokenId, vocabSize);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("Invalid GPT config: " + String.join("; ", problems));
        }
    }

    private static void positive(List<String> problems, String name, int value) {
        if (value <= 0) {
            problems.add(name + " must be positive, got " + value);
        }
    }

    private static void probability(List<String> problems, String name, double p) {
        if (!(p >= 0 && p < 1)) {
            problems.add(name + " must be in [0, 1), got " + p);
        }
    }

    private static void tokenId(List<String> problems, String name, int id, int vocab) {
        if (id < 0 || (vocab > 0 && id >= vocab)) {
            problems.add(name + " must be in [0, vocab_size=" + vocab + "), got " + id);
        }
    }

    /** Size of one attention head, C / H. */
    public int headSize() {
        return embeddingSize / heads;
    }

    /** A copy with every dropout probability set to {@code p}. */
    public GptConfig withDropout(double p) {
        return toBuilder().dropout(p).build();
    }

    /** GPT-2 small: 12 layers, 12 heads, 768 wide, 124,439,808 parameters. */
    public static GptConfig gpt2() {
        return builder().build();
    }

    /** GPT-2 medium: 24 layers, 16 heads, 1024 wide. */
    public static GptConfig gpt2Medium() {
        return builder().layers(24).heads(16).embeddingSize(1024).build();
    }

    /** GPT-2 large: 36 layers, 20 heads, 1280 wide. */
    public static GptConfig gpt2Large() {
        return builder().layers(36).heads(20).embeddingSize(1280).build();
    }

    /** GPT-2 XL: 48 layers, 25 heads, 1600 wide. */
    public static GptConfig gpt2Xl() {
        return builder().layers(48).heads(25).embeddingSize(1600).build();
    }

    /**
     * A small model for tests and quick experiments: 2 layers, 4 heads, 128 wide, context 256, and the full GPT-2
     * vocabulary so the GPT-2 tokenizer works with it.
     */
    public static GptConfig tiny() {
        return builder().layers(2).heads(4).embeddingSize(128).contextLength(256).build();
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.vocabSize = vocabSize;
        b.contextLength = contextLength;
        b.embeddingSize = embeddingSize;
        b.layers = layers;
        b.heads = heads;
        b.innerSize = innerSize;
        b.layerNormEpsilon = layerNormEpsilon;
        b.initializerRange = initializerRange;
        b.embeddingDropout = embeddingDropout;
        b.attentionDropout = attentionDropout;
        b.residualDropout = residualDropout;
        b.bosTokenId = bosTokenId;
        b.eosTokenId = eosTokenId;
        return b;
    }

    // ---------------------------------------------------------------------------------------- config.json

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Reads a Hugging Face {@code config.json} (GPT-2 keys or their aliases such as {@code hidden_size}).
     *
     * @throws IOException if the file is missing, is not JSON, or does not describe a GPT-2 model
     */
    public static GptConfig readJson(Path file) throws IOException {
        if (!java.nio.file.Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "config.json not found");
        }
        JsonNode root = dev.attune.core.io.StrictJson.readFile(file); // a key given twice is an error
        if (!root.isObject()) {
            throw new IOException(file + ": expected a JSON object");
        }
        try {
            return fromJson(root);
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** Parses the JSON text of a {@code config.json}. */
    public static GptConfig parseJson(String json) {
        try {
            return fromJson(JSON.readTree(json));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("config.json is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static GptConfig fromJson(JsonNode root) {
        JsonNode type = root.get("model_type");
        if (type != null && !type.isNull() && !type.asText().equals("gpt2")) {
            throw new IllegalArgumentException("model_type is \"" + type.asText() + "\", expected \"gpt2\"");
        }
        JsonNode activation = root.get("activation_function");
        if (activation != null && !activation.isNull()
                && !(activation.asText().equals("gelu_new") || activation.asText().equals("gelu_pytorch_tanh"))) {
            throw new IllegalArgumentException("activation_function \"" + activation.asText()
                    + "\" is not supported (only gelu_new, the tanh GELU)");
        }
        Builder b = builder();
        b.vocabSize = intKey(root, b.vocabSize, "vocab_size");
        b.contextLength = intKey(root, b.contextLength, "n_positions", "max_position_embeddings", "n_ctx");
        b.embeddingSize = intKey(root, b.embeddingSize, "n_embd", "hidden_size");
        b.layers = intKey(root, b.layers, "n_layer", "num_hidden_layers");
        b.heads = intKey(root, b.heads, "n_head", "num_attention_heads");
        JsonNode inner = root.get("n_inner");
        b.innerSize = inner == null || inner.isNull() ? 0 : requireInt(inner, "n_inner");
        b.layerNormEpsilon = doubleKey(root, b.layerNormEpsilon, "layer_norm_epsilon");
        b.initializerRange = doubleKey(root, b.initializerRange, "initializer_range");
        b.embeddingDropout = doubleKey(root, b.embeddingDropout, "embd_pdrop");
        b.attentionDropout = doubleKey(root, b.attentionDropout, "attn_pdrop");
        b.residualDropout = doubleKey(root, b.residualDropout, "resid_pdrop");
        b.bosTokenId = specialTokenKey(root, "bos_token_id", b.vocabSize);
        b.eosTokenId = specialTokenKey(root, "eos_token_id", b.vocabSize);
        return b.build();
    }

    /**
     * Small test configs often keep GPT-2's 50256 with a smaller vocabulary; transformers only warns about that, so
     * such an id falls back to the default (the last id) with a warning instead of failing the load.
     */
    private static Integer specialTokenKey(JsonNode root, String name, int vocabSize) {
        if (!root.hasNonNull(name)) {
            return null;
        }
        int id = intKey(root, 0, name);
        if (id >= vocabSize && vocabSize > 0) {
            org.slf4j.LoggerFactory.getLogger(GptConfig.class).warn(
                    "{} {} is outside the vocabulary of {}; using {}", name, id, vocabSize, vocabSize - 1);
            return null;
        }
        return id;
    }

    private static int intKey(JsonNode root, int fallback, String... names) {
        for (String name : names) {
            JsonNode n = root.get(name);
            if (n != null && !n.isNull()) {
                return requireInt(n, name);
            }
        }
        return fallback;
    }

    private static int requireInt(JsonNode n, String name) {
        if (!n.canConvertToInt() || !n.isIntegralNumber()) {
            throw new IllegalArgumentException(name + " must be an integer, got " + n);
        }
        return n.intValue();
    }

    private static double doubleKey(JsonNode root, double fallback, String name) {
        JsonNode n = root.get(name);
        if (n == null || n.isNull()) {
            return fallback;
        }
        if (!n.isNumber()) {
            throw new IllegalArgumentException(name + " must be a number, got " + n);
        }
        return n.doubleValue();
    }

    /** The {@code config.json} text Hugging Face transformers writes for this model. */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.putArray("architectures").add("GPT2LMHeadModel");
        o.put("model_type", "gpt2");
        o.put("vocab_size", vocabSize);
        o.put("n_positions", contextLength);
        o.put("n_ctx", contextLength);
        o.put("n_embd", embeddingSize);
        o.put("n_layer", layers);
        o.put("n_head", heads);
        if (innerSize == 4 * embeddingSize) {
            o.putNull("n_inner");
        } else {
            o.put("n_inner", innerSize);
        }
        o.put("activation_function", ACTIVATION);
        o.put("layer_norm_epsilon", layerNormEpsilon);
        o.put("initializer_range", initializerRange);
        o.put("embd_pdrop", embeddingDropout);
        o.put("attn_pdrop", attentionDropout);
        o.put("resid_pdrop", residualDropout);
        o.put("scale_attn_weights", true);
        o.put("tie_word_embeddings", true);
        o.put("bos_token_id", bosTokenId);
        o.put("eos_token_id", eosTokenId);
        o.put("torch_dtype", "float32");
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n";
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Writes {@code config.json} atomically. */
    public void writeJson(Path file) throws IOException {
        AtomicFiles.write(file, toJson().getBytes(StandardCharsets.UTF_8));
    }

    /** Fluent builder; defaults are GPT-2 small's. */
    public static final class Builder {
        private int vocabSize = 50257;
        private int contextLength = 1024;
        private int embeddingSize = 768;
        private int layers = 12;
        private int heads = 12;
        private int innerSize; // 0 = 4 * embeddingSize
        private double layerNormEpsilon = 1e-5;
        private double initializerRange = 0.02;
        private double embeddingDropout = 0.1;
        private double attentionDropout = 0.1;
        private double residualDropout = 0.1;
        private Integer bosTokenId; // null: 50256, or the last id of a smaller vocabulary
        private Integer eosTokenId;

        private Builder() {
        }

        public Builder vocabSize(int v) { this.vocabSize = v; return this; }
        public Builder contextLength(int t) { this.contextLength = t; return this; }
        public Builder embeddingSize(int c) { this.embeddingSize = c; return this; }
        public Builder layers(int l) { this.layers = l; return this; }
        public Builder heads(int h) { this.heads = h; return this; }
        /** MLP width; 0 means 4 x embedding size. */
        public Builder innerSize(int n) { this.innerSize = n; return this; }
        public Builder layerNormEpsilon(double eps) { this.layerNormEpsilon = eps; return this; }
        public Builder initializerRange(double std) { this.initializerRange = std; return this; }
        public Builder embeddingDropout(double p) { this.embeddingDropout = p; return this; }
        public Builder attentionDropout(double p) { this.attentionDropout = p; return this; }
        public Builder residualDropout(double p) { this.residualDropout = p; return this; }
        /** Sets all three dropout probabilities. */
        public Builder dropout(double p) {
            this.embeddingDropout = p;
            this.attentionDropout = p;
            this.residualDropout = p;
            return this;
        }
        public Builder bosTokenId(int id) { this.bosTokenId = id; return this; }
        public Builder eosTokenId(int id) { this.eosTokenId = id; return this; }

        /** Validates and builds; the message lists every problem found. */
        public GptConfig build() {
            int inner = innerSize == 0 ? 4 * embeddingSize : innerSize;
            int defaultSpecial = Math.min(50256, vocabSize - 1);
            return new GptConfig(vocabSize, contextLength, embeddingSize, layers, heads, inner, layerNormEpsilon,
                    initializerRange, embeddingDropout, attentionDropout, residualDropout,
                    bosTokenId == null ? defaultSpecial : bosTokenId, eosTokenId == null ? defaultSpecial : eosTokenId);
        }
    }

    @Override
    public String toString() {
        return "GptConfig[L" + layers + " H" + heads + " C" + embeddingSize + " V" + vocabSize + " T" + contextLength
                + (innerSize != 4 * embeddingSize ? " inner" + innerSize : "") + "]";
    }

}
