package dev.attune.examples.cli;

import picocli.CommandLine.Option;

/**
 * The optimisation options that {@code classify train} and {@code tag train} share (a picocli mixin): both fine-tune
 * a model with a task head through Tribuo's trainers, which take the same settings.
 */
final class HeadTrainingOptions {

    @Option(names = "--lr", defaultValue = "5e-5", paramLabel = "LR", description = "learning rate")
    double learningRate;

    @Option(names = "--weight-decay", defaultValue = "0", paramLabel = "WD", description = "AdamW weight decay")
    double weightDecay;

    @Option(names = "--steps", defaultValue = "100", paramLabel = "N", description = "optimizer steps")
    int steps;

    @Option(names = "--batch", defaultValue = "8", paramLabel = "B", description = "training examples per step")
    int batch;

    @Option(names = "--seed", defaultValue = "1337", paramLabel = "S", description = "seed")
    long seed;

    @Option(names = "--no-progress", description = "do not show the progress line")
    boolean noProgress;
}
