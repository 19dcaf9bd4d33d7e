package dev.attune.examples.report;

import dev.attune.core.train.LmTraining;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;

/**
 * The {@code --report} option of the training commands, and the run record they all write: mix into a command
 * with {@code @Mixin} and pass its training builder through {@link #attach}.
 */
public final class ReportOptions {

    /** The page's file name inside the run directory. */
    public static final String PAGE = "report.html";

    @Option(names = "--report",
            description = "write OUT/" + PAGE + " and refresh it at every evaluation (open it in a browser)")
    boolean report;

    /**
     * Adds the listener that writes {@code out/run.json} when training starts and, with {@code --report}, keeps
     * {@code out/report.html} current.
     *
     * @param method    how the weights are trained, in words ("pretraining from scratch", "full fine-tuning")
     * @param baseModel what the run starts from (a model directory, a config name)
     */
    public LmTraining.Builder attach(LmTraining.Builder builder, CommandSpec spec, Path out, String method,
                                     String baseModel) {
        return builder.listener(new LiveReport(out, spec, method, baseModel, report ? out.resolve(PAGE) : null,
                System.err));
    }
}
