package dev.attune.finetune.heads;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.io.SafeTensors;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.Trainable;
import dev.attune.finetune.peft.AdapterConfig;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.Fixtures;
import dev.attune.finetune.peft.ModulesToSave;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.PeftModel;
import dev.attune.finetune.peft.TestSteps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A sequence classifier trained with a PEFT method keeps its {@code score} head with the adapter, as PEFT's
 * {@code modules_to_save}: PEFT's own SEQ_CLS adapters (scripts/peft/make_fixtures.py, {@code seqcls_*}) load and
 * give PEFT's classifier logits, and what Attune writes ({@code attune_seqcls_*}, loaded by PEFT in
 * scripts/peft/check_attune_adapter.py) gives PEFT the same logits as Attune.
 *
 * <p>To regenerate the committed Attune adapters: run this test with {@code -Dattune.peft.export=DIR}, copy
 * {@code DIR/attune_seqcls_*} over {@code finetune/src/test/resources/peft/} and rerun the Python script.
 */
class PeftHeadTest {

    private static final List<String> LABELS = List.of("a", "b", "c");

    @TempDir
    Path dir;

    private static double[][] logits(SequenceClassifier clf) {
        return clf.logits(Fixtures.ids(), 2);
    }

    private static double maxDiff(double[][] ours, INDArray theirs) {
        return Fixtures.maxAbsDiff(Nd4j.create(ours).castTo(DataType.FLOAT), theirs.castTo(DataType.FLOAT));
    }

    @Test
    void peftsAdaptersWithAScoreHeadGivePeftsClassifierLogits() throws IOException {
        for (String name : new String[] {"seqcls_lora", "seqcls_prefix"}) {
            PeftModel peft = Peft.load(Fixtures.base(), Fixtures.adapter(name));
            ModulesToSave modules = peft.modulesToSave().orElseThrow();
            assertThat(modules.taskType()).isEqualTo("SEQ_CLS");
            assertThat(modules.modules()).as(name).containsExactly("score"); // "classifier" is listed, not saved
            assertThat(modules.tensor("score.weight").shape()).containsExactly(3, 32);
            SequenceClassifier clf = SequenceClassifier.fromAdapter(peft, Tokenizer.gpt2(), LABELS);
            assertThat(maxDiff(logits(clf), Fixtures.logits(name))).as(name).isLessThan(1e-4);
        }
    }

    /** A LoRA or prefix adapter with a head, every weight set (B and the head non-zero), as the committed ones. */
    private static Trainable make(GptModel base, AdapterConfig config, long seed) {
        PeftModel peft = config.apply(base, seed);
        INDArray p = peft.parameters();
        p.addi(TestSteps.random(seed, 0.2, p.shape()).castTo(p.dataType()));
        SequenceClassifier clf = SequenceClassifier.of(base, Tokenizer.gpt2(), LABELS,
                TestSteps.random(seed + 1, 0.5, 3, 32).castTo(DataType.FLOAT));
        return clf.trainable(peft);
    }

    private static Map<String, AdapterConfig> attuneAdapters() {
        return Map.of(
                "attune_seqcls_lora", Peft.lora().rank(2).alpha(4).targets("c_attn", "mlp.c_fc").build(),
                "attune_seqcls_prefix", Peft.prefixTuning().numVirtualTokens(2).build());
    }

    @Test
    void attuneSavesTheHeadAsPeftDoesAndPeftComputesTheSameLogits() throws IOException {
        String export = System.getProperty("attune.peft.export");
        for (Map.Entry<String, AdapterConfig> e : attuneAdapters().entrySet()) {
            Path out = dir.resolve(e.getKey());
            make(Fixtures.base(), e.getValue(), 3).save(Files.createDirectories(out));
            if (export != null) {
                Path to = Files.createDirectories(Path.of(export).resolve(e.getKey()));
                for (String f : new String[] {AdapterFiles.CONFIG_FILE, AdapterFiles.WEIGHTS_FILE}) {
                    Files.copy(out.resolve(f), to.resolve(f), StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        for (String name : attuneAdapters().keySet()) {
            Path out = dir.resolve(name);
            // PEFT's layout: the head beside the adapter's tensors, modules_to_save and the task in the config
            String key = name.endsWith("prefix") ? "base_model.score.weight" : "base_model.model.score.weight";
            JsonNode config = new ObjectMapper().readTree(out.resolve(AdapterFiles.CONFIG_FILE).toFile());
            assertThat(config.get("task_type").asText()).isEqualTo("SEQ_CLS");
            assertThat(config.get("modules_to_save").toString()).isEqualTo("[\"score\"]");
            Path committed = Fixtures.adapter(name);
            try (SafeTensors ours = AdapterFiles.openWeights(out); SafeTensors theirs = AdapterFiles.openWeights(committed)) {
                assertThat(ours.names()).contains(key).containsExactlyInAnyOrderElementsOf(theirs.names());
                for (String k : theirs.names()) {
                    assertThat(ours.read(k)).as(k).isEqualTo(theirs.read(k));
                }
            }
            assertThat(AdapterFiles.readConfig(out)).isEqualTo(AdapterFiles.readConfig(committed));
            INDArray peftLogits;
            try (SafeTensors f = SafeTensors.open(Fixtures.root().resolve(name + "_expected.safetensors"))) {
                peftLogits = f.read("logits");
            }
            SequenceClassifier loaded = SequenceClassifier.fromAdapter(Peft.load(Fixtures.base(), committed),
                    Tokenizer.gpt2(), LABELS);
            assertThat(maxDiff(logits(loaded), peftLogits)).as(name).isLessThan(1e-4);
            assertThat(Fixtures.maxAbsDiff(peftLogits, Nd4j.zeros(peftLogits.shape()))).isGreaterThan(0.1);
        }
    }

    @Test
    void loraAndHeadTrainTogetherSaveInOneAdapterDirectoryAndReloadExactly() throws IOException {
        BpeTokenizer tokenizer = ToyTask.tokenizer();
        GptModel model = ToyTask.model(tokenizer, 3);
        INDArray baseBefore = model.parameters().dup();
        PeftModel peft = Peft.lora().rank(4).alpha(8).targets("c_attn", "c_fc").build().apply(model, 1);
        SequenceClassifier clf = SequenceClassifier.create(model, tokenizer, ToyTask.LABELS, 4);
        Trainable trainable = clf.trainable(peft);
        assertThat(trainable.tensors().get(trainable.tensors().size() - 1).name()).isEqualTo("score.weight");
        List<ToyTask.Example> train = ToyTask.examples(120, 11);
        ClassificationData data = clf.data(ToyTask.texts(train), ToyTask.labels(train), "toy train");
        TokenBatch batch = data.evaluationBatches(32, 32, 1).get(0);
        double before = trainable.loss(batch);
        LmTraining.builder().trainable(trainable).data(data).batchSize(16).learningRate(1e-2).maxSteps(30).seed(5)
                .progress(false).build().run();
        assertThat(trainable.loss(batch)).isLessThan(0.8 * before);
        assertThat(model.parameters()).as("the base stays bit-identical").isEqualTo(baseBefore);

        Path out = dir.resolve("adapter");
        trainable.save(Files.createDirectories(out));
        List<String> texts = ToyTask.texts(ToyTask.examples(7, 12));
        double[][] expected = clf.logits(texts, 4);
        GptModel fresh = ToyTask.model(tokenizer, 3);
        SequenceClassifier again = SequenceClassifier.fromAdapter(Peft.load(fresh, out), tokenizer, ToyTask.LABELS);
        assertThat(maxDiff(again.logits(texts, 4), Nd4j.create(expected))).isEqualTo(0.0);

        // the trainable reads its own directory back (checkpoint resume): adapter and head
        PeftModel other = Peft.lora().rank(4).alpha(8).targets("c_attn", "c_fc").build().apply(ToyTask.model(tokenizer, 3), 9);
        SequenceClassifier otherClf = SequenceClassifier.create(other.model(), tokenizer, ToyTask.LABELS, 8);
        otherClf.trainable(other).load(out);
        assertThat(maxDiff(otherClf.logits(texts, 4), Nd4j.create(expected))).isEqualTo(0.0);
    }

    @Test
    void headsAndTheirFilesAreCheckedWithClearErrors() throws IOException {
        PeftModel plain = Peft.load(Fixtures.base(), Fixtures.adapter("lora"));
        assertThatThrownBy(() -> SequenceClassifier.fromAdapter(plain, Tokenizer.gpt2(), LABELS))
                .hasMessageContaining("without a task head");
        PeftModel peft = Peft.load(Fixtures.base(), Fixtures.adapter("seqcls_lora"));
        assertThatThrownBy(() -> SequenceClassifier.fromAdapter(peft, Tokenizer.gpt2(), List.of("x", "y")))
                .hasMessageContaining("score.weight has shape [3, 32], expected [2, 32]");
        assertThatThrownBy(() -> new ModulesToSave("SEQ_CLS", Map.of("lm_head.weight", Nd4j.zeros(2, 2))))
                .hasMessageContaining("part of the base language model");
        // a head tensor the config does not list is refused, naming it
        Path copy = Files.createDirectories(dir.resolve("unlisted"));
        Files.copy(Fixtures.adapter("seqcls_lora").resolve(AdapterFiles.WEIGHTS_FILE), copy.resolve(AdapterFiles.WEIGHTS_FILE));
        Files.writeString(copy.resolve(AdapterFiles.CONFIG_FILE), Files.readString(Fixtures.adapter("seqcls_lora")
                .resolve(AdapterFiles.CONFIG_FILE)).replace("\"score\"", "\"classifier2\""));
        assertThatThrownBy(() -> Peft.load(Fixtures.base(), copy))
                .hasMessageContaining("tensor base_model.model.score.weight is not the adapter's")
                .hasMessageContaining("[classifier, classifier2]");
    }
}
