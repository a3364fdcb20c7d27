package io.walship.testing;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Threads that keep the cores busy while a test races: the load of a user's busy machine, beside
 * a race that might show only under it. Close it to stop them; closing fails if one did not end.
 * A test that stops other threads with the same flag builds its own from {@link Worker#busy}.
 */
public final class BusyLoad implements AutoCloseable {
    private static final Duration BOUND = Duration.ofSeconds(10);

    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Worker> workers = new ArrayList<>();

    private BusyLoad(int threads) {
        for (int i = 1; i <= threads; i++) {
            workers.add(Worker.busy("busy-" + i, stop));
        }
    }

    /** Starts {@code threads} threads that each keep a core busy until closed. */
    public static BusyLoad start(int threads) {
        return new BusyLoad(threads);
    }

    @Override
    public void close() throws InterruptedException {
        stop.set(true);
        for (Worker worker : workers) {
            worker.join(BOUND);
        }
    }
}
