package dev.attune.finetune.tribuo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.finetune.heads.ToyTask;
import dev.attune.finetune.peft.AdapterFiles;
import dev.attune.finetune.peft.Peft;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tribuo.Example;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.evaluation.LabelEvaluation;
import org.tribuo.classification.evaluation.LabelEvaluator;
import org.tribuo.classification.sgd.linear.LogisticRegressionTrainer;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;

class LmClassifierTrainerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path base;
    static MutableDataset<Label> train;
    static MutableDataset<Label> test;
    static LmClassifierModel model;

    @BeforeAll
    static void trainOnce() throws IOException {
        BpeTokenizer tokenizer = ToyTask.tokenizer();
        base = dir.resolve("base");
        new Pretrained(ToyTask.model(tokenizer, 3), tokenizer).save(base);
        train = TextDatasets.read(jsonl(dir.resolve("train.jsonl"), ToyTask.examples(240, 11)));
        test = TextDatasets.read(jsonl(dir.resolve("test.jsonl"), ToyTask.examples(120, 12)));
        model = LmClassifierTrainer.builder(base).method(TuningMethod.FULL).learningRate(1e-2)
                .steps(150).batchSize(16).seed(5).build().train(train);
    }

    static Path jsonl(Path file, List<ToyTask.Example> examples) throws IOException {
        List<String> lines = new ArrayList<>();
        for (ToyTask.Example e : examples) {
            lines.add(JSON.writeValueAsString(Map.of("text", e.text(), "label", e.label())));
        }
        return Files.write(file, lines);
    }

    @Test
    void labelEvaluatorShowsTheFineTunedModelBeatingChanceAndTheMajority() {
        LabelEvaluation e = new LabelEvaluator().evaluate(model, test);
        Map<String, Long> counts = new java.util.HashMap<>();
        test.forEach(x -> counts.merge(x.getOutput().getLabel(), 1L, Long::sum));
        double majority = counts.values().stream().mapToLong(Long::longValue).max().orElseThrow()
                / (double) test.size();
        assertThat(majority).isBetween(0.4, 0.6);
        assertThat(e.accuracy()).as("accuracy against majority %.2f, chance 0.33", majority).isGreaterThan(0.9);
        assertThat(e.macroAveragedF1()).isGreaterThan(0.85);

        // Tribuo's own baseline trains on the very same dataset (bag-of-words features)
        var baseline = new LogisticRegressionTrainer().train(train);
        assertThat(new LabelEvaluator().evaluate(baseline, test).accuracy()).isGreaterThan(majority);
    }

    @Test
    void confusionMatrixOfAHandCheckedCase() {
        // the sentiment word decides the prediction; two examples carry a label that contradicts their word
        List<Example<Label>> cases = List.of(
                TextDatasets.example("the film was good", new Label("pos")),
                TextDatasets.example("awful plot", new Label("neg")),
                TextDatasets.example("the story was okay", new Label("neu")),
                TextDatasets.example("a great movie", new Label("neg")),     // predicted pos
                TextDatasets.example("boring ending", new Label("pos")));    // predicted neg
        MutableDataset<Label> data = new MutableDataset<>(cases, new SimpleDataSourceProvenance("hand", new LabelFactory()),
                new LabelFactory());
        LabelEvaluation e = new LabelEvaluator().evaluate(model, data);
        Label pos = new Label("pos");
        Label neg = new Label("neg");
        Label neu = new Label("neu");
        var cm = e.getConfusionMatrix();
        assertThat(cm.confusion(pos, pos)).isEqualTo(1);   // (predicted, true)
        assertThat(cm.confusion(neg, pos)).isEqualTo(1);
        assertThat(cm.confusion(neg, neg)).isEqualTo(1);
        assertThat(cm.confusion(pos, neg)).isEqualTo(1);
        assertThat(cm.confusion(neu, neu)).isEqualTo(1);
        assertThat(cm.confusion(neu, pos) + cm.confusion(neu, neg) + cm.confusion(pos, neu) + cm.confusion(neg, neu))
                .isZero();
        assertThat(e.accuracy()).isCloseTo(0.6, within(1e-12));
        // pos: precision 1/2, recall 1/2; neg the same; neu 1 and 1 -> macro F1 (0.5 + 0.5 + 1) / 3
        assertThat(e.macroAveragedF1()).isCloseTo(2.0 / 3, within(1e-12));
    }

    @Test
    void predictionsScoreEveryLabel() {
        List<Prediction<Label>> p = model.predictTexts(List.of("a superb story", "poor actors"));
        assertThat(p.get(0).getOutput().getLabel()).isEqualTo("pos");
        assertThat(p.get(1).getOutput().getLabel()).isEqualTo("neg");
        assertThat(p.get(0).getOutputScores()).containsOnlyKeys("pos", "neg", "neu");
        double sum = p.get(0).getOutputScores().values().stream().mapToDouble(Label::getScore).sum();
        assertThat(sum).isCloseTo(1, within(1e-5));
        assertThat(p.get(0).hasProbabilities()).isTrue();
    }

    @Test
    void provenanceSurvivesSaveAndLoadAndPrintsAModelCard() throws IOException {
        Path saved = dir.resolve("classifier");
        model.save(saved);
        LmClassifierModel loaded = LmClassifierModel.load(saved);
        assertThat(loaded.getProvenance()).isEqualTo(model.getProvenance());
        String hash = Checkpoints.sha256(base);
        assertThat(loaded.getProvenance().getInstanceProvenance().toString())
                .contains(hash);
        assertThat(loaded.getProvenance().getDatasetProvenance().getSourceProvenance().toString())
                .contains("train.jsonl").contains("240 examples");
        var texts = List.of("the film was good", "awful plot", "okay");
        List<Prediction<Label>> a = model.predictTexts(texts);
        List<Prediction<Label>> b = loaded.predictTexts(texts);
        for (int i = 0; i < texts.size(); i++) {
            assertThat(b.get(i).getOutput().getLabel()).isEqualTo(a.get(i).getOutput().getLabel());
            assertThat(b.get(i).getOutput().getScore()).isCloseTo(a.get(i).getOutput().getScore(), within(1e-6));
        }
        String card = loaded.modelCard();
        assertThat(card).contains(hash).contains("fine-tuning method: full").contains("learningRate")
                .contains("0.01").contains("steps").contains("150").contains("seed").contains("train.jsonl");
    }

    @Test
    void aHeadOnlyClassifierRefusesAChangedBase() throws IOException {
        Path copy = dir.resolve("base-copy");
        Files.createDirectories(copy);
        try (var files = Files.list(base)) {
            for (Path f : files.toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        LmClassifierModel probe = LmClassifierTrainer.builder(copy).method(TuningMethod.HEAD)
                .learningRate(1e-2).steps(5).batchSize(8).build().train(train);
        Path saved = dir.resolve("probe");
        probe.save(saved);
        assertThat(Files.exists(saved.resolve("model"))).isFalse();
        assertThat(LmClassifierModel.load(saved).predictTexts(List.of("good")).get(0).getOutput().getLabel())
                .isEqualTo(probe.predictTexts(List.of("good")).get(0).getOutput().getLabel());
        Files.writeString(copy.resolve("config.json"), Files.readString(copy.resolve("config.json")) + " ");
        assertThatThrownBy(() -> LmClassifierModel.load(saved)).hasMessageContaining("has changed since training");
    }

    @Test
    void aLoraClassifierBeatsTheMajoritySavesItsHeadWithTheAdapterAndReloads() throws IOException {
        LmClassifierModel lora = LmClassifierTrainer.builder(base)
                .peft(Peft.lora().rank(4).alpha(16).targets("c_attn", "c_fc").build())
                .learningRate(2e-2).steps(240).batchSize(16).seed(5).build().train(train);
        // 120 steps left accuracy between 0.70 and 0.93 depending on the seed (6 seeds, two builds): too close to the
        // bar for one seed to be a fair test; 240 steps gave 0.82 to 0.90 over the same seeds.
        assertThat(lora.method()).isEqualTo(TuningMethod.PEFT);
        LabelEvaluation e = new LabelEvaluator().evaluate(lora, test);
        assertThat(e.accuracy()).as("majority 0.5, chance 0.33").isGreaterThan(0.8);
        assertThat(lora.getProvenance().getTrainerProvenance().toString()).contains("adapterConfig")
                .contains("LORA");

        Path saved = dir.resolve("lora-classifier");
        lora.save(saved);
        Path adapter = saved.resolve(LmClassifierModel.ADAPTER_DIRECTORY);
        assertThat(Files.exists(saved.resolve("score.safetensors"))).as("the head is in the adapter").isFalse();
        try (var weights = AdapterFiles.openWeights(adapter)) {
            assertThat(weights.names()).contains("base_model.model.score.weight",
                    "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight");
        }
        assertThat(JSON.readTree(adapter.resolve(AdapterFiles.CONFIG_FILE).toFile()).get("modules_to_save").toString())
                .isEqualTo("[\"score\"]");
        LmClassifierModel loaded = LmClassifierModel.load(saved);
        List<String> texts = ToyTask.texts(ToyTask.examples(5, 13));
        double[][] before = lora.classifier().logits(texts, 2);
        double[][] after = loaded.classifier().logits(texts, 2);
        for (int i = 0; i < texts.size(); i++) {
            assertThat(after[i]).containsExactly(before[i]);
        }
        assertThat(loaded.modelCard()).contains("fine-tuning method: peft (LORA");
        assertThatThrownBy(() -> LmClassifierTrainer.builder(base).peft(Peft.lora().build())
                .method(TuningMethod.FULL).build())
                .hasMessageContaining("only used with method peft");
    }

    @Test
    void unseenLabelsEmptyTextsAndMissingTextFieldsAreClearErrors() throws IOException {
        MutableDataset<Label> unseen = new MutableDataset<>(List.of(TextDatasets.example("good", new Label("mixed"))),
                new SimpleDataSourceProvenance("unseen", new LabelFactory()), new LabelFactory());
        assertThatThrownBy(() -> new LabelEvaluator().evaluate(model, unseen))
                .hasMessageContaining("'mixed', unseen in training");

        Path empty = Files.writeString(dir.resolve("empty.jsonl"), "{\"text\":\"good\",\"label\":\"pos\"}\n"
                + "{\"text\":\"\",\"label\":\"neg\"}\n");
        assertThatThrownBy(() -> TextDatasets.read(empty)).hasMessageContaining("empty.jsonl, line 2")
                .hasMessageContaining("\"text\" is empty");
        Path missing = Files.writeString(dir.resolve("missing.jsonl"), "{\"review\":\"good\",\"label\":\"pos\"}\n");
        assertThatThrownBy(() -> TextDatasets.read(missing)).hasMessageContaining("missing.jsonl, line 1")
                .hasMessageContaining("missing field \"text\"");

        ArrayExample<Label> noText = new ArrayExample<>(new Label("pos"), new String[] {"word=good"}, new double[] {1});
        assertThatThrownBy(() -> model.predict(noText)).hasMessageContaining("carries no text")
                .hasMessageContaining("\"text\"");
        assertThatThrownBy(() -> model.predictTexts(List.of("good", ""))).hasMessageContaining("text 2")
                .hasMessageContaining("empty");
    }

    @Test
    void csvFilesReadLikeJsonLines() throws IOException {
        Path csv = Files.writeString(dir.resolve("t.csv"), "label,text\npos,\"good, really\"\nneg,\"the \"\"bad\"\" film\"\n");
        MutableDataset<Label> d = TextDatasets.read(csv);
        assertThat(d.size()).isEqualTo(2);
        assertThat(TextDatasets.text(d.getExample(1))).isEqualTo("the \"bad\" film");
        assertThat(d.getExample(0).getOutput().getLabel()).isEqualTo("pos");
    }
}
