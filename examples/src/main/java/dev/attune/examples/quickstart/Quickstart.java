package dev.attune.examples.quickstart;

import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.GenerationResult;
import dev.attune.core.generate.Generator;
import dev.attune.examples.common.ExampleFiles;
import dev.attune.examples.common.LabelTable;
import dev.attune.examples.sentiment.SentimentExample;
import dev.attune.examples.sentiment.SentimentExample.Method;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Locale;

/**
 * The quickstart: what Attune is for, in a few minutes on a laptop's CPU. It starts from a pretrained model, never
 * from zero:
 *
 * <ol>
 *   <li>load the examples' base model ({@code examples/base-model}: a 2.6M-parameter GPT-2 that Attune pretrained on
 *       the Jargon File; or any GPT-2 directory);</li>
 *   <li>classify financial-news headlines (negative, neutral, positive) three ways: Tribuo's logistic regression on
 *       bag-of-words, the base model prompted with solved examples (few-shot), and the base model with a LoRA
 *       adapter and a classification head trained on the training split; one evaluation table computed by Tribuo
 *       (accuracy, macro-F1, F1 per label) on the held-out test split;</li>
 *   <li>save the adapter in Python PEFT's format, and the base with the adapter merged in as a plain Hugging Face
 *       directory; load that back and stream a generation from it.</li>
 * </ol>
 */
public final class Quickstart {

    /** Where the adapter (and head) go under the output directory. */
    public static final String ADAPTER = SentimentExample.CLASSIFIER_ADAPTER;
    /** Where the merged model goes under the output directory. */
    public static final String MODEL = "model";

    /**
     * What to run.
     *
     * @param model    base model directory (any GPT-2 directory with its tokenizer)
     * @param data     the sentiment data set's folder (train.jsonl, test.jsonl)
     * @param out      where the adapter and the merged model are saved
     * @param steps    LoRA's optimizer steps
     * @param reduced  a smaller split (300 training, 90 test headlines): what the README test runs
     * @param progress show the training progress line
     */
    public record Settings(Path model, Path data, Path out, int steps, boolean reduced, boolean progress) {

        public Settings {
            if (steps < 1) {
                throw new IllegalArgumentException("steps must be at least 1, got " + steps);
            }
        }

        public static Settings defaults() {
            return new Settings(ExampleFiles.BASE_MODEL, ExampleFiles.DATA.resolve("sentiment"),
                    Path.of("runs", "quickstart"), DEFAULT_STEPS, false, true);
        }

        public Settings withModel(Path dir) {
            return new Settings(dir, data, out, steps, reduced, progress);
        }

        public Settings withData(Path dir) {
            return new Settings(model, dir, out, steps, reduced, progress);
        }

        public Settings withOut(Path dir) {
            return new Settings(model, data, dir, steps, reduced, progress);
        }

        public Settings withSteps(int n) {
            return new Settings(model, data, out, n, reduced, progress);
        }

        public Settings withReduced(boolean smaller) {
            return new Settings(model, data, out, steps, smaller, progress);
        }

        public Settings withProgress(boolean show) {
            return new Settings(model, data, out, steps, reduced, show);
        }
    }

    /** LoRA's steps by default: enough for the classifier to pass the baselines on the full split. */
    public static final int DEFAULT_STEPS = 150;

    /** The table, the saved adapter and model, and the generation from the reloaded model. */
    public record Result(LabelTable table, Path adapter, Path modelDirectory, String prompt,
                         GenerationResult generation) {
    }

    private Quickstart() {
    }

    public static void main(String[] args) throws IOException {
        run(Settings.defaults(), System.out);
    }

    /** Runs the quickstart, narrating on {@code console} (which may be a null stream). */
    public static Result run(Settings s, PrintStream console) throws IOException {
        long start = System.nanoTime();
        Pretrained base = Pretrained.load(s.model());
        console.printf(Locale.ROOT, "Attune quickstart: a pretrained model, few-shot prompting vs LoRA, on "
                + "financial-news sentiment.%n%n");
        console.printf(Locale.ROOT, "Base model %s: GPT-2 with %d layers, %,d parameters, a %,d-token vocabulary%n"
                        + "(examples/README.md says how Attune pretrained it; --model DIR takes any GPT-2 directory)%n%n",
                s.model(), base.model().config().layers(), base.model().parameterCount(),
                base.tokenizer().vocabSize());

        SentimentExample.Settings sentiment = SentimentExample.Settings.defaults();
        sentiment = (s.reduced() ? sentiment.reduced() : sentiment).withPaths(s.model(), s.data(), s.out())
                .withMethods(EnumSet.of(Method.MAJORITY, Method.TRIBUO, Method.FEW_SHOT, Method.LORA_HEAD))
                .withSteps(s.steps()).withProgress(s.progress());
        SentimentExample.Result r = SentimentExample.run(sentiment, console);

        Path modelDir = s.out().resolve(MODEL);
        r.lora().merge();
        try {
            new Pretrained(r.loraBase().model(), r.loraBase().tokenizer()).save(modelDir);
        } finally {
            r.lora().unmerge();
        }
        Pretrained merged = Pretrained.load(modelDir);
        console.printf("The base model with the adapter merged in, saved as a Hugging Face directory: %s%n",
                modelDir);

        String prompt = "A hacker is";
        console.printf("Generating from the reloaded model after \"%s\" (sampled, streamed):%n   %s", prompt, prompt);
        GenerationConfig generation = GenerationConfig.builder().maxNewTokens(32).doSample(true).temperature(0.8)
                .topK(40).seed(7).build();
        GenerationResult g = Generator.of(merged.model(), merged.tokenizer()).generate(prompt, generation, piece -> {
            console.print(piece);
            console.flush();
        });
        console.printf("%n   (%d tokens; a 2.6M-parameter model trained on one 1.7 MB book writes fragments, not news)"
                + "%n%n", g.ids().length);
        console.printf(Locale.ROOT, "Done in %.0f s. Next: ./attune sentiment runs every method (zero-shot, LoRA on "
                + "the label words, full fine-tuning too); ./attune summarize, qa, support, tagging.%n",
                (System.nanoTime() - start) / 1e9);
        return new Result(r.table(), r.classifierAdapter(), modelDir, prompt, g);
    }
}
