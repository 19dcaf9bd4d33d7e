package dev.attune.core.engine;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;

/** Splits a range of independent rows over the engine's threads (the same count BLAS uses). */
public final class Parallel {

    /** Work on rows {@code [from, to)}. */
    @FunctionalInterface
    public interface RowRange {
        void run(int from, int to);
    }

    private static volatile ForkJoinPool pool;

    private Parallel() {
    }

    /**
     * Runs {@code body} over {@code [0, rows)} in contiguous chunks, one per thread; small ranges (fewer than
     * {@code minRowsPerTask} rows a thread) run on the caller's thread.
     */
    public static void rows(int rows, int minRowsPerTask, RowRange body) {
        int threads = Engine.init().threads();
        int tasks = Math.min(threads, Math.max(1, rows / Math.max(1, minRowsPerTask)));
        if (tasks <= 1) {
            body.run(0, rows);
            return;
        }
        pool().invoke(new Split(body, 0, rows, tasks));
    }

    private static ForkJoinPool pool() {
        ForkJoinPool p = pool;
        if (p == null) {
            synchronized (Parallel.class) {
                if (pool == null) {
                    pool = new ForkJoinPool(Engine.init().threads(), ForkJoinPool.defaultForkJoinWorkerThreadFactory,
                            null, false);
                }
                p = pool;
            }
        }
        return p;
    }

    private static final class Split extends RecursiveAction {
        private final RowRange body;
        private final int from;
        private final int to;
        private final int tasks;

        Split(RowRange body, int from, int to, int tasks) {
            this.body = body;
            this.from = from;
            this.to = to;
            this.tasks = tasks;
        }

        @Override
        protected void compute() {
            if (tasks == 1) {
                body.run(from, to);
                return;
            }
            int leftTasks = tasks / 2;
            int mid = from + (int) ((long) (to - from) * leftTasks / tasks);
            invokeAll(new Split(body, from, mid, leftTasks), new Split(body, mid, to, tasks - leftTasks));
        }
    }
}
