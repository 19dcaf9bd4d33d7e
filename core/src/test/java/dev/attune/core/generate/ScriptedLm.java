package dev.attune.core.generate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.attune.core.config.GptConfig;
import dev.attune.core.tokenizer.Tokenizer;
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

    /** GPT-2's tokenizer: ids 0..93 are the single characters '!' (33) .. '~' (126), so id i reads as 33 + i. */
    static final Tokenizer TOKENIZER = Tokenizer.gpt2();

    /** The ids of single printable ASCII characters, one id per character. */
    static int[] ids(String text) {
        return text.chars().map(c -> c - 33).toArray();
    }
}
