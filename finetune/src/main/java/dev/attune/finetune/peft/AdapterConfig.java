package dev.attune.finetune.peft;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;

/**
 * The options of one parameter-efficient method, immutable, as stored in {@code adapter_config.json}
 * (PEFT's schema for PEFT's methods). Each method has its own record with a fluent builder that validates in
 * {@code build()}; {@link Peft} is the entry point.
 */
public interface AdapterConfig {

    /** The {@code peft_type} written to and expected in {@code adapter_config.json}, e.g. {@code LORA}. */
    String peftType();

    /** The {@code adapter_config.json} object. */
    ObjectNode toJson();

    /**
     * A new adapter for a model of this shape, initialised as the method prescribes (for LoRA: A kaiming-uniform,
     * B zero, so the model starts unchanged). The same seed gives the same weights. Misfits (an unknown target
     * module, a rank larger than a projection) are reported here, with the valid choices.
     */
    Adapter create(GptConfig model, long seed);

    /**
     * A new adapter for {@code base}; methods that initialise from the base's weights (prompt tuning from the
     * embeddings of a text) override this.
     */
    default Adapter create(GptModel base, long seed) {
        return create(base.config(), seed);
    }

    /** Freezes {@code model}'s weights and attaches a new adapter named {@code default} (seed 0). */
    default PeftModel apply(GptModel model) {
        return apply(model, 0);
    }

    /** Like {@link #apply(GptModel)}, with the seed of the adapter's initialisation. */
    default PeftModel apply(GptModel model, long seed) {
        return PeftModel.wrap(model, PeftModel.DEFAULT_ADAPTER, this, seed);
    }
}
