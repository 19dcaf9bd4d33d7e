package dev.attune.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.io.AtomicFiles;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The run's metrics as JSON Lines, one object per event, flushed as it happens so a crashed run keeps its history:
 * <pre>
 * {"event":"start","step":0,"max_steps":1000,"trained_parameters":124439808,...}
 * {"event":"step","step":1,"loss":10.98,"lr":6.0E-5,"grad_norm":4.1,"clipped":true,"tokens":4096,
 *  "tokens_per_second":1800.5,"elapsed_s":2.3}
 * {"event":"evaluation","step":100,"val_loss":6.1,"val_perplexity":445.9,"improved":true}
 * {"event":"checkpoint","step":100,"path":"out/checkpoint-000100"}
 * {"event":"end","step":1000,"stopped_early":false,...}
 * </pre>
 */
final class MetricsLog implements TrainingListener, AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final BufferedWriter out;

    /**
     * Opens {@code file} for appending. When resuming from {@code resumeStep > 0}, records of later steps (written by
     * the interrupted run after its last checkpoint) are dropped first, so the log reads as one clean run.
     */
    MetricsLog(Path file, long resumeStep) throws IOException {
        if (resumeStep > 0 && Files.exists(file)) {
            List<String> kept = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                JsonNode step;
                try {
                    step = JSON.readTree(line).get("step");
                } catch (IOException e) {
                    continue; // a line cut short by a crash
                }
                if (step == null || step.asLong() <= resumeStep) {
                    kept.add(line);
                }
            }
            AtomicFiles.write(file, (String.join("\n", kept) + (kept.isEmpty() ? "" : "\n"))
                    .getBytes(StandardCharsets.UTF_8));
        } else if (resumeStep == 0) {
            Files.deleteIfExists(file);
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        out = Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    private void write(ObjectNode record) {
        try {
            out.write(JSON.writeValueAsString(record));
            out.write('\n');
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the metrics log", e);
        }
    }

    @Override
    public void onStart(TrainingStart s) {
        ObjectNode o = JSON.createObjectNode();
        o.put("event", "start");
        o.put("step", s.startStep());
        o.put("max_steps", s.maxSteps());
        o.put("trained_parameters", s.trainedParameters());
        o.put("tokens_per_step", s.tokensPerStep());
        o.put("truncated_examples", s.truncatedExamples());
        o.put("data", s.data());
        write(o);
    }

    @Override
    public void onStep(StepMetrics m) {
        ObjectNode o = JSON.createObjectNode();
        o.put("event", "step");
        o.put("step", m.step());
        o.put("loss", m.loss());
        o.put("lr", m.learningRate());
        o.put("grad_norm", m.gradientNorm());
        o.put("clipped", m.clipped());
        o.put("tokens", m.tokens());
        o.put("tokens_per_second", m.tokensPerSecond());
        o.put("elapsed_s", m.elapsedSeconds());
        write(o);
    }

    @Override
    public void onEvaluation(EvaluationMetrics e) {
        ObjectNode o = JSON.createObjectNode();
        o.put("event", "evaluation");
        o.put("step", e.step());
        o.put("val_loss", e.loss());
        o.put("val_perplexity", e.perplexity());
        o.put("improved", e.improved());
        write(o);
    }

    @Override
    public void onCheckpoint(long step, Path directory) {
        ObjectNode o = JSON.createObjectNode();
        o.put("event", "checkpoint");
        o.put("step", step);
        o.put("path", directory.toString());
        write(o);
    }

    @Override
    public void onEnd(TrainingResult r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("event", "end");
        o.put("step", r.steps());
        o.put("loss", r.lastLoss());
        o.put("best_val_loss", r.bestValidationLoss());
        o.put("best_step", r.bestStep());
        o.put("stopped_early", r.stoppedEarly());
        o.put("restored_best", r.restoredBest());
        write(o);
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
