package dev.attune.examples.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attune.core.train.LmTraining;
import dev.attune.core.train.MetricsHistory;
import dev.attune.core.train.RunDirectory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One run directory as the report sees it: its metrics, what it recorded about its configuration
 * ({@code run.json}, the newest checkpoint's {@code trainer_state.json}, the model's {@code config.json}) and its
 * evaluation files. Whatever is missing is simply not shown; only {@code metrics.jsonl} is required.
 */
record RunData(Path directory, String label, MetricsHistory metrics, Optional<JsonNode> runRecord,
               Optional<JsonNode> trainerState, Optional<JsonNode> modelConfig,
               List<EvaluationResults> evaluations, List<String> problems) {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern CHECKPOINT = Pattern.compile("checkpoint-\\d+");

    static RunData load(Path directory, String label) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new NoSuchFileException(directory.toString(), null, "run directory not found");
        }
        Path metricsFile = directory.resolve(LmTraining.METRICS_FILE);
        if (!Files.isRegularFile(metricsFile)) {
            throw new NoSuchFileException(metricsFile.toString(), null,
                    "not a training run directory (no " + LmTraining.METRICS_FILE + ")");
        }
        MetricsHistory metrics = MetricsHistory.read(metricsFile);
        List<String> problems = new ArrayList<>();
        if (metrics.skippedLines() > 0) {
            problems.add(metricsFile + ": skipped " + metrics.skippedLines() + " unreadable line"
                    + (metrics.skippedLines() == 1 ? "" : "s") + " (" + String.join("; ", metrics.problems())
                    + (metrics.skippedLines() > metrics.problems().size() ? "; ..." : "") + ")");
        }
        Optional<Path> checkpoint = newestCheckpoint(directory);
        Optional<JsonNode> state = checkpoint.flatMap(c -> json(c.resolve("trainer_state.json"), problems));
        Path modelDir = directory.resolve(LmTraining.MODEL_DIRECTORY);
        Optional<JsonNode> config = Files.isRegularFile(modelDir.resolve("config.json"))
                ? json(modelDir.resolve("config.json"), problems)
                : checkpoint.flatMap(c -> Files.isRegularFile(c.resolve("config.json"))
                        ? json(c.resolve("config.json"), problems) : Optional.empty());
        List<EvaluationResults> evaluations = new ArrayList<>();
        for (Path file : EvaluationResults.files(directory)) {
            try {
                evaluations.add(EvaluationResults.read(file));
            } catch (IOException e) {
                problems.add(e.getMessage());
            }
        }
        return new RunData(directory, label, metrics, RunRecord.read(directory), state, config, evaluations,
                problems);
    }

    private static Optional<Path> newestCheckpoint(Path directory) throws IOException {
        try (Stream<Path> s = Files.list(directory)) {
            return s.filter(p -> CHECKPOINT.matcher(p.getFileName().toString()).matches())
                    .filter(p -> Files.isRegularFile(p.resolve("trainer_state.json")))
                    .max(Comparator.comparing(p -> p.getFileName().toString()));
        }
    }

    private static Optional<JsonNode> json(Path file, List<String> problems) {
        try {
            return Optional.ofNullable(JSON.readTree(file.toFile()));
        } catch (IOException e) {
            problems.add(file + ": not readable JSON, not shown (" + e.getMessage().lines().findFirst().orElse("")
                    + ")");
            return Optional.empty();
        }
    }

    /** What the run is doing now, in words. */
    String status() {
        Optional<MetricsHistory.End> end = metrics.end();
        long lastStep = metrics.lastStep().map(MetricsHistory.Step::step).orElse(0L);
        // a resumed run appends a start after an end: only an end after the last step counts
        if (end.isPresent() && end.get().step() >= lastStep) {
            return end.get().stoppedEarly() ? "stopped early at step " + end.get().step() : "finished";
        }
        // the run directory's lock names its owner while a run holds it and is emptied when the run lets go
        Map<String, String> owner = lockOwner();
        if (owner.isEmpty()) {
            return Files.exists(directory.resolve(RunDirectory.LOCK_FILE)) ? "stopped without finishing"
                    : "running or interrupted";
        }
        String pid = owner.getOrDefault("pid", "?");
        if (!THIS_HOST.equals(owner.get("host"))) {
            return "running on " + owner.getOrDefault("host", "another host") + " (pid " + pid + "), or killed";
        }
        boolean alive = false;
        try {
            alive = ProcessHandle.of(Long.parseLong(pid)).map(ProcessHandle::isAlive).orElse(false);
        } catch (NumberFormatException e) {
            // not a pid: say what is known
        }
        return alive ? "running (pid " + pid + ")" : "interrupted (pid " + pid + " is gone)";
    }

    private Map<String, String> lockOwner() {
        Map<String, String> owner = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(directory.resolve(RunDirectory.LOCK_FILE))) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    owner.put(line.substring(0, eq).strip(), line.substring(eq + 1).strip());
                }
            }
        } catch (IOException e) {
            // no lock file (a run of an older version, or not made by a run): nothing known
        }
        return owner;
    }

    private static final String THIS_HOST = host();

    private static String host() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/hostname")).strip();
        } catch (IOException | RuntimeException e) {
            try {
                return java.net.InetAddress.getLocalHost().getHostName();
            } catch (IOException e2) {
                return "";
            }
        }
    }

    long plannedSteps() {
        return metrics.starts().isEmpty() ? 0 : metrics.starts().get(metrics.starts().size() - 1).maxSteps();
    }

    /** Rows of the configuration table, in display order; values the run did not record are absent. */
    Map<String, String> configuration() {
        Map<String, String> rows = new LinkedHashMap<>();
        JsonNode run = runRecord.orElse(null);
        JsonNode state = trainerState.orElse(null);
        JsonNode config = modelConfig.orElse(null);
        JsonNode options = run == null ? null : run.path("options");
        if (run != null) {
            put(rows, "command", "attune " + run.path("command").asText());
            put(rows, "method", run.path("method").asText());
            put(rows, "base model", run.path("base_model").asText());
            put(rows, "training data", firstOption(options, "--corpus", "--data"));
            String fraction = firstOption(options, "--validation-fraction");
            put(rows, "validation data", firstOption(options, "--validation") != null
                    ? firstOption(options, "--validation")
                    : fraction == null ? null : "a share of " + fraction + " held out of the training data");
        }
        if (rows.get("training data") == null && !metrics.starts().isEmpty()) {
            put(rows, "training data", metrics.starts().get(0).data());
        }
        if (state != null && state.path("inputs").path("data_files").isArray()) {
            List<String> files = new ArrayList<>();
            for (JsonNode f : state.path("inputs").path("data_files")) {
                String sha = f.path("sha256").asText("");
                files.add(String.format(Locale.ROOT, "%s (%,d bytes, SHA-256 %s)", f.path("name").asText(),
                        f.path("bytes").asLong(), sha.length() > 16 ? sha.substring(0, 16) + "\u2026" : sha));
            }
            put(rows, "data files", String.join("; ", files));
        }
        if (config != null) {
            put(rows, "model shape", String.format(Locale.ROOT, "%d layers, %d heads, width %d, context %d, vocabulary %,d",
                    config.path("n_layer").asInt(), config.path("n_head").asInt(), config.path("n_embd").asInt(),
                    config.path("n_positions").asInt(), config.path("vocab_size").asInt()));
            put(rows, "dropout", config.has("resid_pdrop") ? number(config.path("resid_pdrop").asDouble()) : null);
        }
        if (!metrics.starts().isEmpty()) {
            put(rows, "trained parameters", String.format(Locale.ROOT, "%,d", metrics.starts().get(0).trainedParameters()));
        }
        if (state != null) {
            JsonNode data = state.path("data");
            int batch = data.path("batch_size").asInt();
            int accumulation = data.path("gradient_accumulation").asInt();
            int length = data.path("max_length").asInt();
            put(rows, "batch", String.format(Locale.ROOT, "%d rows x %d micro-batches x %d positions = %,d tokens/step",
                    batch, accumulation, length, (long) batch * accumulation * length));
            JsonNode s = state.path("schedule");
            put(rows, "learning rate", String.format(Locale.ROOT, "%s peak, %s, %d warm-up steps, floor %s",
                    number(s.path("peak").asDouble()), s.path("kind").asText(), s.path("warmup_steps").asLong(),
                    number(s.path("floor").asDouble())));
            JsonNode a = state.path("optimizer");
            put(rows, "optimizer", String.format(Locale.ROOT, "AdamW, betas (%s, %s), eps %s, weight decay %s%s",
                    number(a.path("beta1").asDouble()), number(a.path("beta2").asDouble()),
                    number(a.path("epsilon").asDouble()), number(a.path("weight_decay").asDouble()),
                    a.path("decay_embeddings").asBoolean() ? " (embeddings too)" : ""));
            double clip = state.path("clip_grad_norm").asDouble();
            put(rows, "gradient clipping", clip > 0 ? "global norm " + number(clip) : "off");
            put(rows, "seed", state.path("rng").path("seed").asText());
        } else if (options != null) {
            put(rows, "seed", options.path("--seed").asText(null));
            put(rows, "learning rate", options.path("--lr").asText(null));
        }
        long planned = plannedSteps();
        if (planned > 0) {
            put(rows, "planned steps", String.format(Locale.ROOT, "%,d", planned));
        }
        if (options != null) {
            put(rows, "evaluation", options.path("--eval-every").asInt() > 0
                    ? "every " + options.path("--eval-every").asText() + " steps" : "at the end");
        }
        if (run != null) {
            put(rows, "started", run.path("started").asText());
            put(rows, "attune version", run.path("attune_version").asText());
            put(rows, "commit", run.path("commit").asText("unknown"));
            put(rows, "java", run.path("java").asText());
        }
        return rows;
    }

    /** Every option the command recorded, as given or defaulted. */
    Map<String, String> options() {
        Map<String, String> out = new LinkedHashMap<>();
        runRecord.map(r -> r.path("options")).ifPresent(o -> o.fields()
                .forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText())));
        return out;
    }

    private static String firstOption(JsonNode options, String... names) {
        for (String n : names) {
            JsonNode v = options == null ? null : options.get(n);
            if (v != null && !v.isNull() && !v.asText().isEmpty()) {
                return v.asText();
            }
        }
        return null;
    }

    private static void put(Map<String, String> rows, String key, String value) {
        if (value != null && !value.isBlank()) {
            rows.put(key, value);
        }
    }

    /** A number without trailing noise: 6.0E-4 as 6e-4, 0.1 as 0.1, 1.0 as 1. */
    static String number(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        if (Math.abs(v) >= 1e-2 && Math.abs(v) < 1e6) {
            return new java.math.BigDecimal(v).round(new java.math.MathContext(6)).stripTrailingZeros()
                    .toPlainString();
        }
        return String.format(Locale.ROOT, "%.3e", v).replaceAll("(\\.\\d*?)0+e", "$1e").replace(".e", "e")
                .replace("e-0", "e-").replace("e+0", "e").replace("e+", "e");
    }
}
