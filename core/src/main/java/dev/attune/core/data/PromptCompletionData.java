package dev.attune.core.data;

import com.fasterxml.jackson.databind.JsonNode;
import dev.attune.core.io.StrictJson;
import dev.attune.core.model.TokenBatch;
import dev.attune.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Supervised fine-tuning data: (prompt, completion) pairs where the model learns to produce the completion and the
 * loss counts only completion tokens (and the end-of-sequence token after them, so the model learns to stop).
 *
 * <p>Each example is {@code prompt + completion + eos}; rows of a batch are padded on the right to the longest row,
 * with padding and prompt positions excluded from the loss (targets {@link TokenBatch#IGNORE}). Causal attention
 * needs no padding mask for right padding.
 *
 * <p>An example longer than the context is cut, never dropped silently: the prompt loses tokens from its start
 * (keeping the part next to the completion); if the completion alone does not fit, one prompt token is kept and the
 * completion loses its end. {@link #truncatedExamples(int)} counts them, and the trainer warns.
 *
 * <p>Training rows come epoch by epoch, each epoch a seeded shuffle of all examples. Immutable and thread-safe.
 */
public final class PromptCompletionData implements TrainingData {

    /** One tokenized pair. */
    public record Example(int[] prompt, int[] completion) {
        public Example {
            prompt = prompt.clone();
            completion = completion.clone();
        }

        @Override
        public int[] prompt() {
            return prompt.clone();
        }

        @Override
        public int[] completion() {
            return completion.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Example e && Arrays.equals(e.prompt, prompt) && Arrays.equals(e.completion, completion);
        }

        @Override
        public int hashCode() {
            return 31 * Arrays.hashCode(prompt) + Arrays.hashCode(completion);
        }

        @Override
        public String toString() {
            return "Example[" + prompt.length + " prompt + " + completion.length + " completion tokens]";
        }
    }


    private final List<Example> examples;
    private final int eosToken;
    private final String name;
    private volatile Shuffle shuffle; // the last epoch's order, recomputed on demand

    private record Shuffle(long seed, long epoch, int[] order) {
    }

    private PromptCompletionData(List<Example> examples, int eosToken, String name) {
        if (examples.isEmpty()) {
            throw new IllegalArgumentException(name + " has no examples");
        }
        for (int i = 0; i < examples.size(); i++) {
            if (examples.get(i).completion.length == 0) {
                throw new IllegalArgumentException(name + ", example " + (i + 1) + ": the completion is empty");
            }
        }
        this.examples = List.copyOf(examples);
        this.eosToken = eosToken;
        this.name = name;
    }

    /** Pairs already tokenized; {@code eosToken} ends every completion. */
    public static PromptCompletionData of(List<Example> examples, int eosToken) {
        return new PromptCompletionData(examples, eosToken, "prompt/completion pairs");
    }

    /**
     * Reads JSON Lines with one {@code {"prompt": "...", "completion": "..."}} object per line (blank lines are
     * skipped, other keys ignored; a key given twice, a second value on a line or invalid UTF-8 is an error) and tokenizes prompt and completion separately, as they are met at generation
     * time. The tokenizer's end-of-sequence token ends every completion.
     *
     * @throws IOException naming the file and line of anything malformed
     */
    public static PromptCompletionData readJsonl(Path file, Tokenizer tokenizer) throws IOException {
        int eos = TokenFile.endOfSequence(tokenizer);
        if (!Files.isRegularFile(file)) {
            throw new NoSuchFileException(file.toString(), null, "prompt/completion file not found");
        }
        List<Example> examples = new ArrayList<>();
        // strict: two objects on a line, text after the object, a key given twice, or invalid UTF-8 are errors
        StrictJson.readLines(file, true, (lineNumber, o) -> {
            if (!o.isObject()) {
                throw new IOException(file + ", line " + lineNumber + ": expected a JSON object");
            }
            String prompt = text(o, "prompt", file, lineNumber);
            String completion = text(o, "completion", file, lineNumber);
            if (completion.isEmpty()) {
                throw new IOException(file + ", line " + lineNumber + ": \"completion\" is empty");
            }
            try {
                examples.add(new Example(tokenizer.encode(prompt), tokenizer.encode(completion)));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ", line " + lineNumber + ": " + e.getMessage(), e);
            }
        });
        if (examples.isEmpty()) {
            throw new IOException(file + ": no examples (expected one {\"prompt\": ..., \"completion\": ...} per line)");
        }
        return new PromptCompletionData(examples, eos, file.getFileName().toString());
    }

    private static String text(JsonNode o, String key, Path file, int line) throws IOException {
        JsonNode n = o.get(key);
        if (n == null || !n.isTextual()) {
            throw new IOException(file + ", line " + line + ": " + (n == null ? "missing \"" + key + "\""
                    : "\"" + key + "\" must be a string, got " + n.getNodeType().name().toLowerCase(java.util.Locale.ROOT)));
        }
        return n.asText();
    }

    static PromptCompletionData of(List<Example> examples, int eosToken, String name) {
        return new PromptCompletionData(examples, eosToken, name);
    }

    /** A training part and a validation part. */
    public record Split(PromptCompletionData train, PromptCompletionData validation) {
    }

    /** Splits the examples at random (seeded) into training and validation parts. */
    public Split split(double validationFraction, long seed) {
        if (!(validationFraction > 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validation fraction must be in (0, 1), got " + validationFraction);
        }
        int validation = (int) Math.round(examples.size() * validationFraction);
        if (validation == 0 || validation == examples.size()) {
            throw new IllegalArgumentException("cannot split " + examples.size() + " examples with validation fraction "
                    + validationFraction + ": one part would be empty");
        }
        int[] order = permutation(examples.size(), new SplittableRandom(Seeds.of(seed, -1)));
        List<Example> train = new ArrayList<>();
        List<Example> val = new ArrayList<>();
        for (int i = 0; i < order.length; i++) {
            (i < validation ? val : train).add(examples.get(order[i]));
        }
        return new Split(new PromptCompletionData(train, eosToken, name + " (training part)"),
                new PromptCompletionData(val, eosToken, name + " (validation part)"));
    }

    public List<Example> examples() {
        return examples;
    }

    public int size() {
        return examples.size();
    }

    public int eosToken() {
        return eosToken;
    }

    @Override
    public long truncatedExamples(int maxLength) {
        return examples.stream().filter(e -> e.prompt.length + e.completion.length + 1 > maxLength + 1).count();
    }

    /**
     * The example as it is trained on with at most {@code maxLength} input positions: {@code [sequence, promptLength]}
     * where {@code sequence} has at most {@code maxLength + 1} tokens and its first {@code promptLength} are prompt.
     */
    static int[][] fit(Example e, int eos, int maxLength) {
        int limit = maxLength + 1;
        int[] completion = Arrays.copyOf(e.completion, e.completion.length + 1);
        completion[e.completion.length] = eos;
        int keepPrompt = e.prompt.length;
        int keepCompletion = completion.length;
        if (keepPrompt + keepCompletion > limit) {
            if (keepCompletion <= limit - 1) {
                keepPrompt = Math.min(keepPrompt, limit - keepCompletion);
            } else {
                keepPrompt = Math.min(keepPrompt, 1);
                keepCompletion = limit - keepPrompt;
            }
        }
        int[] sequence = new int[keepPrompt + keepCompletion];
        System.arraycopy(e.prompt, e.prompt.length - keepPrompt, sequence, 0, keepPrompt);
        System.arraycopy(completion, 0, sequence, keepPrompt, keepCompletion);
        return new int[][] {sequence, {keepPrompt}};
    }

    private TokenBatch rows(int[] exampleIds, int maxLength) {
        if (maxLength < 1) {
            throw new IllegalArgumentException("maximum length must be positive, got " + maxLength);
        }
        int[][] sequences = new int[exampleIds.length][];
        int[] promptLengths = new int[exampleIds.length];
        int t = 1;
        for (int r = 0; r < exampleIds.length; r++) {
            int[][] fitted = fit(examples.get(exampleIds[r]), eosToken, maxLength);
            sequences[r] = fitted[0];
            promptLengths[r] = fitted[1][0];
            t = Math.max(t, sequences[r].length - 1);
        }
        int[] inputs = new int[exampleIds.length * t];
        int[] targets = new int[exampleIds.length * t];
        Arrays.fill(inputs, eosToken);
        Arrays.fill(targets, TokenBatch.IGNORE);
        for (int r = 0; r < sequences.length; r++) {
            int[] s = sequences[r];
            for (int i = 0; i + 1 < s.length; i++) {
                inputs[r * t + i] = s[i];
                // position i predicts token i + 1: counted only when that token belongs to the completion
                if (i + 1 >= promptLengths[r]) {
                    targets[r * t + i] = s[i + 1];
                }
            }
        }
        return new TokenBatch(exampleIds.length, t, inputs, targets);
    }

    @Override
    public TokenBatch batch(long index, int batchSize, int maxLength, long seed) {
        int n = examples.size();
        int[] ids = new int[batchSize];
        for (int r = 0; r < batchSize; r++) {
            long k = index * batchSize + r;
            ids[r] = order(seed, k / n)[(int) (k % n)];
        }
        return rows(ids, maxLength);
    }

    private int[] order(long seed, long epoch) {
        Shuffle s = shuffle;
        if (s == null || s.seed != seed || s.epoch != epoch) {
            s = new Shuffle(seed, epoch, permutation(examples.size(), new SplittableRandom(Seeds.of(seed, epoch))));
            shuffle = s;
        }
        return s.order;
    }

    private static int[] permutation(int n, SplittableRandom random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return p;
    }

    @Override
    public List<TokenBatch> evaluationBatches(int batchSize, int maxLength, int maxBatches) {
        int n = examples.size();
        if (maxBatches > 0) {
            n = (int) Math.min(n, (long) maxBatches * batchSize);
        }
        List<TokenBatch> out = new ArrayList<>();
        for (int start = 0; start < n; start += batchSize) {
            int rows = Math.min(batchSize, n - start);
            int[] ids = new int[rows];
            for (int r = 0; r < rows; r++) {
                ids[r] = start + r;
            }
            out.add(rows(ids, maxLength));
        }
        return out;
    }

    @Override
    public String description() {
        return String.format("%,d examples from %s", examples.size(), name);
    }

    @Override
    public String toString() {
        return "PromptCompletionData[" + description() + "]";
    }
}
