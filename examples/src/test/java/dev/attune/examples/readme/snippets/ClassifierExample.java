package dev.attune.examples.readme.snippets;

import dev.attune.finetune.tribuo.LmClassifierModel;
import dev.attune.finetune.tribuo.LmClassifierTrainer;
import dev.attune.finetune.tribuo.TextDatasets;
import dev.attune.finetune.tribuo.TuningMethod;
import java.nio.file.Path;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.evaluation.LabelEvaluation;
import org.tribuo.classification.evaluation.LabelEvaluator;

public class ClassifierExample {
    public static void main(String[] args) throws Exception {
        Path data = Path.of("examples/data/sentiment");
        MutableDataset<Label> train = TextDatasets.read(data.resolve("train.jsonl"));  // {"text", "label"} or CSV
        LmClassifierModel clf = LmClassifierTrainer.builder(Path.of("runs/quickstart/model"))
                .method(TuningMethod.FULL).learningRate(5e-5).steps(20).batchSize(8).seed(1)
                .progress(false).build().train(train);
        LabelEvaluation e = new LabelEvaluator().evaluate(clf, TextDatasets.read(data.resolve("test.jsonl")));
        System.out.printf("accuracy %.3f, macro F1 %.3f%n", e.accuracy(), e.macroAveragedF1());
        clf.save(Path.of("runs/clf-java"));
        System.out.println(LmClassifierModel.load(Path.of("runs/clf-java")).modelCard());
    }
}
