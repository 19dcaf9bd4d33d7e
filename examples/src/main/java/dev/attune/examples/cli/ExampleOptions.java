package dev.attune.examples.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The options every example command shares. */
final class ExampleOptions {

    @Option(names = "--model", paramLabel = "DIR",
            description = "base model directory (default: examples/base-model; any GPT-2 checkpoint with tokenizer)")
    Path model;

    @Option(names = "--data", paramLabel = "DIR", description = "data set folder with train.jsonl and test.jsonl")
    Path data;

    @Option(names = "--out", paramLabel = "DIR", description = "where the example saves what it trains (adapters; default: runs/EXAMPLE)")
    Path out;

    @Option(names = "--reduced", description = "a smaller split and fewer steps (what the tests run)")
    boolean reduced;

    @Option(names = "--no-progress", description = "do not show training progress")
    boolean noProgress;

    Path model(Path fallback) {
        return model != null ? model : fallback;
    }

    Path data(Path fallback) {
        return data != null ? data : fallback;
    }

    Path out(Path fallback) {
        return out != null ? out : fallback;
    }
}
