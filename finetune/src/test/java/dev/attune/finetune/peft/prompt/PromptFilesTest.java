package dev.attune.finetune.peft.prompt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.finetune.peft.Adapter;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.Fixtures;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.TestSteps;
import dev.attune.finetune.peft.prefix.PrefixTuning;
import dev.attune.finetune.peft.prefix.PrefixTuningConfig;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Prompt and prefix tuning files: PEFT's in, the same out; the prefix's per-layer key/value layout. */
class PromptFilesTest {

    @TempDir
    Path dir;

    private static Adapter read(String name, GptModel base) throws IOException {
        Adapter a = AdapterFiles.readConfig(Fixtures.adapter(name)).create(base, 0);
        try (SafeTensors f = AdapterFiles.openWeights(Fixtures.adapter(name))) {
            a.load(f, base);
        }
        return a;
    }

    @Test
    void peftsPromptAndPrefixFilesRoundTrip() throws IOException {
        for (String name : new String[] {"prompt", "prefix"}) {
            GptModel base = Fixtures.base();
            Adapter a = read(name, base);
            Path out = dir.resolve(name);
            AdapterFiles.write(out, a, base);
            try (SafeTensors peft = AdapterFiles.openWeights(Fixtures.adapter(name));
                 SafeTensors ours = AdapterFiles.openWeights(out)) {
                assertThat(ours.names()).containsExactly("prompt_embeddings");
                assertThat(ours.info("prompt_embeddings").shape()).isEqualTo(peft.info("prompt_embeddings").shape());
                assertThat(Fixtures.maxAbsDiff(ours.read("prompt_embeddings"), peft.read("prompt_embeddings"))).isZero();
            }
            assertThat(AdapterFiles.readConfig(out)).isEqualTo(AdapterFiles.readConfig(Fixtures.adapter(name)));
            var json = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve(AdapterFiles.CONFIG_FILE).toFile());
            assertThat(json.get("token_dim").asInt()).isEqualTo(32);
            assertThat(json.get("num_layers").asInt()).isEqualTo(2);
        }
    }

    @Test
    void prefixKeysAndValuesArePeftsColumnsPerLayer() throws IOException {
        GptModel base = Fixtures.base();
        PrefixTuning prefix = (PrefixTuning) read("prefix", base);
        INDArray e;
        try (SafeTensors f = AdapterFiles.openWeights(Fixtures.adapter("prefix"))) {
            e = f.read("prompt_embeddings"); // [3, 2 * 2 * 32]: k0 v0 k1 v1
        }
        for (int l = 0; l < 2; l++) {
            assertThat(prefix.keys(l)).isEqualTo(e.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(64L * l, 64L * l + 32)));
            assertThat(prefix.values(l)).isEqualTo(e.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                    org.nd4j.linalg.indexing.NDArrayIndex.interval(64L * l + 32, 64L * l + 64)));
        }
        // gradients land in the same columns
        INDArray dk = TestSteps.random(1, 1, 3, 32).castTo(e.dataType());
        INDArray dv = TestSteps.random(2, 1, 3, 32).castTo(e.dataType());
        prefix.backward(1, dk, dv, TestSteps.inference(1));
        INDArray g = prefix.tensors().gradient("prompt_embeddings");
        assertThat(g.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(64, 96))).isEqualTo(dk);
        assertThat(g.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(96, 128))).isEqualTo(dv);
        assertThat(g.get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 64)).amaxNumber().doubleValue()).isZero();
    }

    @Test
    void textStartCopiesTheTextsEmbeddingsRepeatedAsPeftDoes() {
        GptModel base = Fixtures.base();
        // ids below the tiny vocabulary of 100: "!" = 0, "#" = 2, ...
        PromptTuningConfig config = Peft.promptTuning().numVirtualTokens(5).initText("!#", Tokenizer.gpt2()).build();
        assertThat(config.initTokenIds()).containsExactly(0, 2);
        PromptTuning p = config.create(base, 0);
        int[] expected = {0, 2, 0, 2, 0};
        for (int i = 0; i < 5; i++) {
            assertThat(p.embeddings().getRow(i)).isEqualTo(base.parameter("wte.weight").getRow(expected[i]));
        }
        PromptTuning random = Peft.promptTuning().numVirtualTokens(5).build().create(base, 0);
        assertThat(random.embeddings().stdNumber().doubleValue()).isBetween(0.7, 1.3);
        assertThatThrownBy(() -> Peft.promptTuning().numVirtualTokens(32).build().create(base, 0))
                .hasMessageContaining("leave no room");
        assertThatThrownBy(() -> Peft.promptTuning().numVirtualTokens(0).build()).hasMessageContaining("at least 1");
        assertThat(PromptTuningConfig.fromJson(config.toJson()).initText()).isEqualTo("!#");
        assertThat(PrefixTuningConfig.fromJson(Peft.prefixTuning().numVirtualTokens(4).build().toJson()))
                .isEqualTo(Peft.prefixTuning().numVirtualTokens(4).build());
    }
}
