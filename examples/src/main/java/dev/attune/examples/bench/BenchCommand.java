package dev.attune.examples.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.engine.Engine;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code attune bench WORKLOAD...}: times fixed-shape workloads with random weights and prints one JSON line each,
 * with the keys {@code bench/pytorch_peer.py} prints, so {@code bench/run.sh} can set them side by side.
 *
 * <p>BLAS and threads come from the engine settings ({@code ATTUNE_BLAS}, {@code ATTUNE_THREADS}). Run one workload
 * per process when the peak RSS matters: it is the high-water mark of the whole process.
 */
@Command(name = "bench",
        mixinStandardHelpOptions = true,
        description = {"Time fixed-shape workloads (random weights) and print one JSON line per workload.",
                "bench/run.sh sets them beside PyTorch; see BENCHMARKS.md."})
public final class BenchCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    private CommandSpec spec;

    @Option(names = "--list", description = "print the workload names, one a line, and exit")
    private boolean list;

    @Parameters(arity = "0..*", paramLabel = "WORKLOAD", completionCandidates = Names.class,
            description = "what to run: ${COMPLETION-CANDIDATES}, or all")
    private List<String> workloads;

    @Option(names = "--warmup", paramLabel = "N",
            description = "untimed iterations (default: per workload; 0 with --smoke)")
    private Integer warmup;

    @Option(names = "--iters", paramLabel = "N",
            description = "timed iterations (default: per workload; 1 with --smoke)")
    private Integer iters;

    @Option(names = "--smoke", description = "tiny shapes and one iteration: checks that every workload runs")
    private boolean smoke;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        if (list) {
            Workloads.all().keySet().forEach(out::println);
            out.flush();
            return 0;
        }
        if (workloads == null || workloads.isEmpty()) {
            throw new IllegalArgumentException("name at least one workload (or all); --list prints them");
        }
        List<Workload> selected = select(workloads);
        Engine.Info engine = Engine.init();
        for (Workload w : selected) {
            Settings settings = new Settings(
                    warmup != null ? warmup : smoke ? 0 : w.defaultWarmup(),
                    iters != null ? iters : smoke ? 1 : w.defaultIters(),
                    smoke);
            Measurement m = w.body().run(settings);
            out.println(line(w, settings, m, engine));
            out.flush();
        }
        return 0;
    }

    static List<Workload> select(List<String> names) {
        Map<String, Workload> all = Workloads.all();
        List<Workload> out = new ArrayList<>();
        for (String name : names) {
            if (name.equals("all")) {
                out.addAll(all.values());
            } else if (all.containsKey(name)) {
                out.add(all.get(name));
            } else {
                throw new IllegalArgumentException("unknown workload '" + name + "'; known: "
                        + String.join(", ", all.keySet()) + ", all");
            }
        }
        return out;
    }

    private static String line(Workload w, Settings s, Measurement m, Engine.Info engine)
            throws JsonProcessingException {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("impl", w.impl());
        o.put("blas", w.usesBlas() ? engine.blas().toLowerCase(Locale.ROOT) : "none");
        o.put("version", version());
        o.put("workload", w.reportedName());
        o.put("threads", engine.threads());
        o.put("warmup", s.warmup());
        o.put("iters", s.iterations());
        o.put("seconds_median", m.median());
        o.put("seconds_min", m.min());
        o.put("seconds_max", m.max());
        o.put("value", m.workPerIteration() / m.median() * w.scale());
        o.put("unit", w.unit());
        o.put("peak_rss_mb", ProcessMemory.peakRssMb());
        o.put("smoke", s.smoke());
        o.putAll(m.fields());
        return JSON.writeValueAsString(o);
    }

    private static String version() {
        String v = BenchCommand.class.getPackage().getImplementationVersion();
        return "attune " + (v == null ? "dev" : v) + ", nd4j " + nd4jVersion();
    }

    private static String nd4jVersion() {
        try (InputStream in = Nd4j.class.getResourceAsStream("/META-INF/maven/org.nd4j/nd4j-api/pom.properties")) {
            if (in == null) {
                return "unknown";
            }
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** Workload names for picocli's help text. */
    static final class Names extends ArrayList<String> {
        Names() {
            super(Workloads.all().keySet());
        }
    }
}
