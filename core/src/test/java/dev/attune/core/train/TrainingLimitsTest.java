package dev.attune.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.attune.core.config.GptConfig;
import dev.attune.core.data.TokenWindows;
import dev.attune.core.model.GptModel;
import org.junit.jupiter.api.Test;

/** Settings that used to mean something else, overflow, or fail after minutes: refused at build, with the reason. */
class TrainingLimitsTest {

    private static final TokenWindows DATA = TokenWindows.of(LmTrainingTest.SHORT_TEXT);

    @Test
    void aContextOfZeroIsRefusedLikeANegativeOneInsteadOfMeaningTheModelsContext() {
        GptModel model = GptModel.create(LmTrainingTest.tiny(0), 1);
        for (int context : new int[] {0, -5}) {
            assertThatThrownBy(() -> LmTraining.builder().model(model).data(DATA).maxSteps(1).contextLength(context)
                    .build()).hasMessageContaining("contextLength must be in [1, 32], got " + context);
        }
        assertThat(LmTraining.builder().model(model).data(DATA).maxSteps(1).build().contextLength()).isEqualTo(32);
    }

    @Test
    void aBatchTooLargeForMemoryIsRefusedWithTheEstimateBeforeAnythingIsAllocated() {
        GptModel model = GptModel.create(GptConfig.tiny(), 1); // GPT-2's vocabulary: 50,257 logits a position
        assertThatThrownBy(() -> LmTraining.builder().model(model).data(DATA).maxSteps(1).batchSize(2_000_000_000)
                .contextLength(256).build())
                .hasMessageContaining("batchSize x contextLength (2000000000 x 256) must be below 2^31");
        assertThatThrownBy(() -> LmTraining.builder().model(model).data(DATA).maxSteps(1).batchSize(1000)
                .contextLength(256).build())
                .hasMessageContaining("a training step of 1000 rows x 256 positions needs about")
                .hasMessageContaining("GB, more than this machine's")
                .hasMessageContaining("lower batchSize or contextLength");
        // the estimate is not a guess in the dark: logits and their gradient alone are 2 x rows x V floats
        long estimate = Trainable.of(model).estimatedTrainingBytes(1000, 256);
        assertThat(estimate).isGreaterThan(2L * 1000 * 256 * 50_257 * 4);
        assertThat(Trainable.of(model).estimatedTrainingBytes(8, 64)).isLessThan(1L << 30);
    }

    @Test
    void validateChecksTheSettingsBeforeTheDataExists() {
        assertThatThrownBy(() -> LmTraining.builder().learningRate(Double.NaN))
                .hasMessageContaining("learning rate must be positive and finite, got NaN");
        assertThatThrownBy(() -> LmTraining.builder().maxSteps(0).batchSize(0).validate())
                .hasMessageContaining("batchSize must be at least 1, got 0")
                .hasMessageContaining("maxSteps must be at least 1, got 0");
        LmTraining.builder().maxSteps(3).validate(); // no model, no data yet: fine so far
    }
}
