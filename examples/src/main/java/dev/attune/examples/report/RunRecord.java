package dev.attune.examples.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * How a training run was started, for the report's provenance table: {@code RUN_DIR/run.json}, written by
 * {@code attune pretrain} and {@code attune finetune} before the first step.
 *
 * <pre>
 * {"format":"attune-run","version":1,"command":"finetune","method":"full fine-tuning","base_model":"gpt2",
 *  "started":"2026-12-02T04:50:00Z","attune_version":"0.1.0-SNAPSHOT","commit":"84339ec5d1a2","java":"17.0.12",
 *  "options":{"--lr":"5.0E-5","--batch":"8",...}}
 * </pre>
 *
 * {@code options} holds every option of the command with the value it ran with (defaults included), as text.
 * {@code commit} is the git commit of the Attune checkout the command ran from ({@code -dirty} when it had
 * uncommitted changes), or {@code ATTUNE_COMMIT} when set, or absent when neither is known.
 */
public final class RunRecord {

    /** The file name inside a run directory. */
    public static final String FILE = "run.json";
    static final String FORMAT = "attune-run";

    private static final ObjectMapper JSON = new ObjectMapper();

    private RunRecord() {
    }

    /**
     * Writes {@code runDirectory/run.json} for the command {@code spec} describes, as it was parsed.
     *
     * @param method    how the weights are trained, in words ("pretraining from scratch", "full fine-tuning", ...)
     * @param baseModel what the run starts from (a model directory or a config name)
     * @param startStep 0 for a new run; for a resumed one the step it resumes from (the first start time is kept)
     */
    public static void write(Path runDirectory, CommandSpec spec, String method, String baseModel, long startStep)
            throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("version", 1);
        o.put("command", spec.name());
        o.put("method", method);
        o.put("base_model", baseModel);
        String now = Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
        Optional<JsonNode> before = startStep > 0 ? read(runDirectory) : Optional.empty();
        o.put("started", before.map(b -> b.path("started").asText(now)).orElse(now));
        if (startStep > 0) {
            o.put("resumed", now);
            o.put("resumed_from_step", startStep);
        }
        String version = RunRecord.class.getPackage().getImplementationVersion();
        o.put("attune_version", version == null ? "development build" : version);
        commit().ifPresent(c -> o.put("commit", c));
        o.put("java", System.getProperty("java.version"));
        ObjectNode options = o.putObject("options");
        for (OptionSpec option : spec.options()) {
            if (option.usageHelp() || option.versionHelp()) {
                continue;
            }
            Object value = option.getValue();
            if (value != null) {
                options.put(option.longestName(), value instanceof java.util.Collection<?> c
                        ? String.join(" ", c.stream().map(String::valueOf).toList()) : String.valueOf(value));
            }
        }
        Files.createDirectories(runDirectory);
        AtomicFiles.write(runDirectory.resolve(FILE), (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o)
                + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** The run record of {@code runDirectory}, if it has a readable one. */
    static Optional<JsonNode> read(Path runDirectory) {
        Path file = runDirectory.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            JsonNode o = JSON.readTree(file.toFile());
            return o != null && FORMAT.equals(o.path("format").asText()) ? Optional.of(o) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The commit of the checkout this code runs from, if it is one and git answers within a few seconds. */
    static Optional<String> commit() {
        String env = System.getenv("ATTUNE_COMMIT");
        if (env != null && !env.isBlank()) {
            return Optional.of(env.strip());
        }
        try {
            Path code = Path.of(RunRecord.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path dir = Files.isDirectory(code) ? code : code.getParent();
            String head = git(dir, "rev-parse", "--short=12", "HEAD");
            if (head == null || head.isEmpty()) {
                return Optional.empty();
            }
            String changes = git(dir, "status", "--porcelain", "--untracked-files=no");
            return Optional.of(changes == null || changes.isEmpty() ? head : head + "-dirty");
        } catch (Exception e) {
            return Optional.empty(); // not from a checkout, no git, no permission: the commit is simply unknown
        }
    }

    private static String git(Path dir, String... args) throws IOException, InterruptedException {
        String[] command = new String[args.length + 3];
        command[0] = "git";
        command[1] = "-C";
        command[2] = dir.toString();
        System.arraycopy(args, 0, command, 3, args.length);
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(5, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return null;
        }
        return p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8).strip() : null;
    }
}
