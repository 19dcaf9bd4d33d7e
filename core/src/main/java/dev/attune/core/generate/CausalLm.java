package dev.attune.core.generate;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.KvCache;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * What generation needs from a language model: a decoding session with a key/value cache that turns new tokens
 * into next-token logits. {@link Generator} reaches the model only through this interface, so there is one decoder.
 * Adapters need nothing of their own here: they attach inside the model ({@link GptModel#adapters()}), and
 * {@link #of(GptModel)} decodes with whatever is attached, LoRA and IA3 around projections, bottlenecks on the
 * residual branches, a key/value prefix stored in the cache when a session opens, a soft prompt put in front of each
 * row's first real token; the generator's {@code capacity} counts only the positions it feeds.
 *
 * <p>Positions and masks stay the model's business: the generator passes left-padded token rows with a mask and
 * never assumes how many cache slots a session uses.
 */
public interface CausalLm {

    /** The model's shape: vocabulary, context length, EOS id. */
    GptConfig config();

    /**
     * Tokens a row may hold, prompt and generated ones together: the model's context length, less the positions its
     * adapters take in front of every row (a prefix's, a soft prompt's).
     */
    default int contextLength() {
        return config().contextLength();
    }

    /**
     * Opens a decoding session for {@code batchSize} rows that will receive at most {@code capacity} positions
     * (left padding included) over all calls to {@link Session#next}.
     */
    Session start(int batchSize, int capacity);

    /** One generation's model state (a KV cache); not thread-safe. */
    interface Session {
        /**
         * Feeds new tokens and returns the next-token logits of each row's last new position.
         *
         * @param tokens [B][n] new token ids, every row the same length n
         * @param mask   [B][n], false marks padding (which does not advance a row's position); null = all real
         * @return [B][V] logits
         */
        float[][] next(int[][] tokens, boolean[][] mask);

        /** Row {@code i} continues from old row {@code rows[i]} (beam search); one entry per row, may repeat. */
        void reorder(int[] rows);
    }

    /** Generation straight from a model's KV-cache forward pass. */
    static CausalLm of(GptModel model) {
        return new CausalLm() {
            @Override
            public GptConfig config() {
                return model.config();
            }

            @Override
            public int contextLength() {
                return model.config().contextLength() - model.adapters().virtualPositions();
            }

            @Override
            public Session start(int batchSize, int capacity) {
                KvCache cache = model.newCache(batchSize, capacity);
                return new Session() {
                    @Override
                    public float[][] next(int[][] tokens, boolean[][] mask) {
                        return rows(model.forward(cache, tokens, mask, false));
                    }

                    @Override
                    public void reorder(int[] rows) {
                        cache.reorder(rows);
                    }
                };
            }

            @Override
            public String toString() {
                return "CausalLm.of(" + model + ")";
            }
        };
    }

    /** Copies logits [B, V] into Java rows in one bulk read. */
    private static float[][] rows(INDArray logits) {
        int b = (int) logits.size(0);
        int v = (int) logits.size(1);
        // The model returns a fresh dense [B, V] float array: read its buffer directly rather than copying it first.
        boolean dense = logits.dataType() == DataType.FLOAT && !logits.isView() && logits.ordering() == 'c'
                && logits.data().length() == (long) b * v;
        float[] flat = (dense ? logits : logits.castTo(DataType.FLOAT).dup('c')).data().asFloat();
        float[][] out = new float[b][];
        for (int r = 0; r < b; r++) {
            out[r] = java.util.Arrays.copyOfRange(flat, r * v, (r + 1) * v);
        }
        return out;
    }
}
