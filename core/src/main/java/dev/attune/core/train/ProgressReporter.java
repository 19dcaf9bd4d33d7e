package dev.attune.core.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The terminal progress line: step/total, a bar, loss, learning rate, tokens/s and ETA.
 *
 * <p>On an interactive terminal the line redraws in place (at most five times a second); when the output is a file
 * or a pipe it prints a plain line every 5% instead, so logs stay readable. Written here rather than taken from a
 * progress-bar library: the line has training-specific fields, it needs the non-terminal mode, and a library
 * (me.tongfei:progressbar) would bring JLine, whose version then has to be aligned with Tribuo's.
 */
final class ProgressReporter implements TrainingListener {

    private static final int BAR = 20;

    private final ProgressLine line;
    private long printEvery = 1;

    ProgressReporter(PrintStream out, boolean interactive) {
        this.line = new ProgressLine(out, interactive);
    }

    @Override
    public void onStart(TrainingStart s) {
        printEvery = Math.max(1, (s.maxSteps() - s.startStep()) / 20);
        String truncated = s.truncatedExamples() > 0
                ? String.format(Locale.ROOT, "; warning: %,d examples are longer than the context and are cut",
                        s.truncatedExamples())
                : "";
        line.line(String.format(Locale.ROOT, "training %,d parameters on %s, steps %,d to %,d%s", s.trainedParameters(),
                s.data(), s.startStep() + 1, s.maxSteps(), truncated));
    }

    @Override
    public void onStep(StepMetrics m) {
        line.update(() -> format(m), m.step() == m.maxSteps(), m.step() % printEvery == 0);
    }

    static String format(StepMetrics m) {
        double fraction = m.maxSteps() == 0 ? 1 : (double) m.step() / m.maxSteps();
        int filled = (int) Math.round(fraction * BAR);
        return String.format(Locale.ROOT, "step %,d/%,d %3d%% |%s%s| loss %.4f  lr %.2e  %s tok/s  ETA %s",
                m.step(), m.maxSteps(), Math.round(fraction * 100), "#".repeat(filled), " ".repeat(BAR - filled),
                m.loss(), m.learningRate(), ProgressLine.compact(m.tokensPerSecond()), ProgressLine.duration(m.etaSeconds()));
    }

    @Override
    public void onEvaluation(EvaluationMetrics e) {
        line.line(String.format(Locale.ROOT, "step %,d: validation loss %.4f, perplexity %.2f%s", e.step(), e.loss(),
                e.perplexity(), e.improved() ? " (best so far)" : String.format(Locale.ROOT,
                        " (best %.4f at step %,d)", e.bestLoss(), e.bestStep())));
    }

    @Override
    public void onEnd(TrainingResult r) {
        line.line(String.format(Locale.ROOT, "done after %,d steps%s%s", r.steps(),
                r.stoppedEarly() ? " (stopped early: validation loss stopped improving)" : "",
                r.restoredBest() ? String.format(Locale.ROOT, "; kept the weights of step %,d", r.bestStep()) : ""));
    }
}
