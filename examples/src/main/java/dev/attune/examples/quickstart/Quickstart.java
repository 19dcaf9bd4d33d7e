package dev.attune.examples.quickstart;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.checkpoint.HfCheckpoint;
import dev.attune.core.checkpoint.Pretrained;
import dev.attune.core.config.GptConfig;
import dev.attune.core.data.TokenWindows;
import dev.attune.core.generate.GenerationConfig;
import dev.attune.core.generate.GenerationResult;
import dev.attune.core.generate.Generator;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.core.train.LearningRateSchedule;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.TrainingResult;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.jar.JarFile;

/**
 * The quickstart: the whole life of a model in one program, on data that is already on your machine.
 *
 * <ol>
 *   <li>Text: the Apache License 2.0, as shipped inside the jackson-databind jar (META-INF/LICENSE, about 11 KB).
 *       No download: it is on the classpath of every Attune install.</li>
 *   <li>Tokenize it with GPT-2's tokenizer and pretrain a small GPT-2 from scratch on it.</li>
 *   <li>Save model and tokenizer as a Hugging Face directory (loads in Python's transformers unchanged), load it
 *       back, and generate text from a prompt, streamed token by token.</li>
 * </ol>
 *
 * <p>A model this small trained for a minute on 11 KB learns to recite license-like text, not to think: the point
 * is the workflow, every step of which is the same for real models and data.
 */
public final class Quickstart {

    private static final int BATCH = 8;
    private static final int CONTEXT = 64;
    private static final int EVALUATION_BATCHES = 20;

    /** What the quickstart produced. */
    public record Result(Path modelDirectory, TrainingResult training, double initialLoss, String prompt,
                         GenerationResult generation) {
    }

    private Quickstart() {
    }

    /**
     * Runs the quickstart.
     *
     * @param steps     optimizer steps of pretraining
     * @param out       where the run (checkpoints, metrics, final model) goes
     * @param progress  show a progress bar
     * @param console   where to narrate (may be a null stream)
     */
    public static Result run(int steps, Path out, boolean progress, PrintStream console) throws IOException {
        String text = apacheLicenseText();
        BpeTokenizer tokenizer = Tokenizer.gpt2();
        int[] tokens = tokenizer.encode(text);
        console.printf("1. Corpus: the Apache License 2.0 from jackson-databind's jar, %,d characters -> %,d GPT-2 "
                + "tokens%n", text.length(), tokens.length);

        GptConfig config = GptConfig.builder().layers(4).heads(4).embeddingSize(128).contextLength(128)
                .dropout(0.0).build();
        GptModel model = GptModel.create(config, 1234);
        console.printf("2. Model: %s, %,d parameters, initialised as GPT-2%n", config, model.parameterCount());

        TokenWindows.Split data = TokenWindows.of(tokens).split(0.1);
        // One definition of validation loss everywhere: the training log's, i.e. rows of CONTEXT positions, at most
        // EVALUATION_BATCHES batches of BATCH rows; the summary below reports the same numbers.
        double initialLoss = LmTraining.evaluate(model, data.validation(), BATCH, CONTEXT, EVALUATION_BATCHES);
        Path trainingDir = out.resolve("training");
        TrainingResult trained = LmTraining.builder()
                .model(model)
                .data(data.train())
                .validation(data.validation())
                .batchSize(BATCH)
                .contextLength(CONTEXT)
                .evaluationBatches(EVALUATION_BATCHES)
                .schedule(LearningRateSchedule.cosine(3e-3).withWarmup(Math.max(1, steps / 10)))
                .clipGradNorm(1.0)
                .maxSteps(steps)
                .evaluateEvery(Math.max(1, steps / 4))
                .outputDirectory(trainingDir)
                .overwrite(true) // each quickstart is a new run; an earlier one's files are replaced
                .checkpointEvery(Math.max(1, steps / 2))
                .seed(42)
                .progress(progress)
                .build()
                .run();
        double lastLoss = LmTraining.evaluate(model, data.validation(), BATCH, CONTEXT, EVALUATION_BATCHES);
        double bestLoss = trained.bestValidationLoss();
        console.printf("3. Pretrained %d steps: validation loss %.3f -> %.3f (perplexity %.1f -> %.1f)%n",
                trained.steps(), initialLoss, bestLoss, Math.exp(initialLoss), Math.exp(bestLoss));
        if (trained.bestStep() != trained.steps()) {
            // validation loss rose at the end (overfitting 3k tokens): keep the weights of the best evaluation
            GptModel best = HfCheckpoint.load(trainingDir.resolve(LmTraining.BEST_DIRECTORY));
            model.parameters().assign(best.parameters());
            console.printf("   Lowest at step %d; after the last step it was %.3f, so the saved model has step %d's "
                    + "weights.%n", trained.bestStep(), lastLoss, trained.bestStep());
        }

        Path modelDir = out.resolve("model");
        new Pretrained(model, tokenizer).save(modelDir);
        Pretrained loaded = Pretrained.load(modelDir);
        console.printf("4. Saved and reloaded a Hugging Face directory: %s%n", modelDir);

        String prompt = "Licensed under the";
        console.printf("5. Generating from \"%s\":%n   %s", prompt, prompt);
        GenerationConfig generation = GenerationConfig.builder().maxNewTokens(48).doSample(true).temperature(0.8)
                .topK(40).seed(7).build();
        GenerationResult result = Generator.of(loaded.model(), loaded.tokenizer())
                .generate(prompt, generation, piece -> {
                    console.print(piece);
                    console.flush();
                });
        console.printf("%n   (%d tokens, finish reason: %s)%n", result.ids().length, result.finishReason());
        return new Result(modelDir, trained, initialLoss, prompt, result);
    }

    /** The Apache License 2.0 text inside the jar that holds Jackson's ObjectMapper. */
    static String apacheLicenseText() throws IOException {
        Path jar;
        try {
            jar = Path.of(ObjectMapper.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException | NullPointerException e) {
            throw new IOException("cannot locate the jackson-databind jar on the classpath", e);
        }
        try (JarFile file = new JarFile(jar.toFile()); InputStream in = file.getInputStream(
                java.util.Objects.requireNonNull(file.getJarEntry("META-INF/LICENSE"),
                        () -> jar + " has no META-INF/LICENSE"))) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
