package dev.attune.core.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.generate.GenerationConfig.ContextOverflow;
import dev.attune.core.generate.GenerationConfig.EarlyStopping;
import org.junit.jupiter.api.Test;

class GenerationConfigTest {

    @Test
    void defaultsAreGreedyWithoutPenalties() {
        GenerationConfig c = GenerationConfig.greedy(7);
        assertThat(c.maxNewTokens()).isEqualTo(7);
        assertThat(c.doSample()).isFalse();
        assertThat(c.numBeams()).isEqualTo(1);
        assertThat(c.isBeamSearch()).isFalse();
        assertThat(c.repetitionPenalty()).isEqualTo(1.0);
        assertThat(c.earlyStopping()).isEqualTo(EarlyStopping.HEURISTIC);
        assertThat(c.contextOverflow()).isEqualTo(ContextOverflow.ERROR);
        assertThat(c.eosTokenIds()).isEmpty();
        assertThat(c.seed()).isEmpty();
        assertThat(LogitsProcessor.processors(c, new int[] {0})).isEmpty();
        assertThat(LogitsProcessor.warpers(c)).isEmpty();
    }

    @Test
    void builderSetsEveryFieldAndRoundTrips() {
        GenerationConfig c = GenerationConfig.builder().maxNewTokens(50).minNewTokens(3).doSample(true)
                .temperature(0.7).topK(40).topP(0.9).minP(0.05).repetitionPenalty(1.3).noRepeatNgramSize(3)
                .eosTokenIds(5, 6).stopStrings("\n\n", "###").seed(42).logprobs(5)
                .contextOverflow(ContextOverflow.TRUNCATE_LEFT).build();
        assertThat(c.eosTokenIds()).containsExactly(5, 6);
        assertThat(c.stopStrings()).containsExactly("\n\n", "###");
        assertThat(c.seed()).hasValue(42);
        assertThat(c.returnLogprobs()).isTrue();
        assertThat(c.topLogprobs()).isEqualTo(5);
        assertThat(c.toBuilder().build()).isEqualTo(c);
        assertThat(GenerationConfig.builder().numBeams(4).earlyStopping(true).build().earlyStopping())
                .isEqualTo(EarlyStopping.EAGER);
    }

    @Test
    void rejectsOutOfRangeValuesNamingEach() {
        assertThatThrownBy(() -> GenerationConfig.builder().doSample(true).topP(0).build())
                .hasMessageContaining("topP must be in (0, 1], got 0.0");
        assertThatThrownBy(() -> GenerationConfig.builder().doSample(true).topP(1.01).build())
                .hasMessageContaining("topP");
        assertThatThrownBy(() -> GenerationConfig.builder().doSample(true).temperature(0).build())
                .hasMessageContaining("temperature must be positive");
        assertThatThrownBy(() -> GenerationConfig.builder().doSample(true).minP(1).build())
                .hasMessageContaining("minP");
        assertThatThrownBy(() -> GenerationConfig.builder().maxNewTokens(0).build())
                .hasMessageContaining("maxNewTokens must be at least 1");
        assertThatThrownBy(() -> GenerationConfig.builder().maxNewTokens(4).minNewTokens(5).build())
                .hasMessageContaining("minNewTokens must be in [0, maxNewTokens=4], got 5");
        assertThatThrownBy(() -> GenerationConfig.builder().numBeams(0).repetitionPenalty(0).build())
                .hasMessageContaining("numBeams must be at least 1")
                .hasMessageContaining("repetitionPenalty must be positive");
        assertThatThrownBy(() -> GenerationConfig.builder().stopStrings("").build())
                .hasMessageContaining("stop strings must not be empty");
        assertThatThrownBy(() -> GenerationConfig.builder().topLogprobs(3).build())
                .hasMessageContaining("needs returnLogprobs");
        assertThatThrownBy(() -> GenerationConfig.builder().noRepeatNgramSize(-1).build())
                .hasMessageContaining("noRepeatNgramSize");
    }

    @Test
    void samplingKnobsWithoutSamplingAreAnError() {
        assertThatThrownBy(() -> GenerationConfig.builder().temperature(0.5).topK(10).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("temperature=0.5, topK=10 only act when sampling: set doSample(true)");
        assertThatThrownBy(() -> GenerationConfig.builder().doSample(true).numBeams(3).build())
                .hasMessageContaining("beam sampling");
    }

    @Test
    void processorsAndWarpersComeInHuggingFaceOrder() {
        GenerationConfig c = GenerationConfig.builder().doSample(true).minNewTokens(2).noRepeatNgramSize(2)
                .repetitionPenalty(1.2).minP(0.1).topP(0.9).topK(5).temperature(0.8).build();
        assertThat(LogitsProcessor.processors(c, new int[] {0})).extracting(Object::getClass).containsExactly(
                LogitsProcessor.RepetitionPenalty.class, LogitsProcessor.NoRepeatNgram.class,
                LogitsProcessor.SuppressEosUntil.class);
        assertThat(LogitsProcessor.warpers(c)).extracting(Object::getClass).containsExactly(
                LogitsProcessor.Temperature.class, LogitsProcessor.TopK.class, LogitsProcessor.TopP.class,
                LogitsProcessor.MinP.class);
    }
}
