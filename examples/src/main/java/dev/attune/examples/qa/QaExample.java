package dev.attune.examples.qa;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.examples.common.ExampleFiles;
import dev.attune.examples.common.Tuning;
import dev.attune.prompting.metrics.Squad;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Question answering over a short context: the base model's greedy answers before and after fine-tuning (LoRA with
 * the token embedding trained beside it, {@link Tuning#loraOnLines}), scored by SQuAD's exact match and token F1.
 *
 * <pre>
 * ./attune qa [--reduced]
 * </pre>
 */
public final class QaExample {

    /**
     * What to run.
     *
     * @param model      base model directory
     * @param data       folder with train.jsonl and test.jsonl ({context, question, answer})
     * @param out        where the adapter is saved
     * @param trainItems training items used (0: all)
     * @param testItems  test items answered (0: all)
     * @param lora       LoRA's training
     */
    public record Settings(Path model, Path data, Path out, int trainItems, int testItems, Tuning.Settings lora) {

        public static Settings defaults() {
            return new Settings(ExampleFiles.BASE_MODEL, ExampleFiles.DATA.resolve("qa"), Path.of("runs", "qa"), 0,
                    0, new Tuning.Settings(150, 16, 5e-3, 7, true));
        }

        /** Fewer items and steps: the tests' mode. */
        public Settings reduced() {
            return new Settings(model, data, out, 200, 24, lora.withSteps(60).withBatchSize(8));
        }

        public Settings withProgress(boolean show) {
            return new Settings(model, data, out, trainItems, testItems, lora.withProgress(show));
        }

        public Settings withPaths(Path modelDir, Path dataDir, Path outDir) {
            return new Settings(modelDir, dataDir, outDir, trainItems, testItems, lora);
        }
    }

    /** A context, a question about it and the answer (a span of the context). */
    public record Item(String context, String question, String answer) {
    }

    /** Exact match and F1 (both in [0, 1]) of one model on the test items. */
    public record Score(String method, double exactMatch, double f1) {
    }

    /** Before and after fine-tuning, and one answered example. */
    public record Result(Score before, Score after, double answerLossBefore, double answerLossAfter, Path adapter,
                         Item sample, String sampleAnswer) {
    }

    static final String TUNED = Tuning.GENERATION_LABEL;

    private QaExample() {
    }

    public static void main(String[] args) throws IOException {
        Settings s = Settings.defaults();
        run(List.of(args).contains("--reduced") ? s.reduced() : s, System.out);
    }

    public static Result run(Settings s, PrintStream console) throws IOException {
        List<Item> train = ExampleFiles.head(read(s.data().resolve("train.jsonl")), s.trainItems());
        List<Item> test = ExampleFiles.head(read(s.data().resolve("test.jsonl")), s.testItems());
        console.printf(Locale.ROOT, "Question answering over a short context: %d training, %d test items (%s)%n",
                train.size(), test.size(), s.data());
        Pretrained base = Pretrained.load(s.model());
        console.println("[1/3] The base model answers the test questions ...");
        Score before = score("base model", base, test);
        console.printf(Locale.ROOT, "[2/3] Fine-tuning, %s (%d steps of %d) ...%n", TUNED, s.lora().steps(),
                s.lora().batchSize());
        Tuning.LineTuning tuned = Tuning.loraOnLines(base, pairs(train), pairs(test), s.lora());
        console.println("      trained: " + tuned.description());
        double lossBefore = tuned.heldOutLossBefore();
        double lossAfter = tuned.heldOutLossAfter();
        Path adapter = s.out().resolve("adapter");
        tuned.trained().save(adapter);
        console.println("[3/3] The fine-tuned model answers the test questions ...");
        List<String> answers = answers(base, test);
        Score after = score(TUNED, test, answers);

        console.printf(Locale.ROOT, "%n%-18s %12s %8s%n", "model", "exact match", "F1");
        for (Score sc : List.of(before, after)) {
            console.printf(Locale.ROOT, "%-18s %12.3f %8.3f%n", sc.method(), sc.exactMatch(), sc.f1());
        }
        console.printf(Locale.ROOT, "Loss of the gold answers on the test items (nats per token): %.3f before, %.3f "
                + "after fine-tuning%n", lossBefore, lossAfter);
        Item sample = test.get(0);
        console.printf("%nContext: %s%nQuestion: %s%nAnswer: %s (gold: %s)%n", sample.context(), sample.question(),
                answers.get(0), sample.answer());
        console.printf("Adapter (LoRA and modules_to_save, PEFT's layout) saved to %s%n", adapter);
        return new Result(before, after, lossBefore, lossAfter, adapter, sample, answers.get(0));
    }

    static List<Tuning.Pair> pairs(List<Item> items) {
        return items.stream().map(i -> new Tuning.Pair(prompt(i), " " + i.answer())).toList();
    }

    static String prompt(Item item) {
        return "Context: " + item.context() + "\nQuestion: " + item.question() + "\nAnswer:";
    }

    static List<String> answers(Pretrained lm, List<Item> items) {
        return Tuning.complete(lm.model(), lm.tokenizer(), items.stream().map(QaExample::prompt).toList(), 8, "\n");
    }

    private static Score score(String method, Pretrained lm, List<Item> items) {
        return score(method, items, answers(lm, items));
    }

    static Score score(String method, List<Item> items, List<String> answers) {
        double em = 0;
        double f1 = 0;
        for (int i = 0; i < items.size(); i++) {
            em += Squad.exactMatch(answers.get(i), List.of(items.get(i).answer()));
            f1 += Squad.f1(answers.get(i), List.of(items.get(i).answer()));
        }
        return new Score(method, em / items.size(), f1 / items.size());
    }

    static List<Item> read(Path file) throws IOException {
        List<JsonNode> nodes = ExampleFiles.readJsonl(file);
        List<Item> items = new ArrayList<>(nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            JsonNode n = nodes.get(i);
            items.add(new Item(ExampleFiles.text(n, "context", file, i), ExampleFiles.text(n, "question", file, i),
                    ExampleFiles.text(n, "answer", file, i)));
        }
        return items;
    }
}
