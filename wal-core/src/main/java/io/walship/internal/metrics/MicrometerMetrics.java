package io.walship.internal.metrics;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.walship.metrics.WalshipMeter;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/**
 * {@link Metrics} kept in a Micrometer {@link MeterRegistry}. Timers publish the 50th, 90th and
 * 99th percentiles (client side, over a sliding window) besides count, sum and max; each meter
 * registered here is removed again at {@link #close()}, so a database reopened in the same
 * process registers fresh gauges instead of finding the closed one's.
 */
public final class MicrometerMetrics implements Metrics {
    private static final double[] PERCENTILES = {0.5, 0.9, 0.99};

    private final MeterRegistry registry;
    private final Tags common;
    private final List<Meter> registered = new CopyOnWriteArrayList<>();

    private MicrometerMetrics(MeterRegistry registry, String db) {
        this.registry = Objects.requireNonNull(registry, "registry");
        this.common = Tags.of("db", db);
    }

    /** Metrics for database {@code db} in {@code registry} (not null: {@link Metrics#of} handles that). */
    public static Metrics of(MeterRegistry registry, String db) {
        return new MicrometerMetrics(registry, db);
    }

    @Override
    public Timer timer(WalshipMeter meter, String... tags) {
        io.micrometer.core.instrument.Timer timer = keep(io.micrometer.core.instrument.Timer.builder(meter.meterName())
                .description(meter.description()).tags(common.and(tags)).publishPercentiles(PERCENTILES)
                .register(registry));
        return nanos -> timer.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public Counter counter(WalshipMeter meter, String... tags) {
        io.micrometer.core.instrument.Counter counter = keep(io.micrometer.core.instrument.Counter
                .builder(meter.meterName()).description(meter.description()).baseUnit(unit(meter))
                .tags(common.and(tags)).register(registry));
        return counter::increment;
    }

    @Override
    public Summary summary(WalshipMeter meter, String... tags) {
        DistributionSummary summary = keep(DistributionSummary.builder(meter.meterName())
                .description(meter.description()).baseUnit(unit(meter)).tags(common.and(tags)).register(registry));
        return summary::record;
    }

    @Override
    public void gauge(WalshipMeter meter, DoubleSupplier value) {
        keep(Gauge.builder(meter.meterName(), value::getAsDouble).description(meter.description())
                .baseUnit(unit(meter)).tags(common).strongReference(true).register(registry));
    }

    private <M extends Meter> M keep(M meter) {
        if (!registered.contains(meter)) {
            registered.add(meter);
        }
        return meter;
    }

    private static String unit(WalshipMeter meter) {
        return meter.unit().isEmpty() ? null : meter.unit();
    }

    @Override
    public void close() {
        for (Meter meter : registered) {
            registry.remove(meter);
        }
        registered.clear();
    }
}
