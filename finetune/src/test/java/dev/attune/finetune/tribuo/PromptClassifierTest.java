package dev.attune.finetune.tribuo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.Output;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.finetune.heads.ToyTask;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.tribuo.MutableDataset;
import org.tribuo.Prediction;
import org.tribuo.classification.Label;
import org.tribuo.classification.evaluation.LabelEvaluation;
import org.tribuo.classification.evaluation.LabelEvaluator;

class PromptClassifierTest {

    @TempDir
    Path dir;

    private static final Map<String, List<String>> WORDS = new LinkedHashMap<>();
    static {
        WORDS.put("pos", List.of("good", "great"));
        WORDS.put("neg", List.of("bad"));
        WORDS.put("neu", List.of("okay"));
    }

    @Test
    void zeroShotScoresAreTheVerbalizerWordsLogLikelihoodsAfterThePrompt() throws IOException {
        BpeTokenizer tokenizer = ToyTask.tokenizer();
        GptModel model = ToyTask.model(tokenizer, 4);
        Path base = dir.resolve("base");
        new Pretrained(model, tokenizer).save(base);
        MutableDataset<Label> data = TextDatasets.read(LmClassifierTrainerTest.jsonl(dir.resolve("d.jsonl"),
                ToyTask.examples(12, 3)));
        PromptClassifierModel zero = PromptClassifierTrainer.builder(base, "review: {text} verdict:", WORDS)
                .batchSize(5).build().train(data);
        assertThat(zero.context("the plot")).isEqualTo("review: the plot verdict:");

        Prediction<Label> p = zero.predictTexts("the plot was");
        // independent computation: log-softmax of the full logits at the continuation's positions
        String context = "review: the plot was verdict:";
        double[] expected = new double[3];
        String[] labels = {"pos", "neg", "neu"};
        for (int j = 0; j < 3; j++) {
            double best = Double.NEGATIVE_INFINITY;
            for (String word : WORDS.get(labels[j])) {
                best = Math.max(best, logLikelihood(model, tokenizer, context, " " + word));
            }
            expected[j] = best;
        }
        double max = Math.max(expected[0], Math.max(expected[1], expected[2]));
        double sum = 0;
        for (double e : expected) {
            sum += Math.exp(e - max);
        }
        for (int j = 0; j < 3; j++) {
            assertThat(p.getOutputScores().get(labels[j]).getScore()).as(labels[j])
                    .isCloseTo(Math.exp(expected[j] - max) / sum, within(1e-4));
        }

        LabelEvaluation e = new LabelEvaluator().evaluate(zero, data);
        assertThat(e.getPredictions()).hasSize(12);
    }

    private static double logLikelihood(GptModel model, BpeTokenizer tokenizer, String context, String continuation) {
        int[] c = tokenizer.encode(context);
        int[] w = tokenizer.encode(continuation);
        int[] all = new int[c.length + w.length];
        System.arraycopy(c, 0, all, 0, c.length);
        System.arraycopy(w, 0, all, c.length, w.length);
        int[] inputs = java.util.Arrays.copyOf(all, all.length - 1);
        INDArray logits = model.forward(TokenBatch.of(new int[][] {inputs}, new int[][] {new int[inputs.length]}),
                Output.LOGITS).logits();                                              // [1, T, V]
        double total = 0;
        for (int i = 0; i < w.length; i++) {
            int pos = c.length - 1 + i;
            double[] row = logits.get(org.nd4j.linalg.indexing.NDArrayIndex.point(0),
                    org.nd4j.linalg.indexing.NDArrayIndex.point(pos), org.nd4j.linalg.indexing.NDArrayIndex.all())
                    .castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE).toDoubleVector();
            double m = java.util.Arrays.stream(row).max().orElseThrow();
            double z = 0;
            for (double v : row) {
                z += Math.exp(v - m);
            }
            total += row[w[i]] - m - Math.log(z);
        }
        return total;
    }

    @Test
    void fewShotPutsSeededDemonstrationsFromTheDatasetBeforeTheQuery() throws IOException {
        BpeTokenizer tokenizer = ToyTask.tokenizer();
        Path base = dir.resolve("base");
        new Pretrained(ToyTask.model(tokenizer, 4), tokenizer).save(base);
        List<ToyTask.Example> examples = ToyTask.examples(10, 3);
        MutableDataset<Label> data = TextDatasets.read(LmClassifierTrainerTest.jsonl(dir.resolve("d.jsonl"), examples));
        PromptClassifierModel two = PromptClassifierTrainer.builder(base, "review: {text} verdict:", WORDS).shots(2)
                .seed(9).build().train(data);
        assertThat(two.demonstrations()).hasSize(2);
        var d = two.demonstrations();
        assertThat(two.context("x")).isEqualTo(d.get(0).input() + " " + d.get(0).target() + "\n\n" + d.get(1).input()
                + " " + d.get(1).target() + "\n\nreview: x verdict:");
        for (var demo : d) {
            String text = demo.input().substring("review: ".length(), demo.input().length() - " verdict:".length());
            ToyTask.Example source = examples.stream().filter(x -> x.text().equals(text)).findFirst().orElseThrow();
            assertThat(demo.target()).isEqualTo(WORDS.get(source.label()).get(0));
        }
        PromptClassifierModel again = PromptClassifierTrainer.builder(base, "review: {text} verdict:", WORDS).shots(2)
                .seed(9).build().train(data);
        assertThat(again.demonstrations()).isEqualTo(d);
        assertThat(two.getProvenance().getTrainerProvenance().toString()).contains("shots").contains("verbalizer");

        assertThatThrownBy(() -> PromptClassifierTrainer.builder(base, "review: {review}", WORDS).build())
                .hasMessageContaining("{text}");
        Map<String, List<String>> partial = Map.of("pos", List.of("good"));
        assertThatThrownBy(() -> PromptClassifierTrainer.builder(base, "{text}", partial).build().train(data))
                .hasMessageContaining("which the verbalizer lacks");
    }
}
