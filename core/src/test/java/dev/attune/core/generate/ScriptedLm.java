package dev.attune.core.generate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.config.GptConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A stand-in model whose next-token logits are a function of each row's real tokens. It checks what the generator
 * feeds it: never more positions than the session's capacity, never more real tokens than the context.
 */
final class ScriptedLm implements CausalLm {
    private final GptConfig config;
    private final Function<List<Integer>, float[]> logitsOf;
    int sessions;

    ScriptedLm(int vocab, int context, Function<List<Integer>, float[]> logitsOf) {
        this.config = GptConfig.builder().vocabSize(vocab).contextLength(context).embeddingSize(8).heads(2)
                .layers(1).bosTokenId(0).eosTokenId(0).build();
        this.logitsOf = logitsOf;
    }

    /** Logits that make {@code token} the clear favourite and {@code second} the runner-up. */
    static float[] favour(int vocab, int token, int second) {
        float[] l = new float[vocab];
        l[second] = 5;
        l[token] = 10;
        return l;
    }

    @Override
    public GptConfig config() {
        return config;
    }

    @Override
    public Session start(int batchSize, int capacity) {
        sessions++;
        List<List<Integer>> rows = new ArrayList<>();
        for (int b = 0; b < batchSize; b++) {
            rows.add(new ArrayList<>());
        }
        int[] used = {0};
        return new Session() {
            List<List<Integer>> state = rows;

            @Override
            public float[][] next(int[][] tokens, boolean[][] mask) {
                assertThat(tokens.length).isEqualTo(batchSize);
                used[0] += tokens[0].length;
                assertThat(used[0]).as("positions fed").isLessThanOrEqualTo(capacity);
                float[][] out = new float[batchSize][];
                for (int b = 0; b < batchSize; b++) {
                    for (int i = 0; i < tokens[b].length; i++) {
                        if (mask == null || mask[b][i]) {
                            state.get(b).add(tokens[b][i]);
                        }
                    }
                    assertThat(state.get(b).size()).as("real tokens of row " + b)
                            .isLessThanOrEqualTo(config.contextLength());
                    out[b] = logitsOf.apply(state.get(b)).clone();
                }
                return out;
            }

            @Override
            public void reorder(int[] order) {
                List<List<Integer>> next = new ArrayList<>();
                for (int r : order) {
                    next.add(new ArrayList<>(state.get(r)));
                }
                state = next;
            }
        };
    }

    /** Decodes id i as the character '0' + i, so ids 0..63 read as "0123456789:;<=>?@ABC...". */
    static final TextCodec CODEC = new TextCodec() {
        @Override
        public int[] encode(String text) {
            return text.chars().map(c -> c - '0').toArray();
        }

        @Override
        public String decode(int[] ids) {
            StringBuilder sb = new StringBuilder();
            for (int id : ids) {
                sb.append((char) ('0' + id));
            }
            return sb.toString();
        }

        @Override
        public StreamingDecoder streamingDecoder() {
            return new StreamingDecoder() {
                @Override
                public String push(int id) {
                    return String.valueOf((char) ('0' + id));
                }

                @Override
                public String flush() {
                    return "";
                }
            };
        }
    };
}
