package dev.attune.examples.sentiment;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.model.TokenBatch;
import dev.attune.examples.common.LabelTable;
import dev.attune.examples.common.Tuning;
import dev.attune.finetune.heads.SequenceClassifier;
import dev.attune.finetune.peft.Peft;
import dev.attune.finetune.peft.PeftModel;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SentimentExampleTest {

    static final Path MODEL = Path.of("base-model");

    @Test
    void reducedRunComparesTheMethodsAndLoraBeatsTheMajorityClass(@TempDir Path out) throws Exception {
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        SentimentExample.Settings s = SentimentExample.Settings.defaults().reduced()
                .withPaths(MODEL, Path.of("data", "sentiment"), out).withProgress(false);
        SentimentExample.Result r = SentimentExample.run(s, new PrintStream(text, true, StandardCharsets.UTF_8));

        assertThat(r.table().rows()).extracting(LabelTable.Row::method).containsExactly("majority class",
                "Tribuo logistic regression", "zero-shot", "3-shot", "LoRA + classifier head",
                "full fine-tuning + head");
        for (LabelTable.Row row : r.table().rows()) {
            assertThat(row.accuracy()).isBetween(0.0, 1.0);
            assertThat(row.macroF1()).isBetween(0.0, 1.0);
            assertThat(row.f1PerLabel()).containsOnlyKeys(SentimentExample.LABELS);
            assertThat(row.confusion().support()).isEqualTo(90.0);
        }
        // one label for everything: its accuracy is that label's share of the test items, macro-F1 at most 1/3 * 2/3
        double majority = r.row("majority class").accuracy();
        assertThat(majority).isBetween(0.2, 0.5);
        assertThat(r.row("majority class").macroF1()).isLessThan(0.23);
        assertThat(r.row("Tribuo logistic regression").accuracy()).isGreaterThan(majority + 0.3);
        assertThat(r.row("LoRA + classifier head").accuracy()).isGreaterThan(majority + 0.2);
        assertThat(r.row("LoRA + classifier head").macroF1()).isGreaterThan(0.4);

        Path adapter = out.resolve(SentimentExample.CLASSIFIER_ADAPTER);
        assertThat(r.classifierAdapter()).isEqualTo(adapter);
        assertThat(Files.readString(adapter.resolve("adapter_config.json"))).contains("\"LORA\"");
        assertThat(adapter.resolve(SentimentExample.HEAD_FILE)).exists();
        assertThat(r.adapter()).isNull(); // reduced mode leaves LoRA on the label words out
        String report = text.toString(StandardCharsets.UTF_8);
        assertThat(report).contains("macro-F1").contains("[5/5] Full fine-tuning")
                .contains("LoRA adapter with classifier head saved to " + adapter);

        // the saved adapter and head reload into the same predictions
        Pretrained base = Pretrained.load(MODEL);
        PeftModel reloaded = Peft.load(base.model(), adapter);
        SequenceClassifier classifier = SequenceClassifier.create(reloaded.model(), base.tokenizer(),
                SentimentExample.LABELS, 1);
        classifier.loadHead(adapter.resolve(SentimentExample.HEAD_FILE));
        List<SentimentExample.Item> test = SentimentExample.read(Path.of("data", "sentiment", "test.jsonl"))
                .subList(0, 90);
        LabelTable again = new LabelTable(SentimentExample.LABELS);
        LabelTable.Row row = again.add("reloaded", test.stream().map(SentimentExample.Item::label).toList(),
                SentimentExample.predict(classifier, test), 0);
        assertThat(row.accuracy()).isEqualTo(r.row("LoRA + classifier head").accuracy());
    }

    @Test
    void labelWordsAreOneTokenEachInTheBaseVocabulary() throws Exception {
        var tokenizer = dev.attune.core.tokenizer.Tokenizer.load(MODEL);
        for (String label : SentimentExample.LABELS) {
            assertThat(tokenizer.encode(SentimentExample.answer(label))).as(label).hasSize(1);
        }
    }

    @Test
    void labelWordTrainingCountsTheWordAndNotTheEndOfSequence() throws Exception {
        var tokenizer = dev.attune.core.tokenizer.Tokenizer.load(MODEL);
        var data = Tuning.data(tokenizer, List.of(new Tuning.Pair(SentimentExample.prompt("Profit up"),
                SentimentExample.answer("positive"))));
        TokenBatch with = data.batch(0, 1, 64, 1);
        TokenBatch without = Tuning.withoutEndOfSequence(data).batch(0, 1, 64, 1);
        assertThat(with.validTargets()).isEqualTo(2); // " good", then <|endoftext|>
        assertThat(without.validTargets()).isEqualTo(1);
        int good = tokenizer.encode(" good")[0];
        assertThat(without.targets()).containsOnlyOnce(good);
        assertThat(without.inputs()).isEqualTo(with.inputs());
    }

    @Test
    void majorityAndDemonstrationsComeFromTheTrainingItems() {
        var train = java.util.List.of(new SentimentExample.Item("a up", "positive"),
                new SentimentExample.Item("b down", "negative"), new SentimentExample.Item("c flat", "neutral"),
                new SentimentExample.Item("d up", "positive"));
        assertThat(SentimentExample.majority(train)).isEqualTo("positive");
        String demos = SentimentExample.demonstrations(train, 1, 3);
        assertThat(demos).contains("Headline: b down\nThis news is bad\n\n")
                .contains("Headline: c flat\nThis news is normal\n\n");
        assertThat(demos.split("Headline:", -1)).hasSize(4);
    }
}
