package io.walship.it;

import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.walship.Ack;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.compaction.CompactionPolicy;
import io.walship.internal.log.ObjectKey;
import io.walship.metrics.WalshipMeter;
import io.walship.replica.Replica;
import io.walship.replica.ReplicaOptions;
import io.walship.storage.ForwardingStorage;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.ChildJvm;
import io.walship.testing.FaultyStorage;
import java.io.File;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every meter docs/METRICS.md lists exists and moves in a primary + replica run, read from a
 * SimpleMeterRegistry and from Prometheus' text; and without Micrometer on the class path a
 * primary and a replica work as before.
 */
class MetricsTest {
    private static final Duration BOUND = Duration.ofSeconds(30);
    /** Meters of replicas that apply unstored transactions: they exist here, and move in UnstoredStreamTest. */
    private static final Set<WalshipMeter> APPLY_UNSTORED_ONLY = EnumSet.of(WalshipMeter.REPLICA_UNSTORED,
            WalshipMeter.REPLICA_TAKEN_BACK);

    @TempDir
    Path dir;

    @Test
    void everyMeter_existsAndMoves_inAPrimaryAndReplicaRun_simpleAndPrometheus() throws Exception {
        SimpleMeterRegistry simple = new SimpleMeterRegistry();
        PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        CompositeMeterRegistry registry = new CompositeMeterRegistry();
        registry.add(simple);
        registry.add(prometheus);
        Path db = dir.resolve("app.db");
        FaultyStorage storage = new FaultyStorage(FileSystemStorage.open(dir.resolve("storage")), 1);
        // a scheduled snapshot after the first stored segment, at txid 1, fails on local I/O: walship.primary.errors
        Files.createDirectory(dir.resolve("app.db-walship-snapshot-1"));
        PrimaryOptions options = PrimaryOptions.builder().snapshotAfterLogBytes(1).checkpointFrames(20)
                .retryInitialBackoff(Duration.ofMillis(1)).meterRegistry(registry)
                .compaction(CompactionPolicy.defaults().withGrace(Duration.ZERO))
                .compactionInterval(Duration.ofMillis(50)).build();
        try (Primary primary = Primary.open(storage, db, options)) {
            primary.write(conn -> exec(conn, "create table t(n int, b blob)")).get(BOUND);
            long deadline = System.nanoTime() + BOUND.toNanos();
            while (primary.status().error().isEmpty()) { // the snapshot at txid 1 fails before more is written
                assertThat(System.nanoTime()).as("scheduled snapshot failure reported").isLessThan(deadline);
                Thread.sleep(5);
            }
            assertThat(primary.status().health()).isEqualTo(io.walship.Health.RUNNING);
            assertThat(primary.status().error()).get().satisfies(p -> assertThat(p.message())
                    .contains("app.db-walship-snapshot-1"));
            storage.failNextPuts(1); // walship.primary.upload.failures
            for (int i = 0; i < 100; i++) {
                int n = i;
                Ack<Void> ack = primary.write(conn -> exec(conn, "insert into t values (" + n + ", randomblob(3000))"));
                if (n % 10 == 0) {
                    ack.get(BOUND);
                }
            }
            primary.flush().get(BOUND);
            primary.snapshot();
            primary.checkpoint();

            AtomicBoolean failNext = new AtomicBoolean(); // armed once the replica is open: its follower meets it
            Storage replicaStorage = new ForwardingStorage(storage) {
                @Override
                public Optional<InputStream> open(String key) {
                    if (key.startsWith(ObjectKey.LOG_PREFIX) && failNext.compareAndSet(true, false)) {
                        throw new StorageException("get", key, StorageException.Kind.UNAVAILABLE, "injected", null);
                    }
                    return super.open(key);
                }
            };
            // the replica restores the newest snapshot, so more log must follow for it to apply
            try (Replica replica = Replica.open(replicaStorage, dir.resolve("replica.db"), ReplicaOptions.builder()
                    .pollInterval(Duration.ofMillis(5)).maxErrorBackoff(Duration.ofMillis(20))
                    .meterRegistry(registry).build())) {
                failNext.set(true);
                replica.follow();
                replica.onApplied(batch -> { }); // walship.replica.tables moves only for listeners
                Ack<Void> last = null;
                for (int i = 0; i < 20; i++) {
                    last = primary.write(conn -> exec(conn, "insert into t values (-1, null)"));
                }
                assertThat(replica.awaitTxid(last.get(BOUND), BOUND)).isTrue();
                long deadline2 = System.nanoTime() + BOUND.toNanos();
                while (simple.find(WalshipMeter.COMPACTION_OBJECTS.meterName()).tag("action", "replaced")
                        .counter() == null) { // background compaction: a run that compacts, then one that deletes
                    assertThat(System.nanoTime()).as("compaction ran").isLessThan(deadline2);
                    Thread.sleep(10);
                }

                for (WalshipMeter meter : WalshipMeter.values()) {
                    List<Meter> found = List.copyOf(simple.find(meter.meterName()).meters());
                    assertThat(found).as("%s exists", meter.meterName()).isNotEmpty();
                    if (!APPLY_UNSTORED_ONLY.contains(meter)) {
                        assertThat(moved(meter, found)).as("%s moved", meter.meterName()).isTrue();
                    }
                }
                assertThat(gauge(simple, WalshipMeter.PRIMARY_TXID)).isEqualTo(primary.txid());
                assertThat(gauge(simple, WalshipMeter.PRIMARY_STORED_TXID)).isEqualTo(primary.storedTxid());
                assertThat(gauge(simple, WalshipMeter.REPLICA_TXID)).isEqualTo(replica.txid());
                assertThat(gauge(simple, WalshipMeter.PRIMARY_FAILED)).isZero();
                assertThat(gauge(simple, WalshipMeter.REPLICA_FAILED)).isZero();
                assertThat(simple.find(WalshipMeter.PRIMARY_ERRORS.meterName()).tag("task", "snapshot").counter())
                        .isNotNull();
                assertThat(primary.status().error()).as("cleared once a snapshot was stored").isEmpty();

                String text = prometheus.scrape();
                for (WalshipMeter meter : WalshipMeter.values()) {
                    assertThat(text).as("Prometheus text").contains(prometheusSeries(meter) + "{");
                }
                assertThat(text).contains("walship_primary_ack_latency_seconds{db=\"app.db\",quantile=\"0.99\"}");
            }
        }
        assertThat(simple.find(WalshipMeter.PRIMARY_TXID.meterName()).meters()).as("removed at close").isEmpty();
    }

    /** Counters and timers counted something; gauges hold a value (0 is a value for failure gauges). */
    private static boolean moved(WalshipMeter meter, List<Meter> found) {
        switch (meter.type()) {
            case COUNTER:
                return found.stream().mapToDouble(m -> ((Counter) m).count()).sum() > 0;
            case TIMER:
                return found.stream().mapToLong(m -> ((Timer) m).count()).sum() > 0;
            case SUMMARY:
                return found.stream().mapToLong(m -> ((io.micrometer.core.instrument.DistributionSummary) m).count())
                        .sum() > 0;
            default:
                double value = found.get(0).measure().iterator().next().getValue();
                return !Double.isNaN(value) && (value > 0 || meter == WalshipMeter.PRIMARY_FAILED
                        || meter == WalshipMeter.REPLICA_FAILED || meter == WalshipMeter.PRIMARY_STORAGE_FAILING
                        || meter == WalshipMeter.PRIMARY_PENDING_BYTES || meter == WalshipMeter.PRIMARY_PENDING_TRANSACTIONS
                        || meter == WalshipMeter.PRIMARY_UNSTORED_AGE || meter == WalshipMeter.REPLICA_POLL_AGE
                        || meter == WalshipMeter.STORAGE_EARLIEST_TXID || meter == WalshipMeter.STORAGE_HOLES
                        || meter == WalshipMeter.STORAGE_PROBLEMS);
        }
    }

    private static double gauge(MeterRegistry registry, WalshipMeter meter) {
        return registry.get(meter.meterName()).gauge().value();
    }

    /** The series Prometheus shows for a meter, as docs/METRICS.md lists it. */
    static String prometheusSeries(WalshipMeter meter) {
        String base = meter.meterName().replace('.', '_');
        String unit = meter.unit();
        if (!unit.isEmpty() && !base.endsWith("_" + unit)) {
            base += "_" + unit;
        }
        switch (meter.type()) {
            case COUNTER:
                return base + "_total";
            case TIMER:
            case SUMMARY:
                return base + "_count";
            default:
                return base;
        }
    }

    @Test
    void primaryAndReplica_withoutMicrometerOnTheClassPath_work() throws Exception {
        String classPath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(entry -> !entry.contains("micrometer") && !entry.contains("HdrHistogram")
                        && !entry.contains("LatencyUtils") && !entry.contains("prometheus"))
                .collect(Collectors.joining(File.pathSeparator));
        assertThat(classPath).doesNotContain("micrometer");
        Process child = ChildJvm.start(ProcessBuilder.Redirect.PIPE, List.of("-cp", classPath), Map.of(),
                "io.walship.example.QuickStart", dir.resolve("demo").toString());
        String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(child.waitFor(BOUND.toSeconds(), TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as(out).isZero();
        assertThat(out).contains("replica at txid 2 reads");
    }
}
