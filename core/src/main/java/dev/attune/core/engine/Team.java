package dev.attune.core.engine;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Splits rows over the engine's threads for work that comes in many small pieces in quick succession, such as the
 * ~50 matrix products of one decoded token (each well under a millisecond). {@link Parallel#rows} hands every piece
 * to a fork-join pool while the caller waits: a parked worker is woken for each product, and then the caller, which
 * costs tens of microseconds a hand-off and far more when a loaded machine is slow to schedule the woken thread.
 *
 * <p>Here the caller works too, and the rows are cut into chunks that whichever thread is free takes from a shared
 * counter: if a helper is not running, the caller does all the chunks itself instead of waiting for it. Helpers
 * spin for a short while after each piece (the next one usually follows within microseconds), then park until woken.
 * One piece runs at a time; a call that finds the team busy (another thread, or a piece calling in from inside one)
 * runs its rows on its own thread.
 */
public final class Team {

    /** How long an idle helper spins before it parks: longer than the gaps inside a decoding step. */
    private static final long SPIN_NANOS = 200_000;
    /** Chunks per thread: small enough that a late helper leaves little for the caller to wait on. */
    private static final int CHUNKS_PER_THREAD = 4;

    private static volatile Team shared;

    private final Thread[] helpers;
    private final AtomicBoolean[] parked;
    private final AtomicBoolean busy = new AtomicBoolean();
    private final AtomicReference<Piece> current = new AtomicReference<>();

    /** One call's rows: chunks are claimed from {@code next}; {@code done} counts finished ones. */
    private static final class Piece {
        final Parallel.RowRange body;
        final int rows;
        final int chunk;
        final int chunks;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Piece(Parallel.RowRange body, int rows, int chunk) {
            this.body = body;
            this.rows = rows;
            this.chunk = chunk;
            this.chunks = (rows + chunk - 1) / chunk;
        }

        /** Takes and runs chunks until none is left. */
        void work() {
            for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
                try {
                    if (failure == null) {
                        body.run(c * chunk, Math.min(rows, (c + 1) * chunk));
                    }
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    Team(int threads) {
        helpers = new Thread[threads - 1];
        parked = new AtomicBoolean[threads - 1];
        for (int i = 0; i < helpers.length; i++) {
            int id = i;
            parked[i] = new AtomicBoolean();
            helpers[i] = new Thread(() -> helperLoop(id), "attune-team-" + (i + 1));
            helpers[i].setDaemon(true);
            helpers[i].start();
        }
    }

    /** The team of the engine's thread count (one helper fewer than threads: the caller is one of them). */
    public static Team shared() {
        Team t = shared;
        if (t == null) {
            synchronized (Team.class) {
                if (shared == null) {
                    shared = new Team(Math.max(1, Engine.init().threads()));
                }
                t = shared;
            }
        }
        return t;
    }

    /** Threads that work on a piece, the caller included. */
    public int threads() {
        return helpers.length + 1;
    }

    /**
     * Runs {@code body} over {@code [0, rows)} in chunks of at least {@code minRowsPerChunk} rows, on the calling
     * thread and the helpers; returns when every row is done. A failure in any chunk is rethrown here.
     */
    public void rows(int rows, int minRowsPerChunk, Parallel.RowRange body) {
        int threads = threads();
        int chunk = Math.max(Math.max(1, minRowsPerChunk), (rows + threads * CHUNKS_PER_THREAD - 1)
                / (threads * CHUNKS_PER_THREAD));
        if (threads == 1 || rows <= chunk || !busy.compareAndSet(false, true)) {
            body.run(0, rows);
            return;
        }
        try {
            Piece piece = new Piece(body, rows, chunk);
            current.set(piece);
            for (int i = 0; i < helpers.length; i++) {
                if (parked[i].get()) {
                    LockSupport.unpark(helpers[i]);
                }
            }
            piece.work();
            // Chunks a helper has taken and not finished: yield rather than spin, so a helper that shares this core
            // with other processes gets it back sooner.
            while (piece.done.get() < piece.chunks) {
                Thread.yield();
            }
            current.compareAndSet(piece, null);
            Throwable failure = piece.failure;
            if (failure instanceof RuntimeException e) {
                throw e;
            }
            if (failure instanceof Error e) {
                throw e;
            }
            if (failure != null) {
                throw new IllegalStateException(failure);
            }
        } finally {
            busy.set(false);
        }
    }

    private void helperLoop(int id) {
        Piece last = null;
        long idleSince = System.nanoTime();
        while (true) {
            Piece piece = current.get();
            if (piece != null && piece != last) {
                last = piece;
                piece.work();
                idleSince = System.nanoTime();
                continue;
            }
            if (System.nanoTime() - idleSince < SPIN_NANOS) {
                Thread.onSpinWait();
                continue;
            }
            parked[id].set(true);
            // a piece posted between the check above and the flag is seen here, so no wake-up is lost
            Piece after = current.get();
            if (after == null || after == last) {
                LockSupport.park(this);
            }
            parked[id].set(false);
            idleSince = System.nanoTime();
        }
    }
}
