package io.walship.testing;

import java.time.Duration;

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
