package dev.attune.core.generate;

import dev.attune.core.config.GptConfig;
import dev.attune.core.model.GptModel;
import dev.attune.core.model.KvCache;
import java.util.concurrent.atomic.AtomicReference;

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

    /**
     * One generation's model state (a KV cache); not thread-safe. Closing a session tells the model that its state
     * may serve a later session; a closed session must not be used again.
     */
    interface Session extends AutoCloseable {
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

        /** Ends the session. By default nothing happens; {@link #of(GptModel)} keeps its cache for the next session. */
        @Override
        default void close() {
        }
    }

    /**
     * Generation straight from a model's KV-cache forward pass. A closed session's cache serves the next session of
     * the same batch size and capacity: fresh native memory is slow to come by (on the benchmark VM a new
     * GPT-2 small cache of 128 positions, 9.4 MB a row, took 35-50 ms of page faults, a third of a 16-token int8
     * prompt's time), and generation opens a session per call.
     */
    static CausalLm of(GptModel model) {
        AtomicReference<KvCache> spare = new AtomicReference<>();
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
                KvCache kept = spare.getAndSet(null);
                KvCache cache = kept != null && model.reuseCache(kept, batchSize, capacity) ? kept
                        : model.newCache(batchSize, capacity);
                return new Session() {
                    private boolean closed;

                    @Override
                    public float[][] next(int[][] tokens, boolean[][] mask) {
                        open();
                        return model.nextLogits(cache, tokens, mask);
                    }

                    @Override
                    public void reorder(int[] rows) {
                        open();
                        cache.reorder(rows);
                    }

                    @Override
                    public void close() {
                        if (!closed) {
                            closed = true;
                            spare.set(cache);
                        }
                    }

                    private void open() {
                        if (closed) {
                            throw new IllegalStateException("session closed");
                        }
                    }
                };
            }

            @Override
            public String toString() {
                return "CausalLm.of(" + model + ")";
            }
        };
    }
}
