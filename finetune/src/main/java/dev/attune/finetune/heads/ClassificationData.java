package dev.attune.finetune.heads;

import dev.attune.core.data.Seeds;
import dev.attune.core.data.TrainingData;
import dev.attune.core.model.TokenBatch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Labelled token sequences as {@link TrainingData}, so that {@code LmTraining} trains a classification head with
 * its usual loop: each row's class index rides in the batch's targets at the row's last real position, every other
 * target is {@link TokenBatch#IGNORE}. {@link SequenceClassifier#trainable} reads it from there. For token
 * classification ({@link #perPosition}) each row carries a class index (or {@code IGNORE}) at every position.
 *
 * <p>Rows are right-padded with {@code padToken} (causal attention needs no mask for right padding). A row longer
 * than the context keeps its first tokens, as Hugging Face's default truncation does. Training rows come epoch by
 * epoch, each epoch a seeded shuffle. Immutable.
 */
public final class ClassificationData implements TrainingData {

    private final List<int[]> rows;
    private final int[] labels; // null: per-position targets
    private final List<int[]> positionTargets; // null: one label per row
    private final int padToken;
    private final String description;

    /**
     * @param rows     token ids of each example, none empty
     * @param labels   class index of each example
     * @param padToken id written after each row's last token
     */
    public ClassificationData(List<int[]> rows, int[] labels, int padToken, String description) {
        if (rows.isEmpty() || rows.size() != labels.length) {
            throw new IllegalArgumentException("need the same, non-zero number of rows and labels, got " + rows.size()
                    + " and " + labels.length);
        }
        for (int i = 0; i < rows.size(); i++) {
            if (rows.get(i).length == 0) {
                throw new IllegalArgumentException(description + ", example " + (i + 1) + ": no tokens (empty text)");
            }
            if (labels[i] < 0) {
                throw new IllegalArgumentException(description + ", example " + (i + 1) + ": negative label index");
            }
        }
        this.rows = rows.stream().map(int[]::clone).toList();
        this.labels = labels.clone();
        this.positionTargets = null;
        this.padToken = padToken;
        this.description = description;
    }

    private ClassificationData(List<int[]> rows, List<int[]> targets, int padToken, String description) {
        if (rows.isEmpty() || rows.size() != targets.size()) {
            throw new IllegalArgumentException("need the same, non-zero number of rows and target rows, got "
                    + rows.size() + " and " + targets.size());
        }
        for (int i = 0; i < rows.size(); i++) {
            if (rows.get(i).length == 0) {
                throw new IllegalArgumentException(description + ", example " + (i + 1) + ": no tokens");
            }
            if (targets.get(i).length != rows.get(i).length) {
                throw new IllegalArgumentException(description + ", example " + (i + 1) + ": " + rows.get(i).length
                        + " tokens but " + targets.get(i).length + " targets");
            }
            for (int t : targets.get(i)) {
                if (t < 0 && t != TokenBatch.IGNORE) {
                    throw new IllegalArgumentException(description + ", example " + (i + 1) + ": negative label index");
                }
            }
        }
        this.rows = rows.stream().map(int[]::clone).toList();
        this.labels = null;
        this.positionTargets = targets.stream().map(int[]::clone).toList();
        this.padToken = padToken;
        this.description = description;
    }

    /**
     * Rows whose every position carries its own class index, or {@link TokenBatch#IGNORE} where the loss should not
     * look (token classification). A row longer than the context keeps its first positions and their targets.
     */
    public static ClassificationData perPosition(List<int[]> rows, List<int[]> targets, int padToken,
            String description) {
        return new ClassificationData(rows, targets, padToken, description);
    }

    public int size() {
        return rows.size();
    }

    @Override
    public TokenBatch batch(long index, int batchSize, int maxLength, long seed) {
        long first = index * batchSize;
        int[] picked = new int[batchSize];
        long epoch = -1;
        int[] order = null;
        for (int i = 0; i < batchSize; i++) {
            long k = first + i;
            long e = k / rows.size();
            if (e != epoch) {
                epoch = e;
                order = permutation(rows.size(), new SplittableRandom(Seeds.of(seed, e)));
            }
            picked[i] = order[(int) (k % rows.size())];
        }
        return assemble(picked, maxLength);
    }

    @Override
    public List<TokenBatch> evaluationBatches(int batchSize, int maxLength, int maxBatches) {
        List<TokenBatch> out = new ArrayList<>();
        for (int start = 0; start < rows.size() && (maxBatches == 0 || out.size() < maxBatches); start += batchSize) {
            int n = Math.min(batchSize, rows.size() - start);
            int[] picked = new int[n];
            for (int i = 0; i < n; i++) {
                picked[i] = start + i;
            }
            out.add(assemble(picked, maxLength));
        }
        return out;
    }

    @Override
    public long truncatedExamples(int maxLength) {
        return rows.stream().filter(r -> r.length > maxLength).count();
    }

    @Override
    public String description() {
        return rows.size() + " labelled examples from " + description;
    }

    private TokenBatch assemble(int[] picked, int maxLength) {
        int t = 1;
        for (int p : picked) {
            t = Math.max(t, Math.min(rows.get(p).length, maxLength));
        }
        int[] inputs = new int[picked.length * t];
        int[] targets = new int[picked.length * t];
        Arrays.fill(inputs, padToken);
        Arrays.fill(targets, TokenBatch.IGNORE);
        for (int b = 0; b < picked.length; b++) {
            int[] row = rows.get(picked[b]);
            int n = Math.min(row.length, maxLength);
            System.arraycopy(row, 0, inputs, b * t, n);
            if (labels == null) {
                System.arraycopy(positionTargets.get(picked[b]), 0, targets, b * t, n);
            } else {
                targets[b * t + n - 1] = labels[picked[b]];
            }
        }
        return new TokenBatch(picked.length, t, inputs, targets);
    }

    private static int[] permutation(int n, SplittableRandom random) {
        int[] order = new int[n];
        Arrays.setAll(order, i -> i);
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = order[i];
            order[i] = order[j];
            order[j] = tmp;
        }
        return order;
    }
}
