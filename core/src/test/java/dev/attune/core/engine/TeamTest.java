package dev.attune.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The decoding team runs every row exactly once, on any split, and reports failures to the caller. */
class TeamTest {

    /** Three threads (two helpers) whatever the machine has, so that chunks really are shared. */
    private static final Team TEAM = new Team(3);

    @Test
    void everyRowRunsExactlyOnce() {
        Team team = TEAM;
        for (int rows : new int[] {0, 1, 2, 7, 63, 64, 65, 1000, 50257}) {
            for (int min : new int[] {1, 16, 64}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(Math.max(rows, 1));
                team.rows(rows, min, (from, to) -> {
                    assertThat(from).isLessThanOrEqualTo(to);
                    for (int r = from; r < to; r++) {
                        hits.incrementAndGet(r);
                    }
                });
                for (int r = 0; r < rows; r++) {
                    assertThat(hits.get(r)).as("row %d of %d (chunks of at least %d)", r, rows, min).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void aPieceCallingInFromInsideRunsItsRowsInline() {
        AtomicIntegerArray hits = new AtomicIntegerArray(100 * 50);
        TEAM.rows(100, 1, (from, to) -> {
            for (int r = from; r < to; r++) {
                int outer = r;
                TEAM.rows(50, 1, (a, b) -> {
                    for (int i = a; i < b; i++) {
                        hits.incrementAndGet(outer * 50 + i);
                    }
                });
            }
        });
        for (int i = 0; i < hits.length(); i++) {
            assertThat(hits.get(i)).isEqualTo(1);
        }
    }

    @Test
    void callersOnTwoThreadsBothGetAllTheirRows() throws Exception {
        AtomicIntegerArray[] hits = {new AtomicIntegerArray(5000), new AtomicIntegerArray(5000)};
        Thread[] callers = new Thread[2];
        for (int c = 0; c < 2; c++) {
            AtomicIntegerArray mine = hits[c];
            callers[c] = new Thread(() -> {
                for (int rep = 0; rep < 200; rep++) {
                    TEAM.rows(5000, 8, (from, to) -> {
                        for (int r = from; r < to; r++) {
                            mine.incrementAndGet(r);
                        }
                    });
                }
            });
            callers[c].start();
        }
        for (Thread t : callers) {
            t.join();
        }
        for (AtomicIntegerArray h : hits) {
            for (int r = 0; r < h.length(); r++) {
                assertThat(h.get(r)).isEqualTo(200);
            }
        }
    }

    @Test
    void aFailureInAnyChunkReachesTheCallerAndTheTeamStaysUsable() {
        assertThatThrownBy(() -> TEAM.rows(1000, 1, (from, to) -> {
            if (from <= 777 && 777 < to) {
                throw new IllegalStateException("row 777 failed");
            }
        })).isInstanceOf(IllegalStateException.class).hasMessage("row 777 failed");
        AtomicIntegerArray hits = new AtomicIntegerArray(1000);
        TEAM.rows(1000, 1, (from, to) -> {
            for (int r = from; r < to; r++) {
                hits.incrementAndGet(r);
            }
        });
        for (int r = 0; r < 1000; r++) {
            assertThat(hits.get(r)).isEqualTo(1);
        }
    }
}
