package dev.attune.examples.report;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code attune report RUN_DIR [RUN_DIR ...] [--out report.html] [--png DIR]}: one self-contained HTML page on the
 * runs (see {@link RunReport}), and optionally the same charts as PNG files.
 */
@Command(name = "report",
        mixinStandardHelpOptions = true,
        description = {"Write an offline HTML page on training runs: curves overlaid, configuration, evaluations.",
                "Reads RUN_DIR/metrics.jsonl, run.json, checkpoint-N/trainer_state.json, model/config.json and "
                        + "evaluations/*.json; nothing is fetched when the page is opened."})
public final class ReportCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The {@code --output} choices. */
    enum Format {
        text,
        json
    }

    @Spec
    private CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "RUN_DIR", description = "training output directories, overlaid in order")
    private List<Path> runs;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "report.html",
            description = "the page to write")
    private Path out;

    @Option(names = "--png", paramLabel = "DIR", description = "also write every chart as a PNG file into DIR (default: no PNG files)")
    private Path pngDirectory;

    @Option(names = "--title", paramLabel = "TEXT", description = "the page's heading (default: \"Attune run report\")")
    private String title;

    @Option(names = "--output", paramLabel = "FORMAT", defaultValue = "text", description = "text or json")
    private Format output;

    @Override
    public Integer call() throws IOException {
        RunReport report = RunReport.builder().runs(runs).title(title).build();
        report.write(out);
        List<Path> pngs = pngDirectory == null ? List.of() : report.writePngs(pngDirectory);
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        if (output == Format.json) {
            ObjectNode o = JSON.createObjectNode();
            o.put("report", out.toString());
            o.put("runs", runs.size());
            o.put("skipped_lines", report.skippedLines());
            ArrayNode problems = o.putArray("problems");
            report.problems().forEach(problems::add);
            ArrayNode png = o.putArray("png");
            pngs.forEach(p -> png.add(p.toString()));
            stdout.println(JSON.writeValueAsString(o));
        } else {
            for (String p : report.problems()) {
                stderr.println("attune report: " + p);
            }
            stdout.println("wrote " + out + (pngs.isEmpty() ? "" : " and " + pngs.size() + " PNG files in "
                    + pngDirectory));
        }
        stdout.flush();
        stderr.flush();
        return 0;
    }
}
