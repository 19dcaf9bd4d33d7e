package dev.attune.examples.cli;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.Tokenizer;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.RunDirectory;
import dev.attune.core.data.TokenFile;
import dev.attune.core.data.TokenWindows;
import dev.attune.core.train.TrainingResult;
import dev.attune.examples.report.ReportOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code attune pretrain}: trains a GPT-2-shaped model from scratch on text files. The corpus is tokenized once into
 * {@code OUT/corpus.bin} (llm.c's token-file layout; a {@code .bin} token file can be passed instead of text), split
 * into training and validation parts, and trained with AdamW; {@code OUT/model} receives the Hugging Face checkpoint
 * and the tokenizer files, {@code OUT/metrics.jsonl} the metrics.
 */
@Command(name = "pretrain",
        mixinStandardHelpOptions = true,
        description = {"Train a model from scratch on text files.",
                "Writes OUT/corpus.bin (tokens), OUT/metrics.jsonl, OUT/checkpoint-N/ and OUT/model/ (HF checkpoint)."})
public final class PretrainCommand implements Callable<Integer> {

    static final TrainingOptions.Defaults DEFAULTS = new TrainingOptions.Defaults(6e-4, "cosine", 0.1);

    @Spec
    private CommandSpec spec;

    @Option(names = "--corpus", required = true, arity = "1..*", paramLabel = "FILE",
            description = "UTF-8 text files (each one document), or one token file (.bin)")
    private List<Path> corpus;

    @Option(names = "--config", required = true, paramLabel = "CONFIG",
            description = "tiny, gpt2, or a config.json")
    private String config;

    @Option(names = "--steps", required = true, paramLabel = "N", description = "optimizer steps")
    private Long steps;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    private Path out;

    @Option(names = "--tokenizer", paramLabel = "DIR", description = "tokenizer files (default: GPT-2's)")
    private Path tokenizerDir;

    @Option(names = "--validation-fraction", paramLabel = "F", defaultValue = "0.1",
            description = "share of the tokens held out for validation")
    private double validationFraction;

    @Mixin
    private TrainingOptions options;

    @Mixin
    private ReportOptions report;

    @Override
    public Integer call() throws IOException {
        BpeTokenizer tokenizer = tokenizerDir == null ? Tokenizer.gpt2() : Tokenizer.load(tokenizerDir);
        GptConfig modelConfig = modelConfig();
        if (options.dropout != null) {
            modelConfig = modelConfig.withDropout(options.dropout);
        }
        if (tokenizer.vocabSize() > modelConfig.vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize()
                    + " ids but the model's vocab_size is " + modelConfig.vocabSize());
        }
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("--validation-fraction must be in (0, 1), got " + validationFraction);
        }
        RunDirectory.Mode mode = options.runMode();
        // every setting is checked before the corpus is tokenized
        GptModel model = GptModel.create(modelConfig, options.seed);
        LmTraining.Builder training = options.builder(DEFAULTS, steps).model(model).outputDirectory(out)
                .validate();
        try (RunDirectory run = RunDirectory.open(out, mode)) {
            TokenFile tokens = TokenFile.open(tokenFile(tokenizer, run));
            TokenWindows.Split split = TokenWindows.of(tokens).split(validationFraction);
            TrainingResult result = report.attach(training.runDirectory(run), spec, out, "pretraining from scratch",
                            config)
                    .data(split.train()).validation(split.validation()).dataFiles(inputFiles())
                    .build().run();
            Path saved = out.resolve(LmTraining.MODEL_DIRECTORY);
            tokenizer.save(saved);
            options.report(spec.commandLine().getOut(), result, saved);
        }
        return 0;
    }

    /** What the tokens come from: the corpus files and the tokenizer's files, checked by hash on --resume. */
    private List<Path> inputFiles() throws IOException {
        List<Path> files = new ArrayList<>(corpus);
        if (tokenizerDir != null) {
            try (Stream<Path> list = Files.list(tokenizerDir)) {
                list.filter(Files::isRegularFile).sorted().forEach(files::add);
            }
        }
        return files;
    }

    private GptConfig modelConfig() throws IOException {
        return switch (config.toLowerCase(Locale.ROOT)) {
            case "tiny" -> GptConfig.tiny();
            case "gpt2" -> GptConfig.gpt2();
            default -> GptConfig.readJson(Path.of(config));
        };
    }

    /** The token file to train on: the corpus itself when it is one, else OUT/corpus.bin (made once). */
    private Path tokenFile(Tokenizer tokenizer, RunDirectory run) throws IOException {
        for (Path p : corpus) {
            if (!Files.isRegularFile(p)) {
                throw new NoSuchFileException(p.toString(), null, "corpus file not found");
            }
        }
        if (corpus.size() == 1 && isTokenFile(corpus.get(0))) {
            return corpus.get(0);
        }
        Path bin = out.resolve("corpus.bin");
        if (run.mode() == RunDirectory.Mode.RESUME && Files.isRegularFile(bin)
                && !LmTraining.checkpoints(out).isEmpty()) {
            return bin; // the resumed run sees the same tokens; the trainer checks the corpus files' hashes
        }
        long n = TokenFile.tokenize(bin, tokenizer, corpus);
        System.err.printf(Locale.ROOT, "tokenized %,d tokens from %d file%s into %s%n", n, corpus.size(),
                corpus.size() == 1 ? "" : "s", bin);
        return bin;
    }

    private static boolean isTokenFile(Path p) throws IOException {
        try (InputStream in = Files.newInputStream(p)) {
            byte[] head = in.readNBytes(4);
            return head.length == 4 && ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getInt() == TokenFile.MAGIC;
        }
    }
}
