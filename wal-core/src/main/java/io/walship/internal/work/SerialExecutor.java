package io.walship.internal.work;

import java.util.ArrayDeque;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * Runs one database's tasks one at a time, in order, on a shared pool: what a single-thread
 * executor per database did, without the thread.
 */
public final class SerialExecutor implements Executor {
    private final ArrayDeque<Runnable> tasks = new ArrayDeque<>();
    private final Lane lane;
    private boolean shutdown;
    private boolean running;

    SerialExecutor(Workers workers, Workers.Pool pool, String name) {
        this.lane = workers.lane(pool, name, this::drain);
    }

    /** @throws RejectedExecutionException after {@link #shutdown()} */
    @Override
    public synchronized void execute(Runnable task) {
        if (shutdown) {
            throw new RejectedExecutionException("executor shut down");
        }
        tasks.add(task);
        lane.signal();
    }

    /** Refuses new tasks; those queued still run. */
    public synchronized void shutdown() {
        shutdown = true;
        notifyAll();
    }

    /** Waits until shut down and every queued task has run; false when the time ran out first. */
    public synchronized boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long deadline = System.nanoTime() + unit.toNanos(timeout);
        while (!(shutdown && tasks.isEmpty() && !running)) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return true;
    }

    private void drain() {
        while (true) {
            Runnable task;
            synchronized (this) {
                task = tasks.poll();
                running = task != null;
                if (task == null) {
                    notifyAll();
                    return;
                }
            }
            try {
                task.run();
            } finally {
                synchronized (this) {
                    running = false;
                    notifyAll();
                }
            }
        }
    }
}
