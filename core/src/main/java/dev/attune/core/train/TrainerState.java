package dev.attune.core.train;
import dev.attune.core.data.Seeds;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.attune.core.io.AtomicFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Everything besides weights and optimizer moments that a run needs to continue exactly: {@code trainer_state.json}
 * in a checkpoint directory.
 *
 * <p>Randomness is counter-based ({@link Seeds}): the seed plus the number of micro-batches drawn is the whole
 * state of every random stream (data sampling and dropout), so that is what is stored.
 *
 * @param step                  optimizer steps done
 * @param maxSteps              the run's planned length
 * @param seed                  the run's seed
 * @param microBatches          micro-batches drawn so far (the data position)
 * @param batchSize             rows per micro-batch
 * @param accumulation          micro-batches per step
 * @param maxLength             training context
 * @param schedule              the learning-rate schedule
 * @param optimizer             AdamW's settings
 * @param optimizerUpdates      AdamW's update count (its {@code t})
 * @param clipGradNorm          the clipping threshold, 0 when off
 * @param bestValidationLoss    best validation loss so far (NaN if none)
 * @param bestStep              step of that loss
 * @param evaluationsWithoutImprovement  for early stopping's patience
 * @param tokens                positions processed so far
 * @param elapsedSeconds        training wall time so far
 * @param lastLoss              loss of the last step
 * @param inputs                what the run trained and on what; null in checkpoints written before it was recorded
 */
record TrainerState(long step, long maxSteps, long seed, long microBatches, int batchSize, int accumulation,
                    int maxLength, LearningRateSchedule schedule, AdamW optimizer, long optimizerUpdates,
                    double clipGradNorm, double bestValidationLoss, long bestStep, int evaluationsWithoutImprovement,
                    long tokens, double elapsedSeconds, double lastLoss, Inputs inputs) {

    /**
     * What a resumed run must match: the trained tensors (name and shape), the data's description and the files
     * the data came from.
     */
    record Inputs(List<String> tensors, String data, List<DataFile> dataFiles) {
        Inputs {
            tensors = List.copyOf(tensors);
            dataFiles = List.copyOf(dataFiles);
        }
    }

    /** A data file by name, size and SHA-256. */
    record DataFile(String name, long bytes, String sha256) {

        static DataFile of(Path file) throws IOException {
            if (!Files.isRegularFile(file)) {
                throw new NoSuchFileException(file.toString(), null, "data file not found");
            }
            MessageDigest sha;
            try {
                sha = MessageDigest.getInstance("SHA-256");
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e); // every Java platform has SHA-256
            }
            long bytes = 0;
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buffer = new byte[1 << 20];
                int n;
                while ((n = in.read(buffer)) > 0) {
                    sha.update(buffer, 0, n);
                    bytes += n;
                }
            }
            return new DataFile(file.getFileName().toString(), bytes, HexFormat.of().formatHex(sha.digest()));
        }

        @Override
        public String toString() {
            return name + " (" + bytes + " bytes, sha256 " + sha256.substring(0, Math.min(12, sha256.length())) + ")";
        }
    }

    static final String FILE = "trainer_state.json";
    private static final String FORMAT = "attune-trainer-state";
    private static final ObjectMapper JSON = new ObjectMapper();

    void write(Path directory) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("version", 2);
        o.put("step", step);
        o.put("max_steps", maxSteps);
        ObjectNode rng = o.putObject("rng");
        rng.put("kind", "counter-based (SplitMix64 of seed and micro-batch index)");
        rng.put("seed", seed);
        rng.put("micro_batches", microBatches);
        ObjectNode data = o.putObject("data");
        data.put("micro_batches", microBatches);
        data.put("batch_size", batchSize);
        data.put("gradient_accumulation", accumulation);
        data.put("max_length", maxLength);
        ObjectNode s = o.putObject("schedule");
        s.put("kind", schedule.kind().name().toLowerCase(java.util.Locale.ROOT));
        s.put("peak", schedule.peak());
        s.put("warmup_steps", schedule.warmupSteps());
        s.put("total_steps", schedule.totalSteps());
        s.put("floor", schedule.floor());
        ObjectNode a = o.putObject("optimizer");
        a.put("kind", "adamw");
        a.put("beta1", optimizer.beta1());
        a.put("beta2", optimizer.beta2());
        a.put("epsilon", optimizer.epsilon());
        a.put("weight_decay", optimizer.weightDecay());
        a.put("decay_embeddings", optimizer.decayEmbeddings());
        a.put("updates", optimizerUpdates);
        o.put("clip_grad_norm", clipGradNorm);
        ObjectNode v = o.putObject("validation");
        putDouble(v, "best_loss", bestValidationLoss);
        v.put("best_step", bestStep);
        v.put("evaluations_without_improvement", evaluationsWithoutImprovement);
        o.put("tokens", tokens);
        o.put("elapsed_s", elapsedSeconds);
        putDouble(o, "last_loss", lastLoss);
        if (inputs != null) {
            ObjectNode in = o.putObject("inputs");
            ArrayNode t = in.putArray("tensors");
            inputs.tensors().forEach(t::add);
            in.put("data", inputs.data());
            ArrayNode files = in.putArray("data_files");
            for (DataFile f : inputs.dataFiles()) {
                files.addObject().put("name", f.name()).put("bytes", f.bytes()).put("sha256", f.sha256());
            }
        }
        AtomicFiles.write(directory.resolve(FILE),
                (JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** JSON has no NaN: missing values are written as null. */
    private static void putDouble(ObjectNode o, String key, double value) {
        if (Double.isFinite(value)) {
            o.put(key, value);
        } else {
            o.putNull(key);
        }
    }

    static TrainerState read(Path directory) throws IOException {
        Path file = directory.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "not a training checkpoint (no " + FILE + ")");
        }
        JsonNode o = dev.attune.core.io.StrictJson.readFile(file);
        if (!FORMAT.equals(o.path("format").asText())) {
            throw new IOException(file + ": not an Attune trainer state (\"format\" is not \"" + FORMAT + "\")");
        }
        try {
            JsonNode s = field(o, "schedule");
            JsonNode a = field(o, "optimizer");
            JsonNode d = field(o, "data");
            JsonNode v = field(o, "validation");
            field(o, "rng");
            LearningRateSchedule schedule = new LearningRateSchedule(
                    LearningRateSchedule.Kind.valueOf(text(s, "kind").toUpperCase(java.util.Locale.ROOT)),
                    number(s, "peak"), whole(s, "warmup_steps"), whole(s, "total_steps"), number(s, "floor"));
            AdamW adamW = new AdamW(number(a, "beta1"), number(a, "beta2"), number(a, "epsilon"),
                    number(a, "weight_decay"), a.path("decay_embeddings").asBoolean());
            return new TrainerState(whole(o, "step"), whole(o, "max_steps"), whole(o.get("rng"), "seed"),
                    whole(d, "micro_batches"), (int) whole(d, "batch_size"), (int) whole(d, "gradient_accumulation"),
                    (int) whole(d, "max_length"), schedule, adamW, whole(a, "updates"), number(o, "clip_grad_norm"),
                    v.path("best_loss").isNumber() ? v.get("best_loss").doubleValue() : Double.NaN,
                    whole(v, "best_step"), (int) whole(v, "evaluations_without_improvement"), whole(o, "tokens"),
                    number(o, "elapsed_s"),
                    o.path("last_loss").isNumber() ? o.get("last_loss").doubleValue() : Double.NaN,
                    o.has("inputs") ? inputs(o.get("inputs")) : null);
        } catch (RuntimeException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    private static Inputs inputs(JsonNode in) {
        List<String> tensors = new ArrayList<>();
        for (JsonNode t : array(in, "tensors")) {
            tensors.add(t.asText());
        }
        List<DataFile> files = new ArrayList<>();
        for (JsonNode f : array(in, "data_files")) {
            files.add(new DataFile(text(f, "name"), whole(f, "bytes"), text(f, "sha256")));
        }
        return new Inputs(tensors, text(in, "data"), files);
    }

    private static JsonNode array(JsonNode node, String key) {
        JsonNode n = field(node, key);
        if (!n.isArray()) {
            throw new IllegalArgumentException("\"" + key + "\" must be an array, got " + n);
        }
        return n;
    }

    private static JsonNode field(JsonNode node, String key) {
        JsonNode n = node == null ? null : node.get(key);
        if (n == null || n.isNull()) {
            throw new IllegalArgumentException("missing \"" + key + "\"");
        }
        return n;
    }

    private static String text(JsonNode node, String key) {
        return field(node, key).asText();
    }

    private static double number(JsonNode node, String key) {
        JsonNode n = field(node, key);
        if (!n.isNumber()) {
            throw new IllegalArgumentException("\"" + key + "\" must be a number, got " + n);
        }
        return n.doubleValue();
    }

    private static long whole(JsonNode node, String key) {
        JsonNode n = field(node, key);
        if (!n.isIntegralNumber()) {
            throw new IllegalArgumentException("\"" + key + "\" must be an integer, got " + n);
        }
        return n.longValue();
    }
}
