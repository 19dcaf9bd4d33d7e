package dev.attune.core.engine;

import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Splits a range of independent rows over the engine's threads for work that comes in quick succession, such as
 * the ~60 products and attentions of one decoding step, each tens of microseconds long. {@link Parallel#rows} hands
 * each range to a fork-join pool: the caller sleeps, a worker is woken, wakes a second, and the last to finish wakes
 * the caller; on a virtual machine each wake-up costs tens of microseconds, as much as the work. Here the caller
 * works too, the helpers (one fewer than the threads) spin for a short while after each range before they sleep, so
 * during a decoding step they are still awake when the next range comes, and the range is taken in chunks from a
 * shared counter: a helper that the operating system has not scheduled (a busy machine) costs at most the chunk it
 * holds, because the caller takes the others.
 *
 * <p>One caller at a time: a call made while another thread's range is running (concurrent generations in a server),
 * or from inside a range, goes to {@link Parallel#rows} instead, and so does every call while the machine is
 * oversubscribed (a one-minute load average above 1.5 per engine thread), where spinning threads lose. The system
 * property {@code attune.stepTeam} ({@code auto}, {@code on}, {@code off}) overrides that rule for comparisons.
 */
public final class StepTeam {

    /** Work on rows {@code [from, to)}. */
    @FunctionalInterface
    public interface RowRange {
        void run(int from, int to);
    }

    /**
     * How long a helper spins for the next range before it sleeps (the caller spins a quarter of it for the helpers'
     * last chunks before it sleeps until they wake it): the gaps inside a decoding step are a few microseconds, those
     * between steps (sampling the next token) are longer, so the helpers sleep between steps, not within them.
     */
    private static final long SPIN_NANOS = 100_000;

    private static volatile StepTeam team;

    private final Thread[] helpers;
    private final ReentrantLock lock = new ReentrantLock();
    private volatile Task current;
    private final AtomicInteger[] parked;

    /** One range: its chunks are claimed from {@code next}; {@code done} counts finished chunks. */
    private static final class Task {
        final RowRange body;
        final int rows;
        final int chunk;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final Thread caller = Thread.currentThread();
        volatile boolean callerParked;
        volatile Throwable failure;

        Task(RowRange body, int rows, int chunk) {
            this.body = body;
            this.rows = rows;
            this.chunk = chunk;
            this.chunks = (rows + chunk - 1) / chunk;
        }

        /** Claims and runs chunks until none is left. */
        void work() {
            int finished = 0;
            try {
                for (int i; (i = next.getAndIncrement()) < chunks; finished++) {
                    body.run(i * chunk, Math.min(rows, (i + 1) * chunk));
                }
            } catch (Throwable t) {
                failure = t;
                finished++;
                next.set(chunks);           // nobody starts another chunk; those under way finish
                done.set(chunks);
                LockSupport.unpark(caller);
                return;
            }
            if (finished > 0 && done.addAndGet(finished) == chunks && callerParked) {
                LockSupport.unpark(caller);
            }
        }

        /** The caller, its own chunks done, waits for the helpers' last ones: spinning briefly, then asleep. */
        void await() {
            long start = System.nanoTime();
            while (done.get() < chunks) {
                if (System.nanoTime() - start < SPIN_NANOS / 4) {
                    Thread.onSpinWait();
                } else {
                    callerParked = true;
                    if (done.get() < chunks) {
                        LockSupport.parkNanos(this, 1_000_000);
                    }
                }
            }
        }
    }

    private StepTeam(int threads) {
        helpers = new Thread[threads - 1];
        parked = new AtomicInteger[threads - 1];
        for (int i = 0; i < helpers.length; i++) {
            parked[i] = new AtomicInteger();
            int id = i;
            helpers[i] = new Helper(() -> help(id), "attune-step-" + (i + 1));
            helpers[i].setDaemon(true);
            helpers[i].start();
        }
    }

    /**
     * Runs {@code body} over {@code [0, rows)} in chunks of about {@code rows / (4 threads)} rows, rounded up to a
     * multiple of {@code align} and never below {@code minRows}; ranges of fewer than {@code 2 minRows} rows run on the
     * caller's thread alone.
     */
    public static void rows(int rows, int minRows, int align, RowRange body) {
        int threads = Engine.init().threads();
        if (threads <= 1 || rows < 2 * minRows) {
            body.run(0, rows);
            return;
        }
        if (oversubscribed(threads)) {
            Parallel.rows(rows, minRows, body::run);
            return;
        }
        StepTeam t = instance(threads);
        if (Thread.currentThread() instanceof Helper || !t.lock.tryLock()) {
            Parallel.rows(rows, minRows, body::run);
            return;
        }
        try {
            int chunk = Math.max(minRows, (rows + 4 * threads - 1) / (4 * threads));
            chunk = (chunk + align - 1) / align * align;
            t.run(new Task(body, rows, chunk));
        } finally {
            t.lock.unlock();
        }
    }

    /**
     * Whether more threads want to run than there are cores (the one-minute load average above 1.5 per engine
     * thread), read at most twice a second. Spinning then takes time slices from this process's own threads and
     * others': measured under a load average of 12-14 on 2 cores, GPT-2-small int8 decoding steps took 1.5-2x longer
     * with the team than with {@link Parallel#rows}, while with this process at the highest priority on the same busy
     * machine they took less than half as long (7-9 ms against 18-20 ms).
     */
    private static boolean oversubscribed(int threads) {
        String m = mode;
        if (!m.equals("auto")) {
            return m.equals("off");
        }
        long now = System.nanoTime();
        if (now - loadCheckedAt > 500_000_000L) {
            loadCheckedAt = now;
            double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
            busy = load > 1.5 * threads;
        }
        return busy;
    }

    /**
     * {@code attune.stepTeam}: {@code auto} (the default: the team unless the machine is oversubscribed), {@code on}
     * or {@code off} (always {@link Parallel#rows}), for speed comparisons (and tests).
     */
    static volatile String mode = System.getProperty("attune.stepTeam", "auto");

    private static volatile long loadCheckedAt = System.nanoTime() - 1_000_000_000L;
    private static volatile boolean busy;

    private static StepTeam instance(int threads) {
        StepTeam t = team;
        if (t == null || t.helpers.length != threads - 1) {
            synchronized (StepTeam.class) {
                if (team == null || team.helpers.length != threads - 1) {
                    team = new StepTeam(threads);
                }
                t = team;
            }
        }
        return t;
    }

    private void run(Task task) {
        current = task;
        for (int i = 0; i < helpers.length; i++) {
            if (parked[i].get() != 0) {
                LockSupport.unpark(helpers[i]);
            }
        }
        task.work();
        task.await();
        current = null;     // lets the body and its arrays go
        Throwable failure = task.failure;
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }

    private void help(int id) {
        Task seen = null;
        while (true) {
            Task task = current;
            long start = System.nanoTime();
            while (task == null || task == seen) {
                if (System.nanoTime() - start > SPIN_NANOS) {
                    parked[id].set(1);
                    while ((task = current) == null || task == seen) {
                        LockSupport.park(this);
                    }
                    parked[id].set(0);
                    break;
                }
                Thread.onSpinWait();
                task = current;
            }
            seen = task;
            task.work();
        }
    }

    /** The helpers' thread class, so that a range started from inside a range runs without the team. */
    private static final class Helper extends Thread {
        Helper(Runnable r, String name) {
            super(r, name);
        }
    }
}
