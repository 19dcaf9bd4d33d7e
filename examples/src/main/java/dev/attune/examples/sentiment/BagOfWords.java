package dev.attune.examples.sentiment;

import dev.attune.examples.common.QuietTribuo;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.tribuo.Model;
import org.tribuo.MutableDataset;
import org.tribuo.classification.Label;
import org.tribuo.classification.LabelFactory;
import org.tribuo.classification.sgd.linear.LogisticRegressionTrainer;
import org.tribuo.impl.ArrayExample;
import org.tribuo.provenance.SimpleDataSourceProvenance;

/** The classical baseline: Tribuo's logistic regression on lower-cased word and word-pair counts. */
final class BagOfWords {

    private BagOfWords() {
    }

    static List<String> trainAndPredict(List<SentimentExample.Item> train, List<SentimentExample.Item> test,
                                        long seed) {
        QuietTribuo.apply();
        LabelFactory factory = new LabelFactory();
        MutableDataset<Label> data = new MutableDataset<>(
                new SimpleDataSourceProvenance("sentiment train.jsonl", factory), factory);
        for (SentimentExample.Item item : train) {
            data.add(example(item.text(), new Label(item.label())));
        }
        LogisticRegressionTrainer trainer = new LogisticRegressionTrainer();
        trainer.setInvocationCount(0);
        Model<Label> model = trainer.train(data);
        List<String> predicted = new ArrayList<>(test.size());
        for (SentimentExample.Item item : test) {
            predicted.add(model.predict(example(item.text(), LabelFactory.UNKNOWN_LABEL)).getOutput().getLabel());
        }
        return predicted;
    }

    private static ArrayExample<Label> example(String text, Label label) {
        ArrayExample<Label> e = new ArrayExample<>(label);
        Set<String> features = new LinkedHashSet<>();
        String[] words = text.toLowerCase(Locale.ROOT).split("[^\\p{L}\\p{N}%]+");
        for (int i = 0; i < words.length; i++) {
            if (!words[i].isEmpty()) {
                features.add("w=" + words[i]);
                if (i + 1 < words.length) {
                    features.add("b=" + words[i] + "_" + words[i + 1]);
                }
            }
        }
        for (String f : features) {
            e.add(f, 1.0);
        }
        return e;
    }
}
