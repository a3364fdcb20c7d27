package io.walship.testing;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/** Waits in tests that are bounded: a condition that never comes fails the test, naming it, instead of hanging CI. */
public final class Await {
    /*
     * The waiting thread parks between checks, from 20 µs up to 2 ms: it used to spin
     * (onSpinWait + yield), which on two cores took a core from the very threads the test waits
     * for, so that a loaded suite ran slower and raced differently than a quiet one (issue #31).
     */
    private static final long FIRST_PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(20);
    private static final long LONGEST_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private Await() {
    }

    /** Waits up to {@code bound} for {@code condition}, checking at most every 2 ms. */
    public static void until(String what, Duration bound, BooleanSupplier condition) {
        long deadline = System.nanoTime() + bound.toNanos();
        long park = FIRST_PARK_NANOS;
        while (!condition.getAsBoolean()) {
            long left = deadline - System.nanoTime();
            if (left < 0) {
                throw new AssertionError("timed out after " + bound + " waiting for " + what);
            }
            LockSupport.parkNanos(Math.min(park, left + 1));
            if (Thread.interrupted()) {
                throw new AssertionError("interrupted while waiting for " + what);
            }
            park = Math.min(LONGEST_PARK_NANOS, park * 2);
        }
    }
}
