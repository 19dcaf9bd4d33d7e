package dev.attune.finetune.heads;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.attune.core.model.GptModel;
import dev.attune.core.model.Output;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.Trainable;
import dev.attune.core.train.TrainingResult;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.PeftModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

class TokenClassifierTest {

    private static final BpeTokenizer TOKENIZER = ToyTagging.tokenizer();

    @TempDir
    Path dir;

    @Test
    void wordsAreJoinedWithSpacesAndEachWordsFirstSubTokenCarriesItsTag() {
        TokenClassifier tagger = TokenClassifier.create(ToyTagging.model(TOKENIZER, 1), TOKENIZER, ToyTagging.TAGS, 2);
        List<String> words = List.of("Ada", "Lovelacexyz", "visited", "Oslo", ".");
        TokenClassifier.Alignment a = tagger.align(words);
        assertThat(a.ids()).containsExactly(TOKENIZER.encode(String.join(" ", words)));
        assertThat(a.firstToken()[0]).isZero();
        assertThat(a.firstToken()).isSorted().hasSize(5);
        // the made-up word splits into several sub-tokens; only the first carries a tag
        int pieces = a.firstToken()[2] - a.firstToken()[1];
        assertThat(pieces).isGreaterThan(1);
        for (int w = 1; w < words.size(); w++) {
            int end = w + 1 < words.size() ? a.firstToken()[w + 1] : a.ids().length;
            int[] word = Arrays.copyOfRange(a.ids(), a.firstToken()[w], end);
            assertThat(word).containsExactly(TOKENIZER.encode(" " + words.get(w)));
        }
        ClassificationData data = tagger.data(List.of(words), List.of(List.of("B-PER", "I-PER", "O", "B-LOC", "O")),
                "toy");
        TokenBatch batch = data.evaluationBatches(1, 32, 1).get(0);
        int[] expected = new int[a.ids().length];
        Arrays.fill(expected, TokenBatch.IGNORE);
        expected[a.firstToken()[0]] = 1;
        expected[a.firstToken()[1]] = 2;
        expected[a.firstToken()[2]] = 0;
        expected[a.firstToken()[3]] = 3;
        expected[a.firstToken()[4]] = 0;
        assertThat(batch.targets()).containsExactly(expected);
    }

    @Test
    void gradientsOfHeadAndBaseMatchCentralDifferences() {
        GptModel model = ToyTagging.model(TOKENIZER, 1);
        TokenClassifier tagger = TokenClassifier.create(model, TOKENIZER, ToyTagging.TAGS, 0.0, 2);
        // a non-zero bias, so that its gradient is checked away from the initial point
        tagger.classifierBias().assign(org.nd4j.linalg.factory.Nd4j.createFromArray(0.1f, -0.2f, 0.3f, 0.05f));
        Trainable t = tagger.trainable(Trainable.of(model));
        List<ToyTagging.Sentence> s = ToyTagging.sentences(4, 5);
        TokenBatch batch = tagger.data(ToyTagging.words(s), ToyTagging.tags(s), "toy").evaluationBatches(4, 32, 1)
                .get(0);
        assertThat(batch.validTargets()).isGreaterThan(4);
        double divisor = 3;
        double loss = t.forwardBackward(batch, divisor, false, 0);
        assertThat(loss).isCloseTo(t.loss(batch), within(1e-4));
        INDArray g = t.gradients().dup();

        long w = offset(t, TokenClassifier.CLASSIFIER_WEIGHT);
        long b = offset(t, TokenClassifier.CLASSIFIER_BIAS);
        assertThat(b).isEqualTo(w + 4 * 32);
        assertThat(t.parameters().length()).isEqualTo(b + 4);
        long lnF = offset(t, "ln_f.weight");
        long wpe = offset(t, "wpe.weight");
        for (long i : new long[] {w, w + 7, w + 70, w + 127, b, b + 1, b + 3}) {
            assertThat(g.getDouble(i)).as("head element %d", i - w)
                    .isCloseTo(centralDifference(t, batch, i, 1e-3) / divisor, within(2e-4));
        }
        for (long i : new long[] {lnF, lnF + 9, wpe + 32 + 4}) {
            double fd = centralDifference(t, batch, i, 1e-2) / divisor;
            assertThat(Math.abs(fd)).isGreaterThan(1e-4);
            assertThat(g.getDouble(i)).as("base element %d", i).isCloseTo(fd, within(0.03 * Math.abs(fd) + 2e-4));
        }
        t.forwardBackward(batch, divisor, true, 0);
        assertThat(t.gradients().getDouble(b + 1)).isCloseTo(2 * g.getDouble(b + 1), within(1e-6));
    }

    @Test
    void headDropoutIsSeededAndOnlyInTrainingPasses() {
        GptModel model = ToyTagging.model(TOKENIZER, 1);
        TokenClassifier tagger = TokenClassifier.create(model, TOKENIZER, ToyTagging.TAGS, 0.5, 2);
        Trainable t = tagger.trainable(null);
        List<ToyTagging.Sentence> s = ToyTagging.sentences(4, 5);
        TokenBatch batch = tagger.data(ToyTagging.words(s), ToyTagging.tags(s), "toy").evaluationBatches(4, 32, 1)
                .get(0);
        double a = t.forwardBackward(batch, 1, false, 3);
        INDArray ga = t.gradients().dup();
        double again = t.forwardBackward(batch, 1, false, 3);
        double other = t.forwardBackward(batch, 1, false, 4);
        assertThat(again).isEqualTo(a);
        assertThat(t.forwardBackward(batch, 1, false, 3)).isEqualTo(a);
        assertThat(t.gradients().equalsWithEps(ga, 0)).isTrue();
        assertThat(other).isNotEqualTo(a);
        assertThat(t.loss(batch)).isNotEqualTo(a).isEqualTo(t.loss(batch));
    }

    private static long offset(Trainable t, String name) {
        return t.tensors().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow().offset();
    }

    private static double centralDifference(Trainable t, TokenBatch batch, long index, double eps) {
        INDArray p = t.parameters();
        double original = p.getDouble(index);
        p.putScalar(index, original + eps);
        double up = t.loss(batch);
        p.putScalar(index, original - eps);
        double down = t.loss(batch);
        p.putScalar(index, original);
        return (up - down) / (2 * eps);
    }

    @Test
    void fullFineTuningLowersTheLossAndBeatsTheAllOutsideBaseline() throws IOException {
        GptModel model = ToyTagging.model(TOKENIZER, 3);
        TokenClassifier tagger = TokenClassifier.create(model, TOKENIZER, ToyTagging.TAGS, 4);
        List<ToyTagging.Sentence> train = ToyTagging.sentences(200, 11);
        List<ToyTagging.Sentence> test = ToyTagging.sentences(80, 12);
        Trainable trainable = tagger.trainable(Trainable.of(model));
        ClassificationData data = tagger.data(ToyTagging.words(train), ToyTagging.tags(train), "toy train");
        TokenBatch probe = data.evaluationBatches(64, 32, 1).get(0);
        double before = trainable.loss(probe) / probe.validTargets();
        LmTraining.builder().trainable(trainable).data(data).batchSize(16).learningRate(1e-2).maxSteps(60).seed(5)
                .progress(false).build().run();
        double after = trainable.loss(probe) / probe.validTargets();
        assertThat(before).isGreaterThan(1.0);
        assertThat(after).as("mean loss per tagged word, before %.3f", before).isLessThan(0.1);

        double[] accuracy = accuracyAndAllOutside(tagger, test);
        assertThat(accuracy[1]).isBetween(0.6, 0.8);
        assertThat(accuracy[0]).as("held-out word accuracy against all-O %.3f", accuracy[1]).isGreaterThan(0.97);
    }

    @Test
    void loraTrainsTheAdapterAndTheHeadWithTheBaseFrozen() throws IOException {
        GptModel model = ToyTagging.model(TOKENIZER, 3);
        INDArray baseBefore = model.parameters().dup();
        TokenClassifier tagger = TokenClassifier.create(model, TOKENIZER, ToyTagging.TAGS, 4);
        PeftModel peft = Peft.lora().rank(4).alpha(8).targets("c_attn").build().apply(model, 1);
        Trainable trainable = tagger.trainable(peft);
        assertThat(trainable.tensors()).extracting(x -> x.name()).contains(TokenClassifier.CLASSIFIER_WEIGHT,
                TokenClassifier.CLASSIFIER_BIAS).anyMatch(n -> n.contains("lora_A"));
        List<ToyTagging.Sentence> train = ToyTagging.sentences(200, 11);
        ClassificationData data = tagger.data(ToyTagging.words(train), ToyTagging.tags(train), "toy train");
        TokenBatch probe = data.evaluationBatches(64, 32, 1).get(0);
        double before = trainable.loss(probe) / probe.validTargets();
        LmTraining.builder().trainable(trainable).data(data).batchSize(16).learningRate(1e-2).maxSteps(60).seed(5)
                .progress(false).saveModel(false).build().run();
        double after = trainable.loss(probe) / probe.validTargets();
        assertThat(after).as("before %.3f", before).isLessThan(before / 3);
        assertThat(model.parameters().equalsWithEps(baseBefore, 0)).as("base weights unchanged").isTrue();
        assertThat(accuracyAndAllOutside(tagger, ToyTagging.sentences(80, 12))[0]).isGreaterThan(0.9);

        // the adapter and the head saved, then loaded onto a fresh copy of the base, tag exactly alike
        Path saved = Files.createDirectory(dir.resolve("lora"));
        trainable.save(saved);
        // one adapter directory in PEFT's layout, the head in it as modules_to_save (TOKEN_CLS)
        assertThat(saved.resolve("adapter_config.json")).exists();
        try (var weights = dev.attune.finetune.peft.AdapterFiles.openWeights(saved)) {
            assertThat(weights.names()).contains("base_model.model.classifier.weight",
                    "base_model.model.classifier.bias");
        }
        assertThat(Files.readString(saved.resolve("adapter_config.json"))).contains("\"TOKEN_CLS\"");
        GptModel fresh = GptModel.zeros(model.config());
        fresh.parameters().assign(baseBefore);
        TokenClassifier loaded = TokenClassifier.create(fresh, TOKENIZER, ToyTagging.TAGS, 9);
        PeftModel freshPeft = Peft.lora().rank(4).alpha(8).targets("c_attn").build().apply(fresh, 2);
        loaded.trainable(freshPeft).load(saved);
        List<List<String>> words = ToyTagging.words(ToyTagging.sentences(10, 13));
        assertThat(loaded.logits(words, 4)).isDeepEqualTo(tagger.logits(words, 4));
    }

    @Test
    void adaLorasRankBudgetRunsWhenItTrainsBesideAHead() throws IOException {
        GptModel model = ToyTagging.model(TOKENIZER, 3);
        TokenClassifier tagger = TokenClassifier.create(model, TOKENIZER, ToyTagging.TAGS, 4);
        PeftModel peft = Peft.adaLora().initR(6).targetR(2).targets("c_attn").totalStep(12).schedule(2, 4, 1).build()
                .apply(model, 1);
        var adaLora = (dev.attune.finetune.peft.adalora.AdaLora) peft.adapter(peft.activeAdapter());
        assertThat(adaLora.totalRank()).isEqualTo(2 * 6);
        List<ToyTagging.Sentence> train = ToyTagging.sentences(64, 11);
        LmTraining.builder().trainable(tagger.trainable(peft))
                .data(tagger.data(ToyTagging.words(train), ToyTagging.tags(train), "toy train")).batchSize(8)
                .learningRate(1e-2).maxSteps(12).seed(5).progress(false).saveModel(false).build().run();
        // the budget schedule ran: two layers' c_attn at the target rank
        assertThat(adaLora.totalRank()).isEqualTo(2 * 2);
    }

    static double[] accuracyAndAllOutside(TokenClassifier tagger, List<ToyTagging.Sentence> test) {
        List<List<String>> predicted = tagger.predict(ToyTagging.words(test), 16);
        int right = 0;
        int outside = 0;
        int n = 0;
        for (int i = 0; i < test.size(); i++) {
            List<String> truth = test.get(i).tags();
            assertThat(predicted.get(i)).hasSameSizeAs(truth);
            for (int w = 0; w < truth.size(); w++) {
                right += truth.get(w).equals(predicted.get(i).get(w)) ? 1 : 0;
                outside += truth.get(w).equals("O") ? 1 : 0;
                n++;
            }
        }
        return new double[] {right / (double) n, outside / (double) n};
    }

    @Test
    void fullModelAndHeadSaveAndLoadToIdenticalOutputs() throws IOException {
        GptModel model = ToyTagging.model(TOKENIZER, 6);
        TokenClassifier tagger = TokenClassifier.create(model, TOKENIZER, ToyTagging.TAGS, 7);
        Trainable t = tagger.trainable(Trainable.of(model));
        t.parameters().addi(org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT,
                t.parameters().length()).subi(0.5).muli(0.05)); // every weight, head included, away from its start
        Path saved = Files.createDirectory(dir.resolve("full"));
        t.save(saved);
        assertThat(saved.resolve("classifier.safetensors")).exists();

        GptModel other = ToyTagging.model(TOKENIZER, 99);
        TokenClassifier loaded = TokenClassifier.create(other, TOKENIZER, ToyTagging.TAGS, 100);
        loaded.trainable(Trainable.of(other)).load(saved);
        List<List<String>> words = ToyTagging.words(ToyTagging.sentences(10, 13));
        assertThat(loaded.logits(words, 3)).isDeepEqualTo(tagger.logits(words, 3));

        // the head file alone holds transformers' names and shapes
        TokenClassifier headOnly = TokenClassifier.create(model, TOKENIZER, ToyTagging.TAGS, 1);
        headOnly.loadHead(saved.resolve("classifier.safetensors"));
        assertThat(headOnly.classifierWeight().equalsWithEps(tagger.classifierWeight(), 0)).isTrue();
        assertThat(headOnly.classifierBias().equalsWithEps(tagger.classifierBias(), 0)).isTrue();
    }

    @Test
    void batchedPredictionEqualsOneSentenceAtATimeAndReadsEachWordsFirstToken() {
        GptModel model = ToyTagging.model(TOKENIZER, 6);
        TokenClassifier tagger = TokenClassifier.create(model, TOKENIZER, ToyTagging.TAGS, 7);
        tagger.classifierBias().assign(org.nd4j.linalg.factory.Nd4j.createFromArray(0.1f, -0.2f, 0.3f, 0.05f));
        List<List<String>> words = ToyTagging.words(ToyTagging.sentences(9, 8));
        double[][][] batched = tagger.logits(words, 4);
        for (int i = 0; i < words.size(); i++) {
            assertThat(batched[i]).hasNumberOfRows(words.get(i).size());
            double[][] alone = tagger.logits(List.of(words.get(i)), 1)[0];
            for (int w = 0; w < alone.length; w++) {
                for (int j = 0; j < alone[w].length; j++) {
                    assertThat(batched[i][w][j]).isCloseTo(alone[w][j], within(1e-5));
                }
            }
        }
        TokenClassifier.Alignment a = tagger.align(words.get(0));
        INDArray h = model.forward(TokenBatch.of(new int[][] {a.ids()}, new int[][] {new int[a.ids().length]}),
                Output.HIDDEN).hidden();                                                     // [1, T, C]
        for (int w = 0; w < words.get(0).size(); w++) {
            INDArray state = h.get(NDArrayIndex.point(0), NDArrayIndex.point(a.firstToken()[w]), NDArrayIndex.all());
            for (int j = 0; j < 4; j++) {
                double expected = state.mul(tagger.classifierWeight().getRow(j)).sumNumber().doubleValue()
                        + tagger.classifierBias().getDouble(j);
                assertThat(batched[0][w][j]).isCloseTo(expected, within(1e-5));
            }
        }
    }

    @Test
    void badSentencesAndTagsAreClearErrors() {
        TokenClassifier tagger = TokenClassifier.create(ToyTagging.model(TOKENIZER, 6), TOKENIZER, ToyTagging.TAGS, 7);
        List<List<String>> two = List.of(List.of("Ada", "met"), List.of("Alan", "saw", "Oslo"));
        assertThatThrownBy(() -> tagger.data(two, List.of(List.of("B-PER", "O"), List.of("B-PER", "O", "B-MISC")),
                "train.jsonl")).hasMessageContaining("train.jsonl, sentence 2: token 3")
                .hasMessageContaining("unknown tag 'B-MISC'").hasMessageContaining(ToyTagging.TAGS.toString());
        assertThatThrownBy(() -> tagger.data(two, List.of(List.of("B-PER", "O"), List.of("B-PER", "O")),
                "train.jsonl")).hasMessageContaining("sentence 2: 3 tokens but 2 tags");
        assertThatThrownBy(() -> tagger.data(List.of(List.of()), List.of(List.of()), "train.jsonl"))
                .hasMessageContaining("sentence 1: no tokens");
        assertThatThrownBy(() -> tagger.predict(List.of(List.of("Ada"), List.of("New York")), 4))
                .hasMessageContaining("sentence 2: token 1").hasMessageContaining("whitespace");
        assertThatThrownBy(() -> tagger.predict(List.of(List.of("Ada", "")), 4))
                .hasMessageContaining("sentence 1: token 2 is empty");
        List<String> tooLong = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            tooLong.add("Lovelace");
        }
        assertThatThrownBy(() -> tagger.predict(List.of(tooLong), 4)).hasMessageContaining("sentence 1")
                .hasMessageContaining("context of 32");
    }
}
