package dev.attune.core.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.generate.GenerationConfig.ContextOverflow;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Generation logic on a scripted stand-in model: EOS, stop strings, streaming, context limits, penalties. */
class GeneratorScriptedTest {
    private static final int V = 64;

    /** After a prompt of length p, the model wants to say script[generated] (runner-up: token 9). */
    private static Generator scripted(int context, int... script) {
        int[] promptLength = {-1};
        ScriptedLm lm = new ScriptedLm(V, context, history -> {
            if (promptLength[0] < 0) {
                promptLength[0] = history.size();
            }
            int g = history.size() - promptLength[0];
            return ScriptedLm.favour(V, g < script.length ? script[g] : 5, 9);
        });
        return Generator.of(lm, ScriptedLm.TOKENIZER);
    }

    // GPT-2 ids of single characters (see ScriptedLm.ids); 0 ('!') is the scripted model's EOS, 9 ('*') the runner-up
    private static final int A = 32;
    private static final int B = 33;
    private static final int C = 34;
    private static final int D = 35;
    private static final int E = 36;

    private static int[] ids(String text) {
        return ScriptedLm.ids(text);
    }

    @Test
    void stopsAtEosAndLeavesItOutOfTheText() {
        GenerationResult r = scripted(100, A, B, C, 0, D).generate(ids("12"), GenerationConfig.greedy(10));
        assertThat(r.ids()).containsExactly(A, B, C, 0);
        assertThat(r.text()).isEqualTo("ABC");
        assertThat(r.finishReason()).isEqualTo(FinishReason.EOS);
        assertThat(r.promptTokens()).isEqualTo(2);
    }

    @Test
    void minNewTokensSuppressesEarlyEos() {
        GenerationResult r = scripted(100, 0, B, 0).generate(ids("1"),
                GenerationConfig.builder().maxNewTokens(10).minNewTokens(2).build());
        // EOS banned at steps 0 and 1: the runner-up 9 comes first, then the scripted B, then EOS is allowed
        assertThat(r.ids()).containsExactly(9, B, 0);
        assertThat(r.finishReason()).isEqualTo(FinishReason.EOS);
    }

    @Test
    void customEosIdsAndIgnoreEos() {
        Generator g = scripted(100, A, B, 0, C);
        assertThat(g.generate(ids("1"), GenerationConfig.builder().maxNewTokens(10).eosTokenIds(B).build()).ids())
                .containsExactly(A, B);
        GenerationResult all = g.generate(ids("1"), GenerationConfig.builder().maxNewTokens(5).ignoreEos(true)
                .build());
        assertThat(all.ids()).containsExactly(A, B, 0, C, 5);
        assertThat(all.finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void stopStringSpanningTokensCutsTheTextButKeepsTheIds() {
        // stop string "BC" spans two tokens
        Generator g = scripted(100, A, B, C, D, E);
        List<String> pieces = new ArrayList<>();
        GenerationResult r = g.generate(ids("1"),
                GenerationConfig.builder().maxNewTokens(10).stopStrings("BC", "XYZ").build(), pieces::add);
        assertThat(r.ids()).containsExactly(A, B, C);
        assertThat(r.text()).isEqualTo("A");
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(pieces).containsExactly("A");
    }

    @Test
    void streamedPiecesAddUpToTheText() {
        Generator g = scripted(100, A, B, A, C, A, B);
        List<String> pieces = new ArrayList<>();
        GenerationResult r = g.generate(ids("1"),
                GenerationConfig.builder().maxNewTokens(6).stopStrings("AC", "BBB").build(), pieces::add);
        assertThat(r.text()).isEqualTo("AB"); // "ABAC..." stops before "AC"
        assertThat(String.join("", pieces)).isEqualTo(r.text());
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);

        List<String> all = new ArrayList<>();
        GenerationResult full = g.generate(ids("1"), GenerationConfig.greedy(6), all::add);
        assertThat(all).containsExactly("A", "B", "A", "C", "A", "B");
        assertThat(full.text()).isEqualTo("ABACAB");
    }

    /** GPT-2's id for the single-byte token of {@code b}. */
    private static int byteToken(int b) {
        for (int id = 0; id < 256; id++) {
            byte[] bytes = ScriptedLm.TOKENIZER.tokenBytes(id);
            if (bytes.length == 1 && (bytes[0] & 0xFF) == b) {
                return id;
            }
        }
        throw new AssertionError("no byte token for " + b);
    }

    @Test
    void streamingCutsOnlyAtCompleteCharacters() {
        // "é" is C3 A9 and "😀" is F0 9F 98 80 in UTF-8; here each byte comes as its own token
        int[] script = {A, byteToken(0xC3), byteToken(0xA9), byteToken(0xF0), byteToken(0x9F), byteToken(0x98),
                byteToken(0x80), B, byteToken(0xC3)};
        int[] promptLength = {-1};
        ScriptedLm lm = new ScriptedLm(256, 100, history -> {
            if (promptLength[0] < 0) {
                promptLength[0] = history.size();
            }
            int g = history.size() - promptLength[0];
            return ScriptedLm.favour(256, script[Math.min(g, script.length - 1)], 9);
        });
        List<String> pieces = new ArrayList<>();
        GenerationResult r = Generator.of(lm, ScriptedLm.TOKENIZER).generate(ids("1"),
                GenerationConfig.greedy(script.length), pieces::add);
        // the last token leaves "é" unfinished: the end of generation flushes it as U+FFFD
        assertThat(pieces).containsExactly("A", "\u00e9", "\ud83d\ude00", "B", "\ufffd");
        assertThat(r.text()).isEqualTo("A\u00e9\ud83d\ude00B\ufffd");
        assertThat(r.ids()).containsExactly(script);
    }

    @Test
    void promptFillingTheContextIsAnErrorByDefault() {
        Generator g = scripted(8, A);
        assertThatThrownBy(() -> g.generate(ids("12345678"), GenerationConfig.greedy(3)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("prompt has 8 tokens but the model's context holds 8, leaving no room to generate;"
                        + " shorten it or use ContextOverflow.TRUNCATE_LEFT");
        assertThatThrownBy(() -> g.generate(new int[0], GenerationConfig.greedy(3)))
                .hasMessageContaining("prompt is empty");
        assertThatThrownBy(() -> g.generate(new int[] {3, 64}, GenerationConfig.greedy(3)))
                .hasMessageContaining("token id 64 at position 1, outside the model's vocabulary [0, 64)");
    }

    @Test
    void generationStopsWhenTheContextIsFull() {
        GenerationResult r = scripted(8, A, B, C, D, E).generate(ids("123456"), GenerationConfig.greedy(5));
        assertThat(r.ids()).containsExactly(A, B);
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void truncateLeftKeepsTheNewestTokensAndRoomForMaxNewTokens() {
        List<List<Integer>> seen = new ArrayList<>();
        ScriptedLm lm = new ScriptedLm(V, 8, history -> {
            seen.add(List.copyOf(history));
            return ScriptedLm.favour(V, A, 9);
        });
        GenerationResult r = Generator.of(lm, ScriptedLm.TOKENIZER).generate(ids("123456789"),
                GenerationConfig.builder().maxNewTokens(3).contextOverflow(ContextOverflow.TRUNCATE_LEFT).build());
        assertThat(r.promptTokens()).isEqualTo(5);
        assertThat(seen.get(0)).containsExactly(5 + 15, 6 + 15, 7 + 15, 8 + 15, 9 + 15); // "56789"
        assertThat(r.ids()).containsExactly(A, A, A);
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void repetitionPenaltyAndNgramBanSeeOnlyTheRowsOwnTokens() {
        // The model prefers A then B; both were in the prompt, so a strong penalty hands the step to 9.
        Generator g = scripted(100, A, B, D);
        GenerationResult r = g.generate(ids("AB"), GenerationConfig.builder().maxNewTokens(3)
                .repetitionPenalty(4.0).build());
        // step 0: the repeated favourite A has 10 / 4 = 2.5 against the runner-up's 5 -> 9;
        // step 1: B (2.5) now beats 9, which is penalised too (5 / 4 = 1.25); step 2: D is new -> D
        assertThat(r.ids()).containsExactly(9, B, D);

        // no-repeat 2-gram: prompt "AB" then "A" would allow "B" again -> banned, runner-up 9 instead
        Generator h = scripted(100, A, B, C);
        GenerationResult s = h.generate(ids("AB"), GenerationConfig.builder().maxNewTokens(3)
                .noRepeatNgramSize(2).build());
        assertThat(s.ids()).containsExactly(A, 9, C);
    }

    @Test
    void logprobsComeFromTheRawLogits() {
        GenerationResult r = scripted(100, A, B).generate(ids("1"),
                GenerationConfig.builder().maxNewTokens(2).logprobs(2).repetitionPenalty(3.0).build());
        // raw logits: 10 for the favourite, 5 for token 9, 0 for 62 others
        double z = Math.exp(10) + Math.exp(5) + 62;
        assertThat(r.logprobs()).hasSize(2);
        TokenLogprobs first = r.logprobs().get(0);
        assertThat(first.id()).isEqualTo(A);
        assertThat((double) first.logprob()).isCloseTo(10 - Math.log(z), org.assertj.core.api.Assertions.within(1e-5));
        assertThat(first.top()).extracting(TokenLogprobs.Alternative::id).containsExactly(A, 9);
        assertThat((double) first.top().get(1).logprob())
                .isCloseTo(5 - Math.log(z), org.assertj.core.api.Assertions.within(1e-5));
    }

    @Test
    void beamSearchHonoursStopStringsAndEos() {
        Generator g = scripted(100, A, B, C, D);
        GenerationResult r = g.generate(ids("1"), GenerationConfig.builder().maxNewTokens(6).numBeams(2)
                .stopStrings("BC").build());
        assertThat(r.ids()).containsExactly(A, B, C);
        assertThat(r.text()).isEqualTo("A");
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);

        GenerationResult e = scripted(100, A, 0).generate(ids("1"),
                GenerationConfig.builder().maxNewTokens(6).numBeams(2).build());
        assertThat(e.ids()).containsExactly(A, 0);
        assertThat(e.text()).isEqualTo("A");
        assertThat(e.finishReason()).isEqualTo(FinishReason.EOS);
    }
}
