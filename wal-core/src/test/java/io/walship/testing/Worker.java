package io.walship.testing;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A test's helper thread whose failure reaches the test: {@link #join} rethrows what the task
 * threw (an assertion in a bare {@code Thread} is printed and lost) and fails if it did not end
 * in time.
 */
public final class Worker {
    /** The work; may throw anything. */
    @FunctionalInterface
    public interface Task {
        void run() throws Exception;
    }

    private final Thread thread;
    private volatile Throwable failure;

    private Worker(String name, Task task) {
        this.thread = new Thread(() -> {
            try {
                task.run();
            } catch (Throwable t) {
                failure = t;
            }
        }, name);
        thread.setDaemon(true);
    }

    /**
     * Starts a thread that keeps a core busy until {@code stop} is set: the load a user's machine
     * has, beside a race that might show only under it.
     */
    public static Worker busy(String name, AtomicBoolean stop) {
        return start(name, () -> {
            long x = 1;
            while (!stop.get()) {
                for (int i = 0; i < 100_000; i++) {
                    x = x * 6364136223846793005L + 1442695040888963407L;
                }
            }
            if (x == 42) {
                System.out.println(x); // keeps the loop from being optimised away
            }
        });
    }

    public static Worker start(String name, Task task) {
        Worker worker = new Worker(name, task);
        worker.thread.start();
        return worker;
    }

    public Thread.State state() {
        return thread.getState();
    }

    /** Waits up to {@code bound} for the task to end, then rethrows its failure, if any. */
    public void join(Duration bound) throws InterruptedException {
        thread.join(bound.toMillis());
        if (thread.isAlive()) {
            throw new AssertionError(thread.getName() + " still running after " + bound);
        }
        if (failure != null) {
            throw new AssertionError(thread.getName() + " failed: " + failure, failure);
        }
    }
}
