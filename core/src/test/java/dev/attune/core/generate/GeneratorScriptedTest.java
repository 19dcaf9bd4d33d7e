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
        return Generator.of(lm, ScriptedLm.CODEC);
    }

    private static int[] ids(String text) {
        return ScriptedLm.CODEC.encode(text);
    }

    @Test
    void stopsAtEosAndLeavesItOutOfTheText() {
        // ids 17, 18, 19 read "ABC"; 0 is EOS
        GenerationResult r = scripted(100, 17, 18, 19, 0, 20).generate(ids("12"), GenerationConfig.greedy(10));
        assertThat(r.ids()).containsExactly(17, 18, 19, 0);
        assertThat(r.text()).isEqualTo("ABC");
        assertThat(r.finishReason()).isEqualTo(FinishReason.EOS);
        assertThat(r.promptTokens()).isEqualTo(2);
    }

    @Test
    void minNewTokensSuppressesEarlyEos() {
        GenerationResult r = scripted(100, 0, 18, 0).generate(ids("1"),
                GenerationConfig.builder().maxNewTokens(10).minNewTokens(2).build());
        // EOS banned at steps 0 and 1: the runner-up 9 comes first, then the scripted 18, then EOS is allowed
        assertThat(r.ids()).containsExactly(9, 18, 0);
        assertThat(r.finishReason()).isEqualTo(FinishReason.EOS);
    }

    @Test
    void customEosIdsAndIgnoreEos() {
        Generator g = scripted(100, 17, 18, 0, 19);
        assertThat(g.generate(ids("1"), GenerationConfig.builder().maxNewTokens(10).eosTokenIds(18).build()).ids())
                .containsExactly(17, 18);
        GenerationResult all = g.generate(ids("1"), GenerationConfig.builder().maxNewTokens(5).ignoreEos(true)
                .build());
        assertThat(all.ids()).containsExactly(17, 18, 0, 19, 5);
        assertThat(all.finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void stopStringSpanningTokensCutsTheTextButKeepsTheIds() {
        // "A", "B", "C", "D" ... stop string "BC" spans two tokens
        Generator g = scripted(100, 17, 18, 19, 20, 21);
        List<String> pieces = new ArrayList<>();
        GenerationResult r = g.generate(ids("1"),
                GenerationConfig.builder().maxNewTokens(10).stopStrings("BC", "XYZ").build(), pieces::add);
        assertThat(r.ids()).containsExactly(17, 18, 19);
        assertThat(r.text()).isEqualTo("A");
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);
        assertThat(pieces).containsExactly("A");
    }

    @Test
    void streamedPiecesAddUpToTheText() {
        Generator g = scripted(100, 17, 18, 17, 19, 17, 18);
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

    @Test
    void promptFillingTheContextIsAnErrorByDefault() {
        Generator g = scripted(8, 17);
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
        GenerationResult r = scripted(8, 17, 18, 19, 20, 21).generate(ids("123456"), GenerationConfig.greedy(5));
        assertThat(r.ids()).containsExactly(17, 18);
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void truncateLeftKeepsTheNewestTokensAndRoomForMaxNewTokens() {
        List<List<Integer>> seen = new ArrayList<>();
        ScriptedLm lm = new ScriptedLm(V, 8, history -> {
            seen.add(List.copyOf(history));
            return ScriptedLm.favour(V, 17, 9);
        });
        GenerationResult r = Generator.of(lm, ScriptedLm.CODEC).generate(ids("123456789"),
                GenerationConfig.builder().maxNewTokens(3).contextOverflow(ContextOverflow.TRUNCATE_LEFT).build());
        assertThat(r.promptTokens()).isEqualTo(5);
        assertThat(seen.get(0)).containsExactly(5, 6, 7, 8, 9);
        assertThat(r.ids()).containsExactly(17, 17, 17);
        assertThat(r.finishReason()).isEqualTo(FinishReason.LENGTH);
    }

    @Test
    void repetitionPenaltyAndNgramBanSeeOnlyTheRowsOwnTokens() {
        // The model prefers 17 then 18; both were in the prompt, so a strong penalty hands the step to 9.
        Generator g = scripted(100, 17, 18, 20);
        GenerationResult r = g.generate(ids("AB"), GenerationConfig.builder().maxNewTokens(3)
                .repetitionPenalty(4.0).build());
        // step 0: the repeated favourite 17 has 10 / 4 = 2.5 against the runner-up's 5 -> 9;
        // step 1: 18 (2.5) now beats 9, which is penalised too (5 / 4 = 1.25); step 2: 20 is new -> 20
        assertThat(r.ids()).containsExactly(9, 18, 20);

        // no-repeat 2-gram: prompt "AB" then "A" would allow "B" again -> banned, runner-up 9 instead
        Generator h = scripted(100, 17, 18, 19);
        GenerationResult s = h.generate(ids("AB"), GenerationConfig.builder().maxNewTokens(3)
                .noRepeatNgramSize(2).build());
        assertThat(s.ids()).containsExactly(17, 9, 19);
    }

    @Test
    void logprobsComeFromTheRawLogits() {
        GenerationResult r = scripted(100, 17, 18).generate(ids("1"),
                GenerationConfig.builder().maxNewTokens(2).logprobs(2).repetitionPenalty(3.0).build());
        // raw logits: 10 for the favourite, 5 for token 9, 0 for 62 others
        double z = Math.exp(10) + Math.exp(5) + 62;
        assertThat(r.logprobs()).hasSize(2);
        TokenLogprobs first = r.logprobs().get(0);
        assertThat(first.id()).isEqualTo(17);
        assertThat((double) first.logprob()).isCloseTo(10 - Math.log(z), org.assertj.core.api.Assertions.within(1e-5));
        assertThat(first.top()).extracting(TokenLogprobs.Alternative::id).containsExactly(17, 9);
        assertThat((double) first.top().get(1).logprob())
                .isCloseTo(5 - Math.log(z), org.assertj.core.api.Assertions.within(1e-5));
    }

    @Test
    void beamSearchHonoursStopStringsAndEos() {
        Generator g = scripted(100, 17, 18, 19, 20);
        GenerationResult r = g.generate(ids("1"), GenerationConfig.builder().maxNewTokens(6).numBeams(2)
                .stopStrings("BC").build());
        assertThat(r.ids()).containsExactly(17, 18, 19);
        assertThat(r.text()).isEqualTo("A");
        assertThat(r.finishReason()).isEqualTo(FinishReason.STOP);

        GenerationResult e = scripted(100, 17, 0).generate(ids("1"),
                GenerationConfig.builder().maxNewTokens(6).numBeams(2).build());
        assertThat(e.ids()).containsExactly(17, 0);
        assertThat(e.text()).isEqualTo("A");
        assertThat(e.finishReason()).isEqualTo(FinishReason.EOS);
    }
}
