package io.walship.internal.work;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounded thread pools a runtime's databases share, and the timer that wakes them.
 */
public final class Workers implements AutoCloseable {
    /*
     * One pool per kind of work, so that no kind can starve another into a deadlock: a writer
     * folding the WAL waits for its capture (CAPTURE), a snapshot waits for uploads (IO), a
     * compaction run may take minutes (COMPACTION) and must not hold up a checkpoint that
     * waited for storage (MAINTENANCE). Within a kind, databases take turns (see Lane).
     *
     * Threads are created on demand and end after IDLE_SECONDS without work, so an idle runtime
     * holds the timer thread and nothing else, and a runtime of one database (Primary.open
     * without a runtime) holds what its own threads did before.
     */
    private static final long IDLE_SECONDS = 30;

    /** The kinds of work, each with its own bounded pool. */
    public enum Pool {
        /** Reading committed frames from the WAL into segments: CPU, never waits for storage. */
        CAPTURE,
        /** Uploads and followers' polls: waits on storage. */
        IO,
        /** Snapshots and checkpoints that waited for storage. */
        MAINTENANCE,
        /** Compaction and retention runs: long, low priority. */
        COMPACTION
    }

    /** How many threads each pool may run at most. */
    public record Sizes(int capture, int io, int maintenance, int compaction) {
        public Sizes {
            if (capture < 1 || io < 1 || maintenance < 1 || compaction < 1) {
                throw new IllegalArgumentException("every pool needs at least one thread: " + this);
            }
        }

        /** What one database alone needs: a thread per kind, as a database with its own threads had. */
        public static Sizes single() {
            return new Sizes(1, 1, 1, 1);
        }

        int of(Pool pool) {
            return switch (pool) {
                case CAPTURE -> capture;
                case IO -> io;
                case MAINTENANCE -> maintenance;
                case COMPACTION -> compaction;
            };
        }
    }

    private final String name;
    private final Map<Pool, ThreadPoolExecutor> pools = new EnumMap<>(Pool.class);
    private final ScheduledThreadPoolExecutor timer;

    private Workers(String name, Sizes sizes) {
        this.name = name;
        for (Pool pool : Pool.values()) {
            int threads = sizes.of(pool);
            ThreadPoolExecutor executor = new ThreadPoolExecutor(threads, threads, IDLE_SECONDS, TimeUnit.SECONDS,
                    new LinkedBlockingQueue<>(), daemons("walship-" + pool.name().toLowerCase() + "-" + name,
                    pool == Pool.COMPACTION ? Thread.MIN_PRIORITY : Thread.NORM_PRIORITY));
            executor.allowCoreThreadTimeOut(true);
            pools.put(pool, executor);
        }
        this.timer = new ScheduledThreadPoolExecutor(1, daemons("walship-timer-" + name, Thread.NORM_PRIORITY));
        timer.setRemoveOnCancelPolicy(true);
    }

    /** Starts the pools of a runtime; {@code name} names their threads. */
    public static Workers start(String name, Sizes sizes) {
        return new Workers(name, sizes);
    }

    /** A lane of {@code pool} running {@code step} each time it is signalled. */
    public Lane lane(Pool pool, String laneName, Runnable step) {
        return new Lane(laneName, pools.get(pool), timer, step);
    }

    /** A serial executor of tasks on {@code pool}. */
    public SerialExecutor serial(Pool pool, String laneName) {
        return new SerialExecutor(this, pool, laneName);
    }

    /** Threads alive now in the pools and the timer. */
    public int threads() {
        int threads = timer.getPoolSize();
        for (ThreadPoolExecutor pool : pools.values()) {
            threads += pool.getPoolSize();
        }
        return threads;
    }

    /** Alarms armed now (each a lane waiting for time); zero while every database is idle. */
    public int alarms() {
        return timer.getQueue().size();
    }

    /** Whether any lane is running or queued now; with no {@link #alarms()}, the runtime is idle. */
    public boolean busy() {
        if (timer.getActiveCount() > 0) {
            return true;
        }
        for (ThreadPoolExecutor pool : pools.values()) {
            if (pool.getActiveCount() > 0 || !pool.getQueue().isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** Stops the threads once their queued work is done; bounded wait. */
    @Override
    public void close() {
        timer.shutdownNow();
        pools.values().forEach(ThreadPoolExecutor::shutdown);
        try {
            for (ThreadPoolExecutor pool : pools.values()) {
                pool.awaitTermination(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static java.util.concurrent.ThreadFactory daemons(String prefix, int priority) {
        AtomicInteger number = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + number.incrementAndGet());
            t.setDaemon(true);
            t.setPriority(priority);
            return t;
        };
    }

    @Override
    public String toString() {
        return "Workers[" + name + "]";
    }
}
