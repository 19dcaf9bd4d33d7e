package dev.attune.examples.cli;

import dev.attune.core.tokenizer.BpeTokenizer;
import dev.attune.core.tokenizer.BpeTrainer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code attune train-tokenizer --corpus FILE... --vocab-size N --out DIR}: learns a GPT-2-style byte-level BPE
 * vocabulary from text files and writes the tokenizer files {@code attune pretrain --tokenizer DIR} reads.
 */
@Command(name = "train-tokenizer",
        mixinStandardHelpOptions = true,
        description = {"Learn a byte-level BPE vocabulary (GPT-2's pre-tokenizer and byte order) from text files.",
                "Writes vocab.json, merges.txt and tokenizer.json into OUT; <|endoftext|> is the last id."})
public final class TrainTokenizerCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--corpus", required = true, arity = "1..*", paramLabel = "FILE", description = "UTF-8 text files")
    private List<Path> corpus;

    @Option(names = "--vocab-size", paramLabel = "N", defaultValue = "4096",
            description = "ids in all: 256 bytes + merges + <|endoftext|>")
    private int vocabSize;

    @Option(names = "--min-frequency", paramLabel = "N", defaultValue = "2",
            description = "merge a pair only if it occurs at least N times")
    private int minFrequency;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory")
    private Path out;

    @Override
    public Integer call() throws IOException {
        for (Path p : corpus) {
            if (!Files.isRegularFile(p)) {
                throw new NoSuchFileException(p.toString(), null, "corpus file not found");
            }
        }
        BpeTokenizer tokenizer = BpeTrainer.builder().vocabSize(vocabSize).minFrequency(minFrequency).build()
                .trainFiles(corpus);
        tokenizer.save(out);
        PrintWriter w = spec.commandLine().getOut();
        w.printf(Locale.ROOT, "trained a %,d-id vocabulary on %d file%s; saved to %s%n", tokenizer.vocabSize(),
                corpus.size(), corpus.size() == 1 ? "" : "s", out);
        w.flush();
        return 0;
    }
}
