package dev.attune.finetune.peft.prompt;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.config.GptConfig;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.SoftPrompt;
import dev.attune.core.model.Step;
import dev.attune.finetune.peft.Adapter;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.AdapterTensors;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Prompt tuning: {@code P} learned embeddings [P, C] in front of every row's real tokens (the model places them
 * after any left padding and gives them positions 0..P-1). PEFT stores them as {@code prompt_embeddings [P, C]}.
 *
 * <pre>
 * forward:  x = [prompt ; wte[ids]] + wpe[0..]     (inside the model)
 * backward: d prompt = sum over the batch of dL/dx[0..P)
 * </pre>
 */
public final class PromptTuning implements Adapter, SoftPrompt {

    static final String KEY = "prompt_embeddings";

    private final PromptTuningConfig config;
    private final GptConfig model;
    private final AdapterTensors tensors;

    private PromptTuning(PromptTuningConfig config, GptConfig model, DataType dataType) {
        this.config = config;
        this.model = model;
        this.tensors = AdapterTensors.builder().dataType(dataType)
                .add(KEY, config.numVirtualTokens(), model.embeddingSize()).build();
    }

    static PromptTuning create(PromptTuningConfig config, GptConfig model, GptModel base, long seed, DataType type) {
        if (config.numVirtualTokens() >= model.contextLength()) {
            throw new IllegalArgumentException(config.numVirtualTokens() + " virtual tokens leave no room in the "
                    + "model's context of " + model.contextLength());
        }
        PromptTuning p = new PromptTuning(config, model, type);
        INDArray e = p.tensors.parameter(KEY);
        if (config.initText() != null && base != null) {
            List<Integer> ids = config.startIds();
            INDArray wte = base.parameter("wte.weight");
            for (int i = 0; i < ids.size(); i++) {
                if (ids.get(i) >= model.vocabSize()) {
                    throw new IllegalArgumentException("init text token " + ids.get(i) + " is outside the model's "
                            + "vocabulary of " + model.vocabSize());
                }
                e.getRow(i).assign(wte.getRow(ids.get(i)));
            }
        } else {
            SplittableRandom rng = new SplittableRandom(seed);
            double[] v = new double[(int) e.length()];
            for (int i = 0; i < v.length; i++) {
                v[i] = rng.nextGaussian(); // torch's nn.Embedding start, as PEFT's RANDOM
            }
            e.assign(Nd4j.createFromArray(v).reshape(e.shape()).castTo(type));
        }
        return p;
    }

    @Override
    public PromptTuningConfig config() {
        return config;
    }

    @Override
    public AdapterTensors tensors() {
        return tensors;
    }

    @Override
    public void attach(GptModel base) {
        checkShape(base);
        base.adapters().softPrompt(this);
    }

    @Override
    public void detach(GptModel base) {
        base.adapters().softPrompt(null);
    }

    private void checkShape(GptModel base) {
        if (base.config().embeddingSize() != model.embeddingSize()) {
            throw new IllegalArgumentException("this soft prompt has " + model.embeddingSize() + "-wide embeddings, "
                    + "the model " + base.config().embeddingSize());
        }
    }

    // ------------------------------------------------------------------------------------------- SoftPrompt

    @Override
    public int length() {
        return config.numVirtualTokens();
    }

    @Override
    public INDArray embeddings() {
        return tensors.parameter(KEY);
    }

    @Override
    public void backward(INDArray dEmbeddings, Step s) {
        if (s.accumulate()) {
            tensors.gradient(KEY).addi(dEmbeddings);
        } else {
            tensors.gradient(KEY).assign(dEmbeddings);
        }
    }

    // ------------------------------------------------------------------------------------------------ files

    /** The config with the model's dimensions, as PEFT writes it. */
    @Override
    public ObjectNode configJson() {
        ObjectNode o = config.toJson();
        o.put("token_dim", model.embeddingSize());
        o.put("num_layers", model.layers());
        o.put("num_attention_heads", model.heads());
        return o;
    }

    @Override
    public Map<String, INDArray> stateDict(GptModel base) {
        Map<String, INDArray> out = new LinkedHashMap<>();
        out.put(KEY, tensors.parameter(KEY));
        return out;
    }

    @Override
    public void load(SafeTensors file, GptModel base) throws IOException {
        checkShape(base);
        AdapterFiles.checkTensors(file, Map.of(KEY, new long[] {config.numVirtualTokens(), model.embeddingSize()}));
        file.readInto(KEY, tensors.parameter(KEY));
    }

    @Override
    public String toString() {
        return "prompt tuning, " + length() + " virtual tokens, " + tensors.size() + " weights";
    }
}
