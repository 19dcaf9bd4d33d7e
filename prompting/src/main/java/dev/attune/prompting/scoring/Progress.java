package dev.attune.prompting.scoring;

import dev.attune.core.train.ProgressLine;
import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress line for long evaluations: done/total, rate and ETA. On an interactive terminal it redraws in place
 * (at most five times a second); into a file or pipe it prints a plain line every 10%. {@link #silent()} prints
 * nothing. Not thread-safe.
 */
public class Progress {

    private static final Progress SILENT = new Progress(null, false);

    private final ProgressLine line; // null: silent
    private String label = "";
    private String unit = "";
    private long total;
    private long done;
    private long started;
    private long nextPlain;

    private Progress(PrintStream out, boolean interactive) {
        this.line = out == null ? null : new ProgressLine(out, interactive);
    }

    /** Progress on standard error, redrawn in place when a console is attached. */
    public static Progress stderr() {
        return new Progress(System.err, System.console() != null);
    }

    /** Plain lines on {@code out} (tests, logs). */
    public static Progress lines(PrintStream out) {
        return new Progress(out, false);
    }

    public static Progress silent() {
        return SILENT;
    }

    /** Starts a phase of {@code total} units. */
    public void start(String label, long total, String unit) {
        if (line == null) {
            return;
        }
        this.label = label;
        this.unit = unit;
        this.total = total;
        this.done = 0;
        this.started = System.nanoTime();
        this.nextPlain = Math.max(1, total / 10);
    }

    /** Records {@code n} more units done. */
    public void advance(long n) {
        if (line == null) {
            return;
        }
        done += n;
        boolean plainDue = done >= nextPlain;
        if (plainDue) {
            nextPlain = done + Math.max(1, total / 10);
        }
        line.update(() -> format(System.nanoTime()), done >= total, plainDue);
    }

    private String format(long now) {
        double seconds = Math.max(1e-9, (now - started) / 1e9);
        double rate = done / seconds;
        double eta = rate > 0 ? (total - done) / rate : Double.NaN;
        return String.format(Locale.ROOT, "%s %,d/%,d %s (%3d%%), %.1f %s/s, ETA %s", label, done, total, unit,
                total == 0 ? 100 : Math.round(100.0 * done / total), rate, unit,
                ProgressLine.duration(eta));
    }
}
