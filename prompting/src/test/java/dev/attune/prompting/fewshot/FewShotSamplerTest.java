package dev.attune.prompting.fewshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class FewShotSamplerTest {

    @Test
    void firstNSkipsTheQuery() {
        FewShotSampler s = FewShotSampler.firstN();
        assertThat(s.select(3, 1, 10, i -> i == 1, null)).containsExactly(0, 2, 3);
        assertThat(s.select(3, 7, 10, i -> i == 7, null)).containsExactly(0, 1, 2);
    }

    @Test
    void randomIsSeededPerQueryDistinctAndNeverTheQuery() {
        FewShotSampler s = FewShotSampler.random(1234);
        for (int q = 0; q < 50; q++) {
            int query = q;
            int[] a = s.select(5, q, 20, i -> i == query, null);
            assertThat(a).hasSize(5).doesNotContain(q);
            assertThat(Arrays.stream(a).distinct().count()).isEqualTo(5);
            assertThat(s.select(5, q, 20, i -> i == query, null)).containsExactly(a); // reproducible
        }
        int[] seedA = FewShotSampler.random(1).select(5, 3, 100, i -> i == 3, null);
        int[] seedB = FewShotSampler.random(2).select(5, 3, 100, i -> i == 3, null);
        assertThat(seedA).isNotEqualTo(seedB);
        // every allowed entry gets drawn at some point: the draw is not stuck on a prefix of the pool
        boolean[] seen = new boolean[20];
        for (int q = 0; q < 200; q++) {
            int query = q % 20;
            for (int i : s.select(2, q, 20, j -> j == query, null)) {
                seen[i] = true;
            }
        }
        assertThat(IntStream.range(0, 20).allMatch(i -> seen[i])).isTrue();
    }

    @Test
    void balancedGivesEachLabelItsShare() {
        String[] labels = {"a", "a", "a", "a", "a", "a", "b", "b", "b", "c", "c", "c"};
        FewShotSampler s = FewShotSampler.balanced(7);
        for (int q = 0; q < labels.length; q++) {
            int query = q;
            int[] demos = s.select(5, q, labels.length, i -> i == query, i -> labels[i]);
            assertThat(demos).hasSize(5).doesNotContain(q);
            Map<String, Integer> counts = new HashMap<>();
            for (int d : demos) {
                counts.merge(labels[d], 1, Integer::sum);
            }
            // 5 over 3 labels: 2, 2, 1 with the remainder to the labels seen first
            assertThat(counts).containsEntry("a", 2).containsEntry("b", 2).containsEntry("c", 1);
        }
    }

    @Test
    void tooSmallAPoolIsAnError() {
        assertThatThrownBy(() -> FewShotSampler.random(0).select(3, 0, 3, i -> i == 0, null))
                .hasMessageContaining("asked for 3 demonstrations but the pool has only 2");
    }
}
