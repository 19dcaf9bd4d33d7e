package dev.attune.examples.report;

import dev.attune.core.train.TrainingListener;
import dev.attune.core.train.TrainingResult;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Records a run ({@code run.json}) when it starts and, when asked, keeps its report page current: rewritten after
 * every validation pass, and a last time when the run ends. While the run goes on the page reloads itself in the
 * browser; the final page does not.
 *
 * <p>Pages are drawn on one background thread so training does not wait for them; when a page is still being drawn,
 * later requests fold into one. A page that cannot be written is reported once on standard error and does not stop
 * the training.
 */
final class LiveReport implements TrainingListener {

    /** How often the page in progress reloads itself. */
    static final int REFRESH_SECONDS = 15;

    private final Path runDirectory;
    private final CommandSpec spec;
    private final String method;
    private final String baseModel;
    private final Path page;
    private final PrintStream warnings;
    private final ExecutorService drawer;
    private final AtomicBoolean queued = new AtomicBoolean();
    private final AtomicBoolean warned = new AtomicBoolean();

    /** {@code page} null: record the run only. */
    LiveReport(Path runDirectory, CommandSpec spec, String method, String baseModel, Path page, PrintStream warnings) {
        this.runDirectory = runDirectory;
        this.spec = spec;
        this.method = method;
        this.baseModel = baseModel;
        this.page = page;
        this.warnings = warnings;
        this.drawer = page == null ? null : Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "attune-report");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void onStart(TrainingStart start) {
        try {
            RunRecord.write(runDirectory, spec, method, baseModel, start.startStep());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record the run in " + runDirectory.resolve(RunRecord.FILE), e);
        }
        requestPage();
    }

    @Override
    public void onEvaluation(EvaluationMetrics evaluation) {
        requestPage();
    }

    @Override
    public void onEnd(TrainingResult result) {
        if (drawer == null) {
            return;
        }
        drawer.shutdown();
        try {
            drawer.awaitTermination(2, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        draw(0);
    }

    /** Waits until the pages requested so far are written (for tests). */
    void awaitPages() throws InterruptedException, java.util.concurrent.ExecutionException {
        if (drawer != null && !drawer.isShutdown()) {
            drawer.submit(() -> { }).get();
        }
    }

    private void requestPage() {
        if (drawer != null && queued.compareAndSet(false, true)) {
            drawer.execute(() -> {
                queued.set(false);
                draw(REFRESH_SECONDS);
            });
        }
    }

    private void draw(int refreshSeconds) {
        try {
            RunReport.builder().run(runDirectory).refreshSeconds(refreshSeconds).build().write(page);
        } catch (IOException | RuntimeException e) {
            if (warned.compareAndSet(false, true)) {
                warnings.println("attune: cannot write the report " + page + ": " + e.getMessage()
                        + " (training goes on)");
            }
        }
    }
}
