package dev.attune.finetune.peft.bottleneck;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.config.GptConfig;
import dev.attune.core.model.Branch;
import dev.attune.finetune.peft.AdapterConfig;
import dev.attune.finetune.peft.ConfigJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Bottleneck adapters (Houlsby et al. 2019; Pfeiffer et al. 2020), which PEFT lacks: a small residual MLP
 * {@code y + up(act(down(y)))} on a block's branch output, before it joins the residual stream.
 *
 * <p>Saved in PEFT's directory layout with {@code "peft_type": "ATTUNE_BOTTLENECK"}, a type neither PEFT nor
 * AdapterHub uses, so neither mistakes the file for one of theirs (and Attune refuses theirs by type). The config
 * keys: {@code variant} ({@code houlsby}: after attention and after the MLP; {@code pfeiffer}: after the MLP),
 * {@code reduction_factor} (bottleneck width = n_embd / factor), {@code non_linearity}
 * ({@code relu|gelu_new|tanh|swish}), {@code layers_to_transform}. Tensor keys:
 * {@code transformer.h.{i}.{attn|mlp}.adapter.{down|up}.{weight|bias}}, weights as {@code [in, out]}
 * ({@code y = x W + b}, GPT-2's Conv1D layout).
 *
 * @param variant         where the adapters sit
 * @param reductionFactor n_embd divided by the bottleneck width
 * @param nonLinearity    the activation between down and up
 * @param layers          the layers adapted, empty for all
 */
public record BottleneckConfig(Variant variant, int reductionFactor, NonLinearity nonLinearity, List<Integer> layers)
        implements AdapterConfig {

    public static final String PEFT_TYPE = "ATTUNE_BOTTLENECK";

    /** Where the adapters sit. */
    public enum Variant {
        /** After the attention branch and after the MLP branch of every block. */
        HOULSBY(Branch.ATTENTION, Branch.MLP),
        /** After the MLP branch only. */
        PFEIFFER(Branch.MLP);

        private final List<Branch> branches;

        Variant(Branch... branches) {
            this.branches = List.of(branches);
        }

        public List<Branch> branches() {
            return branches;
        }
    }

    /** The activation between the down and up projections. */
    public enum NonLinearity {
        RELU("relu"), GELU_NEW("gelu_new"), TANH("tanh"), SWISH("swish");

        private final String json;

        NonLinearity(String json) {
            this.json = json;
        }

        public String json() {
            return json;
        }

        static NonLinearity fromJson(String s) {
            for (NonLinearity n : values()) {
                if (n.json.equals(s)) {
                    return n;
                }
            }
            throw new IllegalArgumentException("non_linearity must be relu, gelu_new, tanh or swish, got \"" + s + "\"");
        }
    }

    public BottleneckConfig {
        layers = List.copyOf(layers);
    }

    public static Builder builder() {
        return new Builder();
    }

    @Override
    public String peftType() {
        return PEFT_TYPE;
    }

    /** The bottleneck width for a model of this shape. */
    public int width(GptConfig model) {
        int m = model.embeddingSize() / reductionFactor;
        if (m < 1) {
            throw new IllegalArgumentException("reduction factor " + reductionFactor + " leaves no width of n_embd "
                    + model.embeddingSize());
        }
        return m;
    }

    @Override
    public Bottleneck create(GptConfig model, long seed) {
        return Bottleneck.create(this, model, seed, org.nd4j.linalg.api.buffer.DataType.FLOAT);
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("peft_type", PEFT_TYPE);
        o.put("task_type", "CAUSAL_LM");
        o.put("variant", variant.name().toLowerCase(Locale.ROOT));
        o.put("reduction_factor", reductionFactor);
        o.put("non_linearity", nonLinearity.json());
        ConfigJson.putLayers(o, layers);
        return o;
    }

    public static BottleneckConfig fromJson(JsonNode json) {
        Builder b = builder();
        String variant = json.path("variant").asText("houlsby");
        try {
            b.variant(Variant.valueOf(variant.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("variant must be houlsby or pfeiffer, got \"" + variant + "\"");
        }
        b.reductionFactor(json.path("reduction_factor").asInt(16));
        b.nonLinearity(NonLinearity.fromJson(json.path("non_linearity").asText("relu")));
        int[] layers = ConfigJson.layers(json);
        if (layers != null) {
            b.layers(layers);
        }
        return b.build();
    }

    /** Fluent builder; Houlsby, reduction factor 16, ReLU. */
    public static final class Builder {
        private Variant variant = Variant.HOULSBY;
        private int reductionFactor = 16;
        private NonLinearity nonLinearity = NonLinearity.RELU;
        private List<Integer> layers = List.of();

        private Builder() {
        }

        public Builder variant(Variant v) { this.variant = v; return this; }
        public Builder reductionFactor(int f) { this.reductionFactor = f; return this; }
        public Builder nonLinearity(NonLinearity n) { this.nonLinearity = n; return this; }
        public Builder layers(int... indices) { this.layers = ConfigJson.indices(indices); return this; }

        public BottleneckConfig build() {
            List<String> problems = new ArrayList<>();
            if (variant == null) {
                problems.add("variant must be HOULSBY or PFEIFFER");
            }
            if (reductionFactor < 1) {
                problems.add("reduction factor must be at least 1, got " + reductionFactor);
            }
            if (nonLinearity == null) {
                problems.add("non-linearity is missing");
            }
            ConfigJson.checkLayers(layers, problems);
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("Invalid bottleneck adapter config: " + String.join("; ", problems));
            }
            return new BottleneckConfig(variant, reductionFactor, nonLinearity, layers);
        }
    }
}
