package dev.attune.finetune.heads;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.attune.core.model.GptModel;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.Trainable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class SequenceClassifierTest {

    private static final BpeTokenizer TOKENIZER = ToyTask.tokenizer();

    @TempDir
    Path dir;

    @Test
    void gradientsOfHeadAndBaseMatchCentralDifferences() {
        GptModel model = ToyTask.model(TOKENIZER, 1);
        SequenceClassifier clf = SequenceClassifier.create(model, TOKENIZER, ToyTask.LABELS, 2);
        Trainable t = clf.trainable(Trainable.of(model));
        List<ToyTask.Example> ex = ToyTask.examples(6, 5);
        TokenBatch batch = clf.data(ToyTask.texts(ex), ToyTask.labels(ex), "toy").evaluationBatches(6, 32, 1).get(0);
        double divisor = 4;
        double loss = t.forwardBackward(batch, divisor, false, 0);
        assertThat(loss).isCloseTo(t.loss(batch), within(1e-4));
        INDArray g = t.gradients().dup();

        long head = t.tensors().get(t.tensors().size() - 1).offset();
        long lnF = t.tensors().stream().filter(x -> x.name().equals("ln_f.weight")).findFirst().orElseThrow().offset();
        long wte = t.tensors().stream().filter(x -> x.name().equals("wte.weight")).findFirst().orElseThrow().offset();
        long[] headIndices = {head, head + 5, head + 40, head + 95};
        long[] baseIndices = {lnF, lnF + 7, wte + 32 * batch.inputs()[0] + 3};
        for (long i : headIndices) {
            assertThat(g.getDouble(i)).as("score.weight element %d", i - head)
                    .isCloseTo(centralDifference(t, batch, i, 1e-3) / divisor, within(2e-4));
        }
        for (long i : baseIndices) {
            double fd = centralDifference(t, batch, i, 1e-2) / divisor;
            assertThat(Math.abs(fd)).isGreaterThan(1e-4);
            assertThat(g.getDouble(i)).as("base element %d", i).isCloseTo(fd, within(0.03 * Math.abs(fd) + 2e-4));
        }

        // accumulation adds the second pass's gradient to the first
        t.forwardBackward(batch, divisor, true, 0);
        assertThat(t.gradients().getDouble(head + 5)).isCloseTo(2 * g.getDouble(head + 5), within(1e-6));
        assertThat(t.gradients().getDouble(lnF)).isCloseTo(2 * g.getDouble(lnF), within(1e-5));
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
    void fullFineTuningBeatsChanceAndTheMajorityOnHeldOutTexts() throws IOException {
        GptModel model = ToyTask.model(TOKENIZER, 3);
        SequenceClassifier clf = SequenceClassifier.create(model, TOKENIZER, ToyTask.LABELS, 4);
        List<ToyTask.Example> train = ToyTask.examples(240, 11);
        List<ToyTask.Example> test = ToyTask.examples(120, 12);
        LmTraining.builder().trainable(clf.trainable(Trainable.of(model)))
                .data(clf.data(ToyTask.texts(train), ToyTask.labels(train), "toy train"))
                .batchSize(16).learningRate(1e-2).maxSteps(150).seed(5).progress(false).build().run();

        double accuracy = accuracy(clf, test);
        double majority = test.stream().filter(e -> e.label().equals("pos")).count() / (double) test.size();
        assertThat(majority).isBetween(0.4, 0.6);
        assertThat(accuracy).as("held-out accuracy against majority %.2f and chance 0.33", majority)
                .isGreaterThan(0.9);
    }

    static double accuracy(SequenceClassifier clf, List<ToyTask.Example> test) {
        float[][] p = clf.probabilities(ToyTask.texts(test), 16);
        int right = 0;
        for (int i = 0; i < p.length; i++) {
            int best = 0;
            for (int j = 1; j < p[i].length; j++) {
                best = p[i][j] > p[i][best] ? j : best;
            }
            right += clf.labels().get(best).equals(test.get(i).label()) ? 1 : 0;
        }
        return right / (double) p.length;
    }

    @Test
    void batchedPredictionWithPaddingEqualsOneTextAtATime() {
        GptModel model = ToyTask.model(TOKENIZER, 6);
        SequenceClassifier clf = SequenceClassifier.create(model, TOKENIZER, ToyTask.LABELS, 7);
        List<String> texts = ToyTask.texts(ToyTask.examples(9, 8));
        double[][] batched = clf.logits(texts, 4);
        for (int i = 0; i < texts.size(); i++) {
            double[] alone = clf.logits(List.of(texts.get(i)), 1)[0];
            for (int j = 0; j < alone.length; j++) {
                assertThat(batched[i][j]).isCloseTo(alone[j], within(1e-5));
            }
        }
        // the head reads the last real token: the logits are score.weight times that token's hidden state
        INDArray h = model.forward(TokenBatch.of(new int[][] {TOKENIZER.encode(texts.get(0))},
                new int[][] {new int[TOKENIZER.encode(texts.get(0)).length]}), dev.attune.core.model.Output.HIDDEN).hidden();
        INDArray last = h.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                org.nd4j.linalg.indexing.NDArrayIndex.point(h.size(1) - 1), org.nd4j.linalg.indexing.NDArrayIndex.all());
        for (int j = 0; j < 3; j++) {
            assertThat(batched[0][j]).isCloseTo(last.mul(clf.scoreWeight().getRow(j)).sumNumber().doubleValue(),
                    within(1e-5));
        }
    }

    @Test
    void unknownLabelsAndEmptyTextsAreClearErrors() {
        GptModel model = ToyTask.model(TOKENIZER, 6);
        SequenceClassifier clf = SequenceClassifier.create(model, TOKENIZER, ToyTask.LABELS, 7);
        assertThatThrownBy(() -> clf.data(List.of("good film", "bad"), List.of("pos", "meh"), "train.jsonl"))
                .hasMessageContaining("train.jsonl, example 2").hasMessageContaining("unknown label 'meh'")
                .hasMessageContaining("[pos, neg, neu]");
        assertThatThrownBy(() -> clf.data(List.of("good film", ""), List.of("pos", "neg"), "train.jsonl"))
                .hasMessageContaining("example 2").hasMessageContaining("empty");
        assertThatThrownBy(() -> clf.probabilities(List.of("good", ""), 8)).hasMessageContaining("text 2")
                .hasMessageContaining("empty");
    }

    @Test
    void headSavesAndLoads() throws IOException {
        GptModel model = ToyTask.model(TOKENIZER, 6);
        SequenceClassifier a = SequenceClassifier.create(model, TOKENIZER, ToyTask.LABELS, 7);
        SequenceClassifier b = SequenceClassifier.create(model, TOKENIZER, ToyTask.LABELS, 8);
        a.saveHead(dir.resolve("score.safetensors"));
        b.loadHead(dir.resolve("score.safetensors"));
        assertThat(b.scoreWeight().equalsWithEps(a.scoreWeight(), 0)).isTrue();
    }
}
