package io.walship.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waits in tests that are bounded: a condition that never comes fails the test, naming it, instead of hanging CI. */
public final class Await {
    private Await() {
    }

    /** Waits up to {@code bound} for {@code condition}, checking every millisecond or so. */
    public static void until(String what, Duration bound, BooleanSupplier condition) {
        long deadline = System.nanoTime() + bound.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + bound + " waiting for " + what);
            }
            if (Thread.interrupted()) {
                throw new AssertionError("interrupted while waiting for " + what);
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }
}
