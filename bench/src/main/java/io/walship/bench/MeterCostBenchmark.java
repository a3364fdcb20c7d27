package io.walship.bench;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.walship.internal.metrics.Metrics;
import io.walship.internal.metrics.MicrometerMetrics;
import io.walship.metrics.WalshipMeter;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What a meter registry adds to one single-row transaction, in nanoseconds: the two timer
 * records walship makes per transaction (capture, on the capture thread; ack latency, on the
 * flusher's) with their clock reads, into a Prometheus registry against {@link Metrics#NONE}.
 * The whole-write comparison (metrics_write_ratio) is too noisy on a small machine to resolve a
 * few percent; this figure is the cost itself, and travels between machines.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MeterCostBenchmark {
    /** none: Metrics.NONE; prometheus: a PrometheusMeterRegistry, quantiles as walship configures them. */
    @Param({"none", "prometheus"})
    public String registry;

    private PrometheusMeterRegistry prometheus;
    private Metrics metrics;
    private Metrics.Timer capture;
    private Metrics.Timer ackLatency;

    @Setup(Level.Trial)
    public void open() {
        if (registry.equals("prometheus")) {
            prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            metrics = MicrometerMetrics.of(prometheus, "bench.db");
        } else {
            metrics = Metrics.NONE;
        }
        capture = metrics.timer(WalshipMeter.PRIMARY_CAPTURE);
        ackLatency = metrics.timer(WalshipMeter.PRIMARY_ACK_LATENCY);
    }

    @TearDown(Level.Trial)
    public void close() {
        metrics.close();
        if (prometheus != null) {
            prometheus.close();
        }
    }

    @Benchmark
    public void perTransaction() {
        long started = System.nanoTime();
        capture.recordSince(started);
        ackLatency.recordSince(started);
    }
}
