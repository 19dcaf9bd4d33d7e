package dev.attune.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The decoding step's thread team: every row runs exactly once whatever the chunking, failures reach the caller, and
 * the fall-backs (a second caller, a range inside a range) finish too. The team is forced on: the test machine's load
 * would otherwise decide.
 */
class StepTeamTest {

    @BeforeEach
    void teamOn() {
        StepTeam.mode = "on";
    }

    @AfterEach
    void teamBack() {
        StepTeam.mode = System.getProperty("attune.stepTeam", "auto");
    }

    @Test
    void everyRowRunsExactlyOnce() {
        AtomicInteger helped = new AtomicInteger();
        int[][] cases = {{1, 1, 1}, {5, 2, 1}, {12, 2, 1}, {768, 64, 16}, {2304, 64, 16}, {50257, 64, 16},
                {1000, 7, 3}, {129, 64, 16}};
        for (int[] c : cases) {
            for (int repeat = 0; repeat < 50; repeat++) {
                AtomicIntegerArray seen = new AtomicIntegerArray(c[0]);
                StepTeam.rows(c[0], c[1], c[2], (from, to) -> {
                    assertThat(from).isLessThan(to);
                    if (Thread.currentThread().getName().startsWith("attune-step-")) {
                        helped.incrementAndGet();
                    }
                    for (int i = from; i < to; i++) {
                        seen.incrementAndGet(i);
                    }
                });
                for (int i = 0; i < c[0]; i++) {
                    assertThat(seen.get(i)).as("rows=%d row %d", c[0], i).isEqualTo(1);
                }
            }
        }
        if (Engine.init().threads() > 1) {
            assertThat(helped.get()).as("chunks run by the team's helpers").isPositive();
        }
    }

    @Test
    void chunksAreAlignedAndNoSmallerThanAsked() {
        ConcurrentHashMap<Integer, Integer> starts = new ConcurrentHashMap<>();
        StepTeam.rows(2304, 64, 16, (from, to) -> {
            starts.put(from, to);
        });
        for (var e : starts.entrySet()) {
            assertThat(e.getKey() % 16).isZero();
            if (e.getValue() != 2304) {
                assertThat(e.getValue() - e.getKey()).isGreaterThanOrEqualTo(64);
            }
        }
    }

    @Test
    void aFailureInAnyChunkReachesTheCallerAndTheTeamGoesOn() {
        for (int bad : new int[] {0, 700, 2303}) {
            assertThatThrownBy(() -> StepTeam.rows(2304, 64, 16, (from, to) -> {
                if (bad >= from && bad < to) {
                    throw new IllegalStateException("row " + bad);
                }
            })).isInstanceOf(IllegalStateException.class).hasMessage("row " + bad);
        }
        AtomicInteger sum = new AtomicInteger();
        StepTeam.rows(2304, 64, 16, (from, to) -> sum.addAndGet(to - from));
        assertThat(sum.get()).isEqualTo(2304);
    }

    @Test
    void concurrentCallersAndNestedRangesFinish() throws Exception {
        int callers = 3;
        CountDownLatch start = new CountDownLatch(1);
        AtomicInteger total = new AtomicInteger();
        Thread[] ts = new Thread[callers];
        for (int k = 0; k < callers; k++) {
            ts[k] = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                for (int repeat = 0; repeat < 200; repeat++) {
                    StepTeam.rows(512, 64, 16, (from, to) -> {
                        // a range inside a range
                        StepTeam.rows(to - from, 1, 1, (a, b) -> total.addAndGet(b - a));
                    });
                }
            });
            ts[k].start();
        }
        start.countDown();
        for (Thread t : ts) {
            t.join(60_000);
            assertThat(t.isAlive()).isFalse();
        }
        assertThat(total.get()).isEqualTo(callers * 200 * 512);
    }
}
