package dev.attune.finetune.tribuo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.finetune.heads.ToyTagging;
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
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.sequence.LabelSequenceEvaluation;
import org.tribuo.classification.sequence.LabelSequenceEvaluator;
import org.tribuo.classification.sgd.crf.CRFModel;
import org.tribuo.classification.sgd.crf.CRFTrainer;
import org.tribuo.math.optimisers.AdaGrad;
import org.tribuo.provenance.SimpleDataSourceProvenance;
import org.tribuo.sequence.MutableSequenceDataset;
import org.tribuo.sequence.SequenceExample;

class LmTaggerTrainerTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path base;
    static MutableSequenceDataset<Label> train;
    static MutableSequenceDataset<Label> test;
    static LmTaggerModel model;

    @BeforeAll
    static void trainOnce() throws IOException {
        BpeTokenizer tokenizer = ToyTagging.tokenizer();
        base = dir.resolve("base");
        new Pretrained(ToyTagging.model(tokenizer, 3), tokenizer).save(base);
        train = TaggedDatasets.read(jsonl(dir.resolve("train.jsonl"), ToyTagging.sentences(200, 11)));
        test = TaggedDatasets.read(jsonl(dir.resolve("test.jsonl"), ToyTagging.sentences(80, 12)));
        model = LmTaggerTrainer.builder(base).method(TuningMethod.FULL).learningRate(1e-2).steps(60)
                .batchSize(16).seed(5).build().train(train);
    }

    static Path jsonl(Path file, List<ToyTagging.Sentence> sentences) throws IOException {
        List<String> lines = new ArrayList<>();
        for (ToyTagging.Sentence s : sentences) {
            lines.add(JSON.writeValueAsString(Map.of("tokens", s.words(), "tags", s.tags())));
        }
        return Files.write(file, lines);
    }

    @Test
    void evaluatorsShowTheTaggerBeatingTheAllOutsideBaselineBesideTribuosCrf() {
        LabelSequenceEvaluation e = new LabelSequenceEvaluator().evaluate(model, test);
        long words = 0;
        long outside = 0;
        for (SequenceExample<Label> s : test) {
            for (Example<Label> w : s) {
                words++;
                outside += w.getOutput().getLabel().equals("O") ? 1 : 0;
            }
        }
        double majority = outside / (double) words;
        assertThat(majority).isBetween(0.6, 0.8);
        assertThat(e.accuracy()).as("word accuracy against all-O %.3f", majority).isGreaterThan(0.97);
        assertThat(e.f1(new Label("B-PER"))).isGreaterThan(0.95);
        EntityReport entities = model.entityReport(test);
        assertThat(entities.f1()).as("entity F1; all-O scores 0").isGreaterThan(0.95);
        assertThat(entities.actual()).isGreaterThan(50);

        // Tribuo's CRF trains on the very same dataset (the word features TaggedDatasets put there)
        CRFModel crf = new CRFTrainer(new AdaGrad(0.1, 0.1), 3, 1000, 1).train(train, Map.of());
        LabelSequenceEvaluation c = new LabelSequenceEvaluator().evaluate(crf, test);
        assertThat(c.accuracy()).isGreaterThan(majority);
        assertThat(EntityReport.of(test, crf.predict(test), EntityReport.Scheme.CONLL).f1()).isGreaterThan(0.5);
    }

    @Test
    void labelSequenceEvaluatorOnAHandCheckedCase() {
        // the trained tagger tags these words by what they are; two words carry a tag that contradicts that
        LabelFactory f = new LabelFactory();
        MutableSequenceDataset<Label> cases = new MutableSequenceDataset<>(new SimpleDataSourceProvenance("cases", f), f);
        cases.add(TaggedDatasets.sentence(List.of("Ada", "Lovelace", "visited", "Oslo"),
                List.of("B-PER", "I-PER", "O", "B-LOC")));
        cases.add(TaggedDatasets.sentence(List.of("Alan", "went", "to", "Paris"),
                List.of("B-PER", "O", "O", "O")));                     // Paris marked O: the tagger says B-LOC
        cases.add(TaggedDatasets.sentence(List.of("the", "Rome", "saw", "Grace"),
                List.of("B-LOC", "B-LOC", "O", "B-PER")));             // "the" marked B-LOC: the tagger says O
        List<List<Prediction<Label>>> p = model.predict(cases);
        assertThat(p.stream().map(s -> s.stream().map(x -> x.getOutput().getLabel()).toList()).toList())
                .containsExactly(List.of("B-PER", "I-PER", "O", "B-LOC"), List.of("B-PER", "O", "O", "B-LOC"),
                        List.of("O", "B-LOC", "O", "B-PER"));
        for (Prediction<Label> x : p.get(0)) {
            assertThat(x.getOutputScores()).containsOnlyKeys(ToyTagging.TAGS);
            assertThat(x.getOutputScores().values().stream().mapToDouble(Label::getScore).sum())
                    .isCloseTo(1.0, within(1e-5));
        }

        LabelSequenceEvaluation e = new LabelSequenceEvaluator().evaluate(model, cases);
        assertThat(e.accuracy()).isCloseTo(10 / 12.0, within(1e-12));
        Label loc = new Label("B-LOC");
        Label o = new Label("O");
        assertThat(e.tp(loc)).isEqualTo(2);          // Oslo, Rome
        assertThat(e.fp(loc)).isEqualTo(1);          // Paris
        assertThat(e.fn(loc)).isEqualTo(1);          // "the"
        assertThat(e.tp(o)).isEqualTo(4);            // visited, went, to, saw
        assertThat(e.fp(o)).isEqualTo(1);            // "the"
        assertThat(e.fn(o)).isEqualTo(1);            // Paris
        assertThat(e.confusion(loc, o)).isEqualTo(1); // predicted B-LOC, truly O
        assertThat(e.tp(new Label("B-PER"))).isEqualTo(3);
        assertThat(e.precision(loc)).isCloseTo(2 / 3.0, within(1e-12));

        // entities: truth PER, LOC | PER | LOC, LOC, PER = 6; predicted PER, LOC | PER, LOC | LOC, PER = 6, 5 right
        EntityReport r = model.entityReport(cases);
        assertThat(r.actual()).isEqualTo(6);
        assertThat(r.predicted()).isEqualTo(6);
        assertThat(r.correct()).isEqualTo(5);
        assertThat(r.f1()).isCloseTo(5 / 6.0, within(1e-12));
    }

    @Test
    void provenanceAndPredictionsSurviveSaveAndLoad() throws IOException {
        Path out = dir.resolve("tagger");
        model.save(out);
        LmTaggerModel loaded = LmTaggerModel.load(out);
        assertThat(loaded.getProvenance()).isEqualTo(model.getProvenance());
        var trainer = loaded.getProvenance().getTrainerProvenance().getConfiguredParameters();
        assertThat(trainer.get("learningRate").toString()).contains("0.01");
        assertThat(trainer.get("steps").toString()).contains("60");
        assertThat(trainer.get("seed").toString()).contains("5");
        assertThat(trainer.get("method").toString()).contains("full");
        assertThat(loaded.getProvenance().getInstanceProvenance().getMap().get(LmClassifierModel.BASE_SHA256).toString())
                .contains(Checkpoints.sha256(base));
        assertThat(loaded.getProvenance().getDatasetProvenance().getSourceProvenance().toString())
                .contains("train.jsonl").contains("200 sentences").contains("sha256");
        assertThat(loaded.modelCard()).contains("token classification").contains(base.toAbsolutePath().toString())
                .contains("learningRate").contains("full");
        List<List<String>> sentences = List.of(List.of("Marie", "Curie", "went", "to", "Lima"), List.of("Ada"));
        assertThat(tags(loaded.predictWords(sentences))).isEqualTo(tags(model.predictWords(sentences)));
        assertThat(loaded.tagger().logits(sentences, 2)).isDeepEqualTo(model.tagger().logits(sentences, 2));
    }

    @Test
    void loraTaggerRecordsItsAdapterAndRoundTrips() throws IOException {
        LmTaggerModel lora = LmTaggerTrainer.builder(base).peft(Peft.lora().rank(4).alpha(8).targets("c_attn").build())
                .learningRate(1e-2).steps(40).batchSize(16).seed(6).build().train(train);
        assertThat(new LabelSequenceEvaluator().evaluate(lora, test).accuracy()).isGreaterThan(0.85);
        String config = lora.getProvenance().getTrainerProvenance().getConfiguredParameters().get("adapterConfig")
                .toString();
        assertThat(config).contains("LORA").contains("\"r\":4");
        Path out = dir.resolve("lora-tagger");
        lora.save(out);
        assertThat(out.resolve("adapter/adapter_config.json")).exists();
        assertThat(out.resolve("model")).doesNotExist();
        LmTaggerModel loaded = LmTaggerModel.load(out);
        assertThat(loaded.method()).isEqualTo(TuningMethod.PEFT);
        assertThat(loaded.getProvenance()).isEqualTo(lora.getProvenance());
        List<List<String>> sentences = List.of(List.of("Grace", "Hopper", "saw", "Cairo"));
        assertThat(loaded.tagger().logits(sentences, 1)).isDeepEqualTo(lora.tagger().logits(sentences, 1));
    }

    private static List<List<String>> tags(List<List<Prediction<Label>>> p) {
        return p.stream().map(s -> s.stream().map(x -> x.getOutput().getLabel()).toList()).toList();
    }

    @Test
    void unseenTagsAndBadLinesAreClearErrors() throws IOException {
        MutableSequenceDataset<Label> unseen = new MutableSequenceDataset<>(
                new SimpleDataSourceProvenance("x", new LabelFactory()), new LabelFactory());
        unseen.add(TaggedDatasets.sentence(List.of("Ada", "met", "Acme"), List.of("B-PER", "O", "B-ORG")));
        assertThatThrownBy(() -> new LabelSequenceEvaluator().evaluate(model, unseen))
                .hasMessageContaining("sentence 1, token 3").hasMessageContaining("'B-ORG', unseen in training");

        assertThatThrownBy(() -> LmTaggerTrainer.builder(base).method(TuningMethod.PEFT))
                .hasMessageContaining("peft(config)");
        assertThatThrownBy(() -> LmTaggerTrainer.builder(base).peft(Peft.ia3().build()).method(TuningMethod.HEAD)
                .build()).hasMessageContaining("only used with method peft, not head");
        assertThatThrownBy(() -> LmTaggerTrainer.builder(base).headDropout(1.0).build())
                .hasMessageContaining("headDropout");

        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, "{\"tokens\": [\"Ada\"], \"tags\": [\"B-PER\"]}\n{\"tokens\": [], \"tags\": []}\n");
        assertThatThrownBy(() -> TaggedDatasets.read(bad)).hasMessageContaining("bad.jsonl, line 2")
                .hasMessageContaining("\"tokens\" is empty");
        Files.writeString(bad, "\n{\"tokens\": [\"Ada\", \"met\"]}\n");
        assertThatThrownBy(() -> TaggedDatasets.read(bad)).hasMessageContaining("bad.jsonl, line 2")
                .hasMessageContaining("missing field \"tags\"");
        Files.writeString(bad, "{\"tokens\": [\"Ada\", \"met\"], \"tags\": [\"B-PER\"]}\n");
        assertThatThrownBy(() -> TaggedDatasets.read(bad)).hasMessageContaining("line 1")
                .hasMessageContaining("2 \"tokens\" but 1 \"tags\"");
        Files.writeString(bad, "{\"tokens\": [\"Ada\", 3], \"tags\": [\"B-PER\", \"O\"]}\n");
        assertThatThrownBy(() -> TaggedDatasets.read(bad)).hasMessageContaining("\"tokens\"[1] must be a non-empty string");
        Files.writeString(bad, "{\"tokens\": [\"New York\"], \"tags\": [\"B-LOC\"]}\n");
        assertThatThrownBy(() -> TaggedDatasets.read(bad)).hasMessageContaining("whitespace");
        assertThatThrownBy(() -> model.predict(List.of(new SequenceExample<>(List.of(
                new org.tribuo.impl.ArrayExample<>(LabelFactory.UNKNOWN_LABEL, new String[] {"w=ada"}, new double[] {1}))))))
                .hasMessageContaining("sentence 1").hasMessageContaining("metadata key \"word\"");
    }
}
