package dev.attune.examples.summarize;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.examples.common.ExampleFiles;
import dev.attune.examples.common.Tuning;
import dev.attune.prompting.metrics.Rouge;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Summarisation of short company reports: fine-tuning on prompt/completion pairs (LoRA with the token embedding
 * trained beside it, {@link Tuning#loraOnLines}), scored by ROUGE against the
 * reference summaries, beside the lead-N baseline (the first N sentences, split by OpenNLP's English sentence model)
 * and the base model before fine-tuning.
 *
 * <pre>
 * ./attune summarize [--reduced]
 * </pre>
 */
public final class SummarizeExample {

    /**
     * What to run.
     *
     * @param model      base model directory
     * @param data       folder with train.jsonl and test.jsonl ({document, summary})
     * @param out        where the adapter is saved
     * @param trainItems training items used (0: all)
     * @param testItems  test documents summarised (0: all)
     * @param leadN      sentences in the lead baseline
     * @param lora       LoRA's training
     */
    public record Settings(Path model, Path data, Path out, int trainItems, int testItems, int leadN,
                           Tuning.Settings lora) {

        public static Settings defaults() {
            return new Settings(ExampleFiles.BASE_MODEL, ExampleFiles.DATA.resolve("summarize"),
                    Path.of("runs", "summarize"), 0, 0, 1, new Tuning.Settings(120, 8, 5e-3, 7, true));
        }

        /** Fewer items and steps: the tests' mode. */
        public Settings reduced() {
            return new Settings(model, data, out, 96, 8, leadN, lora.withSteps(40).withBatchSize(8));
        }

        public Settings withProgress(boolean show) {
            return new Settings(model, data, out, trainItems, testItems, leadN, lora.withProgress(show));
        }

        public Settings withPaths(Path modelDir, Path dataDir, Path outDir) {
            return new Settings(modelDir, dataDir, outDir, trainItems, testItems, leadN, lora);
        }
    }

    /** A document and its reference summary. */
    public record Item(String document, String summary) {
    }

    /** Mean ROUGE F-measures (in [0, 1]) of one method over the test documents. */
    public record Score(String method, double rouge1, double rouge2, double rougeL) {
    }

    public record Result(List<Score> scores, double summaryLossBefore, double summaryLossAfter, Path adapter,
                         Item sample, String sampleSummary) {
        public Score score(String method) {
            return scores.stream().filter(s -> s.method().equals(method)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no score " + method));
        }
    }

    static final String LORA = Tuning.GENERATION_LABEL;
    static final String BASE = "base model";

    private SummarizeExample() {
    }

    public static void main(String[] args) throws IOException {
        Settings s = Settings.defaults();
        run(List.of(args).contains("--reduced") ? s.reduced() : s, System.out);
    }

    public static Result run(Settings s, PrintStream console) throws IOException {
        List<Item> train = ExampleFiles.head(read(s.data().resolve("train.jsonl")), s.trainItems());
        List<Item> test = ExampleFiles.head(read(s.data().resolve("test.jsonl")), s.testItems());
        console.printf(Locale.ROOT, "Summarisation: %d training, %d test documents (%s)%n", train.size(), test.size(),
                s.data());
        Rouge rouge = Rouge.create();
        List<Score> scores = new ArrayList<>();

        String lead = "lead-" + s.leadN() + " (OpenNLP)";
        List<String> leads = test.stream().map(i -> String.join(" ", rouge.sentences(i.document()).subList(0,
                Math.min(s.leadN(), rouge.sentences(i.document()).size())))).toList();
        scores.add(score(lead, rouge, test, leads));

        Pretrained base = Pretrained.load(s.model());
        console.println("[1/3] The base model summarises the test documents ...");
        scores.add(score(BASE, rouge, test, summaries(base, test)));
        console.printf(Locale.ROOT, "[2/3] Fine-tuning, %s (%d steps of %d) ...%n", LORA, s.lora().steps(),
                s.lora().batchSize());
        Tuning.LineTuning lora = Tuning.loraOnLines(base, pairs(train), pairs(test), s.lora());
        console.println("      trained: " + lora.description());
        double lossBefore = lora.heldOutLossBefore();
        double lossAfter = lora.heldOutLossAfter();
        Path adapter = s.out().resolve("adapter");
        lora.trained().save(adapter);
        console.println("[3/3] The fine-tuned model summarises the test documents ...");
        List<String> tuned = summaries(base, test);
        scores.add(score(LORA, rouge, test, tuned));

        console.printf(Locale.ROOT, "%n%-20s %8s %8s %8s%n", "method", "ROUGE-1", "ROUGE-2", "ROUGE-L");
        for (Score sc : scores) {
            console.printf(Locale.ROOT, "%-20s %8.3f %8.3f %8.3f%n", sc.method(), sc.rouge1(), sc.rouge2(),
                    sc.rougeL());
        }
        console.printf(Locale.ROOT, "Loss of the reference summaries on the test documents (nats per token): %.3f "
                + "before, %.3f after fine-tuning%n", lossBefore, lossAfter);
        Item sample = test.get(0);
        console.printf("%nDocument:   %s%nReference:  %s%nFine-tuned: %s%n", sample.document(), sample.summary(),
                tuned.get(0));
        console.printf("Adapter (LoRA and modules_to_save, PEFT's layout) saved to %s%n", adapter);
        return new Result(scores, lossBefore, lossAfter, adapter, sample, tuned.get(0));
    }

    static List<Tuning.Pair> pairs(List<Item> items) {
        return items.stream().map(i -> new Tuning.Pair(prompt(i), " " + i.summary())).toList();
    }

    static String prompt(Item item) {
        return "Article: " + item.document() + "\nSummary:";
    }

    static List<String> summaries(Pretrained lm, List<Item> items) {
        return Tuning.complete(lm.model(), lm.tokenizer(), items.stream().map(SummarizeExample::prompt).toList(), 32,
                "\n");
    }

    static Score score(String method, Rouge rouge, List<Item> items, List<String> predictions) {
        double r1 = 0;
        double r2 = 0;
        double rl = 0;
        for (int i = 0; i < items.size(); i++) {
            Rouge.Scores sc = rouge.score(predictions.get(i), List.of(items.get(i).summary()));
            r1 += sc.rouge1();
            r2 += sc.rouge2();
            rl += sc.rougeL();
        }
        int n = items.size();
        return new Score(method, r1 / n, r2 / n, rl / n);
    }

    static List<Item> read(Path file) throws IOException {
        List<JsonNode> nodes = ExampleFiles.readJsonl(file);
        List<Item> items = new ArrayList<>(nodes.size());
        for (int i = 0; i < nodes.size(); i++) {
            items.add(new Item(ExampleFiles.text(nodes.get(i), "document", file, i),
                    ExampleFiles.text(nodes.get(i), "summary", file, i)));
        }
        return items;
    }
}
