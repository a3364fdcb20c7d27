package io.walship.internal.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.walship.metrics.WalshipMeter;
import java.util.function.DoubleSupplier;

/**
 * Where walship's primary and replica record what they do. {@link #NONE} records nothing and
 * costs a call; {@link MicrometerMetrics} records into a Micrometer {@code MeterRegistry}.
 * Only that class names Micrometer's types, so without a registry (or without Micrometer on the
 * class path) nothing of Micrometer is loaded.
 *
 * <p>Tags are given as name, value pairs; every meter also carries {@code db}. Instruments are
 * looked up once by their owner and kept: recording is then a field read and a call.
 */
public interface Metrics extends AutoCloseable {
    /** Records nothing. */
    Metrics NONE = new Metrics() {
        @Override
        public Timer timer(WalshipMeter meter, String... tags) {
            return nanos -> { };
        }

        @Override
        public Counter counter(WalshipMeter meter, String... tags) {
            return amount -> { };
        }

        @Override
        public Summary summary(WalshipMeter meter, String... tags) {
            return amount -> { };
        }

        @Override
        public void gauge(WalshipMeter meter, DoubleSupplier value) {
        }

        @Override
        public void close() {
        }
    };

    /**
     * Metrics of database {@code db} in {@code registry}, or {@link #NONE} when it is null. The
     * registry is only passed on, so this loads nothing of Micrometer when it is null.
     */
    static Metrics of(MeterRegistry registry, String db) {
        return registry == null ? NONE : MicrometerMetrics.of(registry, db);
    }

    Timer timer(WalshipMeter meter, String... tags);

    Counter counter(WalshipMeter meter, String... tags);

    Summary summary(WalshipMeter meter, String... tags);

    /** A gauge read from {@code value} whenever the registry is scraped. */
    void gauge(WalshipMeter meter, DoubleSupplier value);

    /** Removes this owner's meters from the registry (the primary or replica closed). */
    @Override
    void close();

    /** A duration. */
    interface Timer {
        void record(long nanos);

        /** Records the time since {@code startedNanos} ({@link System#nanoTime()}). */
        default void recordSince(long startedNanos) {
            record(System.nanoTime() - startedNanos);
        }
    }

    /** A count that only goes up. */
    interface Counter {
        void add(double amount);

        default void increment() {
            add(1);
        }
    }

    /** Amounts (bytes). */
    interface Summary {
        void record(double amount);
    }
}
