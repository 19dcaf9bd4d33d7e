package dev.attune.finetune.peft;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.io.ModelFileException;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.train.AdamW;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.TrainableTensor;
import dev.attune.core.data.TokenWindows;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class AdapterWithBaseModulesTest {

    @TempDir
    Path dir;

    private static PeftModel lora(GptModel base) {
        return Peft.lora().rank(4).alpha(8).targets("c_attn", "c_fc").build().apply(base, 3);
    }

    @Test
    void theTensorsAreTheAdaptersThenTheModulesInTheModelsOrder() {
        GptModel base = Fixtures.trainingBase();
        PeftModel peft = lora(base);
        long adapter = peft.parameters().length();
        AdapterWithBaseModules t = AdapterWithBaseModules.of(peft, "ln_f", "ln_1");
        List<String> modules = t.tensors().stream().skip(peft.tensors().size()).map(TrainableTensor::name).toList();
        assertThat(modules).containsExactly("h.0.ln_1.weight", "h.0.ln_1.bias", "h.1.ln_1.weight", "h.1.ln_1.bias",
                "ln_f.weight", "ln_f.bias");
        assertThat(t.parameters().length()).isEqualTo(adapter + 6 * 32);
        assertThat(t.trainableParameters().trainable()).isEqualTo(adapter + 6 * 32);
        assertThat(t.parameters().get(org.nd4j.linalg.indexing.NDArrayIndex.interval(adapter, adapter + 32)))
                .isEqualTo(base.parameter("h.0.ln_1.weight").reshape(32));
    }

    /** The modules' gradients against central differences of the loss, at their largest entries. */
    @Test
    void moduleGradientsMatchFiniteDifferences() {
        GptModel base = Fixtures.trainingBase();
        AdapterWithBaseModules t = AdapterWithBaseModules.of(lora(base), "wte", "ln_f");
        TokenBatch batch = Fixtures.batch();
        t.forwardBackward(batch, 1, false, 0);
        INDArray g = t.gradients().dup();
        INDArray p = t.parameters();
        for (TrainableTensor tensor : t.tensors().subList(lora(Fixtures.trainingBase()).tensors().size(),
                t.tensors().size())) {
            List<Long> largest = new ArrayList<>();
            for (long i = tensor.offset(); i < tensor.end(); i++) {
                largest.add(i);
            }
            largest.sort(Comparator.comparingDouble(i -> -Math.abs(g.getDouble(i))));
            for (long i : largest.subList(0, 3)) {
                double x = p.getDouble(i);
                double h = 1e-2;
                p.putScalar(i, x + h);
                double plus = t.loss(batch);
                p.putScalar(i, x - h);
                double minus = t.loss(batch);
                p.putScalar(i, x);
                double numeric = (plus - minus) / (2 * h);
                assertThat(g.getDouble(i)).as(tensor.name() + " at " + (i - tensor.offset()))
                        .isCloseTo(numeric, org.assertj.core.data.Offset.offset(2e-3 + 0.03 * Math.abs(numeric)));
            }
        }
    }

    @Test
    void savesAsPeftsModulesToSaveAndLoadsBackOntoAFreshBase() throws IOException {
        GptModel base = Fixtures.trainingBase();
        AdapterWithBaseModules t = AdapterWithBaseModules.of(lora(base), "wte", "ln_f");
        int[] tokens = IntStream.range(0, 400).map(i -> Fixtures.CYCLE[i % Fixtures.CYCLE.length]).toArray();
        double before = t.loss(TokenBatch.of(new int[][] {java.util.Arrays.copyOf(tokens, 14)},
                new int[][] {java.util.Arrays.copyOfRange(tokens, 1, 15)}));
        LmTraining.builder().trainable(t).data(TokenWindows.of(tokens)).batchSize(4).contextLength(14)
                .learningRate(1e-2).optimizer(AdamW.builder().weightDecay(0).build())
                .maxSteps(20).seed(1).progress(false).build().run();
        TokenBatch batch = TokenBatch.of(new int[][] {java.util.Arrays.copyOf(tokens, 14)},
                new int[][] {java.util.Arrays.copyOfRange(tokens, 1, 15)});
        double after = t.loss(batch);
        assertThat(after).isLessThan(before / 2);
        INDArray trained = base.logits(batch);
        assertThat(base.parameter("wte.weight")).isNotEqualTo(Fixtures.trainingBase().parameter("wte.weight"));

        t.save(dir);
        JsonNode config = new ObjectMapper().readTree(dir.resolve(AdapterFiles.CONFIG_FILE).toFile());
        // PEFT copies each module to save, so the tied output layer is listed and written beside the embedding
        assertThat(config.get("modules_to_save").toString()).isEqualTo("[\"wte\",\"ln_f\",\"lm_head\"]");
        try (SafeTensors f = SafeTensors.open(dir.resolve(AdapterFiles.WEIGHTS_FILE))) {
            assertThat(f.names()).contains("base_model.model.transformer.wte.weight",
                    "base_model.model.transformer.ln_f.weight", "base_model.model.transformer.ln_f.bias",
                    "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight");
            assertThat(f.read("base_model.model.lm_head.weight"))
                    .isEqualTo(f.read("base_model.model.transformer.wte.weight"));
        }

        GptModel fresh = Fixtures.trainingBase();
        PeftModel loaded = PeftModel.load(fresh, dir);
        assertThat(Fixtures.maxAbsDiff(loaded.model().logits(batch), trained)).isLessThan(1e-5);

        AdapterWithBaseModules resumed = AdapterWithBaseModules.of(lora(Fixtures.trainingBase()), "wte", "ln_f");
        resumed.load(dir);
        assertThat(resumed.loss(batch)).isCloseTo(after, org.assertj.core.data.Offset.offset(1e-4));

        // an output layer trained apart from the embedding cannot live in Attune's tied model
        Path apart = dir.resolve("apart");
        java.nio.file.Files.createDirectories(apart);
        java.nio.file.Files.copy(dir.resolve(AdapterFiles.CONFIG_FILE), apart.resolve(AdapterFiles.CONFIG_FILE));
        try (SafeTensors f = SafeTensors.open(dir.resolve(AdapterFiles.WEIGHTS_FILE))) {
            var writer = SafeTensors.writer();
            for (String name : f.names()) {
                INDArray v = f.read(name);
                writer.add(name, name.equals("base_model.model.lm_head.weight") ? v.mul(2) : v);
            }
            writer.write(apart.resolve(AdapterFiles.WEIGHTS_FILE));
        }
        assertThatThrownBy(() -> PeftModel.load(Fixtures.trainingBase(), apart))
                .isInstanceOf(ModelFileException.class).hasMessageContaining("lm_head.weight differs from the saved wte");

        PeftModel other = lora(Fixtures.trainingBase());
        assertThatThrownBy(() -> other.loadAdapter("second", dir)).isInstanceOf(ModelFileException.class)
                .hasMessageContaining("base modules").hasMessageContaining("PeftModel.load");
    }

    @Test
    void refusesModulesItCannotTrainAndPromptLearning() {
        assertThatThrownBy(() -> AdapterWithBaseModules.of(lora(Fixtures.trainingBase()), "c_attn"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("c_attn")
                .hasMessageContaining("[ln_1, ln_2, ln_f, wte]");
        assertThatThrownBy(() -> AdapterWithBaseModules.of(lora(Fixtures.trainingBase())))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one");
        PeftModel prompt = Peft.promptTuning().numVirtualTokens(2).build().apply(Fixtures.trainingBase(), 1);
        assertThatThrownBy(() -> AdapterWithBaseModules.of(prompt, "ln_f"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PROMPT_TUNING");
    }
}
