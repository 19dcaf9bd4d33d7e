package dev.attune.core.train;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * One progress line on a stream: on an interactive terminal it redraws in place (at most five times a second, and
 * always for the last update); into a file or a pipe it prints a plain line only when the caller says one is due,
 * so logs stay readable. Training's progress ({@code ProgressReporter}) and long evaluations both draw through it.
 * Not thread-safe.
 */
public final class ProgressLine {

    private static final long REDRAW_NANOS = 200_000_000L;

    private final PrintStream out;
    private final boolean interactive;
    private long lastDraw;
    private int lastWidth;

    /** @param interactive whether {@code out} is a terminal, where the line redraws in place */
    public ProgressLine(PrintStream out, boolean interactive) {
        this.out = out;
        this.interactive = interactive;
    }

    /**
     * Shows the progress {@code text}: redrawn in place on a terminal, else printed when {@code plainDue} or
     * {@code last}; after the {@code last} update the line is ended. The text is only built when it is shown.
     */
    public void update(Supplier<String> text, boolean last, boolean plainDue) {
        if (interactive) {
            long now = System.nanoTime();
            if (last || now - lastDraw >= REDRAW_NANOS) {
                lastDraw = now;
                String t = text.get();
                out.print("\r" + t + " ".repeat(Math.max(0, lastWidth - t.length())));
                lastWidth = t.length();
                if (last) {
                    out.println();
                    lastWidth = 0;
                }
                out.flush();
            }
        } else if (last || plainDue) {
            out.println(text.get());
            out.flush();
        }
    }

    /** A whole line of its own, first clearing a progress line being redrawn. */
    public void line(String text) {
        if (interactive && lastWidth > 0) {
            out.print("\r" + " ".repeat(lastWidth) + "\r");
            lastWidth = 0;
        }
        out.println(text);
        out.flush();
    }

    /** A rate in few characters: {@code 950}, {@code 12.3k}, {@code 1.2M}. */
    public static String compact(double v) {
        if (v >= 1e6) {
            return String.format(Locale.ROOT, "%.1fM", v / 1e6);
        }
        if (v >= 1e4) {
            return String.format(Locale.ROOT, "%.1fk", v / 1e3);
        }
        return String.format(Locale.ROOT, "%.0f", v);
    }

    /** A duration such as {@code 45s}, {@code 3m07s}, {@code 2h05m}; {@code ?} when unknown. */
    public static String duration(double seconds) {
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
