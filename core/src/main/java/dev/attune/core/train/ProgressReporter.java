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
    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream out;
    private final boolean interactive;
    private long lastDraw;
    private long printEvery = 1;
    private int lastWidth;

    ProgressReporter(PrintStream out, boolean interactive) {
        this.out = out;
        this.interactive = interactive;
    }

    @Override
    public void onStart(TrainingStart s) {
        printEvery = Math.max(1, (s.maxSteps() - s.startStep()) / 20);
        String truncated = s.truncatedExamples() > 0
                ? String.format(Locale.ROOT, "; warning: %,d examples are longer than the context and are cut",
                        s.truncatedExamples())
                : "";
        line(String.format(Locale.ROOT, "training %,d parameters on %s, steps %,d to %,d%s", s.trainedParameters(),
                s.data(), s.startStep() + 1, s.maxSteps(), truncated));
    }

    @Override
    public void onStep(StepMetrics m) {
        long now = System.nanoTime();
        boolean last = m.step() == m.maxSteps();
        if (interactive) {
            if (last || now - lastDraw >= REDRAW_NANOS) {
                lastDraw = now;
                String text = format(m);
                out.print("\r" + text + " ".repeat(Math.max(0, lastWidth - text.length())));
                lastWidth = text.length();
                if (last) {
                    out.println();
                    lastWidth = 0;
                }
                out.flush();
            }
        } else if (last || m.step() % printEvery == 0) {
            out.println(format(m));
            out.flush();
        }
    }

    static String format(StepMetrics m) {
        double fraction = m.maxSteps() == 0 ? 1 : (double) m.step() / m.maxSteps();
        int filled = (int) Math.round(fraction * BAR);
        return String.format(Locale.ROOT, "step %,d/%,d %3d%% |%s%s| loss %.4f  lr %.2e  %s tok/s  ETA %s",
                m.step(), m.maxSteps(), Math.round(fraction * 100), "#".repeat(filled), " ".repeat(BAR - filled),
                m.loss(), m.learningRate(), compact(m.tokensPerSecond()), duration(m.etaSeconds()));
    }

    @Override
    public void onEvaluation(EvaluationMetrics e) {
        line(String.format(Locale.ROOT, "step %,d: validation loss %.4f, perplexity %.2f%s", e.step(), e.loss(),
                e.perplexity(), e.improved() ? " (best so far)" : String.format(Locale.ROOT,
                        " (best %.4f at step %,d)", e.bestLoss(), e.bestStep())));
    }

    @Override
    public void onEnd(TrainingResult r) {
        line(String.format(Locale.ROOT, "done after %,d steps%s%s", r.steps(),
                r.stoppedEarly() ? " (stopped early: validation loss stopped improving)" : "",
                r.restoredBest() ? String.format(Locale.ROOT, "; kept the weights of step %,d", r.bestStep()) : ""));
    }

    /** A whole line, clearing a progress line being redrawn. */
    private void line(String text) {
        if (interactive && lastWidth > 0) {
            out.print("\r" + " ".repeat(lastWidth) + "\r");
            lastWidth = 0;
        }
        out.println(text);
        out.flush();
    }

    static String compact(double v) {
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.1fM", v / 1e6);
        }
        if (v >= 1e4) {
            return String.format(Locale.ROOT, "%.1fk", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", v);
    }

    static String duration(double seconds) {
        if (!Double.isFinite(seconds) || seconds < 0) {
            return "?";
        }
        long s = Math.round(seconds);
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, s % 3600 / 60);
        }
        if (s >= 60) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        return s + "s";
    }
}
