package dev.attune.core.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A run's {@code metrics.jsonl} read back (the file {@link LmTraining} writes, see {@link LmTraining#METRICS_FILE}):
 * the steps, validation passes, checkpoints, and how the run started and ended.
 *
 * <p>A run killed mid-write leaves a last line cut short, and a crash can leave other debris; such lines (not one
 * JSON object, or an event without the fields it needs) are skipped and counted in {@link #skippedLines()}, with the
 * first few described in {@link #problems()}, so a reader of a broken run still sees everything that was written
 * whole. Events this version does not know are ignored (later versions may add some).
 *
 * <pre>{@code
 * MetricsHistory h = MetricsHistory.read(Path.of("runs/tiny/metrics.jsonl"));
 * h.steps().get(h.steps().size() - 1).loss();
 * if (h.skippedLines() > 0) System.err.println(h.problems());
 * }</pre>
 *
 * @param steps         one per optimizer step, in file order
 * @param evaluations   one per validation pass, in file order
 * @param checkpoints   one per checkpoint written
 * @param starts        one per start of the process (a resumed run has several)
 * @param end           the end record, absent while the run is going (or when it was killed)
 * @param skippedLines  lines that could not be read
 * @param problems      what was wrong with the first {@value #MAX_PROBLEMS} skipped lines ("line 7: ...")
 */
public record MetricsHistory(List<Step> steps, List<Evaluation> evaluations, List<Checkpoint> checkpoints,
                             List<Start> starts, Optional<End> end, int skippedLines, List<String> problems) {

    /** How many skipped lines are described in {@link #problems()}. */
    public static final int MAX_PROBLEMS = 5;

    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    public MetricsHistory {
        steps = List.copyOf(steps);
        evaluations = List.copyOf(evaluations);
        checkpoints = List.copyOf(checkpoints);
        starts = List.copyOf(starts);
        problems = List.copyOf(problems);
    }

    /**
     * One optimizer step.
     *
     * @param tokensSeen positions processed by the run up to and including this step (the running sum of
     *                   {@code tokens} over the steps read)
     */
    public record Step(long step, double loss, double learningRate, double gradientNorm, boolean clipped, long tokens,
                       long tokensSeen, double tokensPerSecond, double elapsedSeconds) {
    }

    /**
     * One validation pass.
     *
     * @param tokensSeen positions the run had processed when it ran (0 when no step before it was read)
     */
    public record Evaluation(long step, double loss, double perplexity, boolean improved, long tokensSeen) {
    }

    /** A checkpoint directory written at {@code step}. */
    public record Checkpoint(long step, String path) {
    }

    /** A (re)start: the step it started from, the planned end, trained parameters and the data's description. */
    public record Start(long step, long maxSteps, long trainedParameters, long tokensPerStep, String data) {
    }

    /** How the run ended; the validation fields are NaN and 0 without validation. */
    public record End(long step, double loss, double bestValidationLoss, long bestStep, boolean stoppedEarly) {
    }

    /** Reads {@code file}; unreadable lines are skipped and counted, a missing file is an error. */
    public static MetricsHistory read(Path file) throws IOException {
        List<Step> steps = new ArrayList<>();
        List<Evaluation> evaluations = new ArrayList<>();
        List<Checkpoint> checkpoints = new ArrayList<>();
        List<Start> starts = new ArrayList<>();
        End end = null;
        int skipped = 0;
        List<String> problems = new ArrayList<>();
        long tokensSeen = 0;
        // InputStreamReader replaces invalid UTF-8 (debris of a crash) instead of failing the whole read
        try (BufferedReader in = new BufferedReader(new InputStreamReader(Files.newInputStream(file),
                StandardCharsets.UTF_8))) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                try {
                    JsonNode o = parse(line);
                    switch (o.path("event").asText("")) {
                        case "step" -> {
                            Step s = new Step(whole(o, "step"), number(o, "loss"), number(o, "lr"),
                                    number(o, "grad_norm"), o.path("clipped").asBoolean(), whole(o, "tokens"),
                                    0, number(o, "tokens_per_second"), number(o, "elapsed_s"));
                            tokensSeen += s.tokens(); // only whole lines count
                            steps.add(new Step(s.step(), s.loss(), s.learningRate(), s.gradientNorm(), s.clipped(),
                                    s.tokens(), tokensSeen, s.tokensPerSecond(), s.elapsedSeconds()));
                        }
                        case "evaluation" -> evaluations.add(new Evaluation(whole(o, "step"), number(o, "val_loss"),
                                number(o, "val_perplexity"), o.path("improved").asBoolean(), tokensSeen));
                        case "checkpoint" -> checkpoints.add(new Checkpoint(whole(o, "step"), o.path("path").asText()));
                        case "start" -> starts.add(new Start(whole(o, "step"), whole(o, "max_steps"),
                                o.path("trained_parameters").asLong(), o.path("tokens_per_step").asLong(),
                                o.path("data").asText("")));
                        case "end" -> end = new End(whole(o, "step"), number(o, "loss"),
                                optionalNumber(o, "best_val_loss"), o.path("best_step").asLong(),
                                o.path("stopped_early").asBoolean());
                        case "" -> throw new IllegalArgumentException("no \"event\" field");
                        default -> {
                            // an event of a later version
                        }
                    }
                } catch (IllegalArgumentException e) {
                    skipped++;
                    if (problems.size() < MAX_PROBLEMS) {
                        problems.add("line " + number + ": " + e.getMessage());
                    }
                }
            }
        }
        return new MetricsHistory(steps, evaluations, checkpoints, starts, Optional.ofNullable(end), skipped,
                problems);
    }

    /** The last step read, if any. */
    public Optional<Step> lastStep() {
        return steps.isEmpty() ? Optional.empty() : Optional.of(steps.get(steps.size() - 1));
    }

    /** The validation pass with the lowest loss, if any. */
    public Optional<Evaluation> bestEvaluation() {
        Evaluation best = null;
        for (Evaluation e : evaluations) {
            if (best == null || e.loss() < best.loss()) {
                best = e;
            }
        }
        return Optional.ofNullable(best);
    }

    private static JsonNode parse(String line) {
        JsonNode o;
        try {
            o = JSON.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not one JSON object (cut short by a crash?): "
                    + e.getOriginalMessage());
        }
        if (o == null || !o.isObject()) {
            throw new IllegalArgumentException("not a JSON object");
        }
        return o;
    }

    private static long whole(JsonNode o, String key) {
        JsonNode n = o.get(key);
        if (n == null || !n.isIntegralNumber()) {
            throw new IllegalArgumentException(o.path("event").asText() + " event without a whole number \"" + key
                    + "\"" + (n == null ? "" : " (got " + n + ")"));
        }
        return n.longValue();
    }

    /** A number; JSON has no NaN or infinity, so Jackson writes them as strings, which count too. */
    private static double number(JsonNode o, String key) {
        JsonNode n = o.get(key);
        if (n != null && n.isNumber()) {
            return n.doubleValue();
        }
        if (n != null && n.isTextual() && (n.asText().equals("NaN") || n.asText().endsWith("Infinity"))) {
            return Double.parseDouble(n.asText());
        }
        throw new IllegalArgumentException(o.path("event").asText() + " event without a number \"" + key + "\""
                + (n == null ? "" : " (got " + n + ")"));
    }

    private static double optionalNumber(JsonNode o, String key) {
        JsonNode n = o.get(key);
        return n == null || n.isNull() ? Double.NaN : number(o, key);
    }
}
