package dev.attune.core.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class LearningRateScheduleTest {

    @Test
    void warmupRisesLinearlyToThePeak() {
        LearningRateSchedule s = LearningRateSchedule.constant(1e-3).withWarmup(4);
        assertThat(s.at(0)).isCloseTo(2.5e-4, within(1e-12));
        assertThat(s.at(1)).isCloseTo(5e-4, within(1e-12));
        assertThat(s.at(3)).isCloseTo(1e-3, within(1e-12));
        assertThat(s.at(4)).isEqualTo(1e-3);
        assertThat(s.at(1_000_000)).isEqualTo(1e-3);
    }

    @Test
    void cosineGoesFromPeakThroughMidpointToFloor() {
        LearningRateSchedule s = LearningRateSchedule.cosine(1.0).withWarmup(10).withTotalSteps(110).withFloor(0.1);
        assertThat(s.at(10)).isCloseTo(1.0, within(1e-12));
        assertThat(s.at(60)).isCloseTo(0.55, within(1e-12));           // halfway: cos(pi/2) = 0
        assertThat(s.at(35)).isCloseTo(0.1 + 0.9 * (1 + Math.sqrt(0.5)) / 2, within(1e-12)); // a quarter: cos(pi/4)
        assertThat(s.at(110)).isEqualTo(0.1);
        assertThat(s.at(500)).isEqualTo(0.1);
    }

    @Test
    void linearDecaysToTheFloor() {
        LearningRateSchedule s = LearningRateSchedule.linear(2.0).withTotalSteps(4);
        assertThat(new double[] {s.at(0), s.at(1), s.at(2), s.at(3), s.at(4)})
                .containsExactly(2.0, 1.5, 1.0, 0.5, 0.0);
    }

    @Test
    void decayNeedsALengthAndValidNumbers() {
        assertThatThrownBy(() -> LearningRateSchedule.cosine(1e-3).at(5)).hasMessageContaining("total step");
        assertThatThrownBy(() -> LearningRateSchedule.cosine(1e-3).withFloor(1e-2))
                .hasMessageContaining("floor");
        assertThatThrownBy(() -> LearningRateSchedule.linear(1e-3).withTotalSteps(5).withWarmup(6))
                .hasMessageContaining("warm-up (6 steps)");
        assertThatThrownBy(() -> LearningRateSchedule.constant(-1)).hasMessageContaining("positive");
    }
}
