package io.walship;

import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.SegmentSpill;
import io.walship.metrics.WalshipMeter;
import io.walship.testing.FaultyStorage;
import io.walship.testing.MemoryStorage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No failure stays silent: whatever escapes the flusher, the capture thread or a maintenance
 * task stops the primary with the cause on every waiting ack, every later write and status();
 * storage errors that are retried show as RETRYING and clear.
 */
class PrimaryFailureTest {
    private static final Duration BOUND = Duration.ofSeconds(20);

    @TempDir
    Path dir;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    private PrimaryOptions options() {
        return PrimaryOptions.builder().flushInterval(Duration.ofMillis(2)).retryInitialBackoff(Duration.ofMillis(1))
                .retryMaxBackoff(Duration.ofMillis(20)).meterRegistry(registry).build();
    }

    private double gauge(WalshipMeter meter) {
        return registry.get(meter.meterName()).gauge().value();
    }

    @Test
    void write_storageThrowsUnexpectedRuntimeException_ackFailsWithItAndLaterWritesAreRefused() throws Exception {
        FaultyStorage storage = new FaultyStorage(new MemoryStorage(), 1);
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), options())) {
            primary.write(conn -> exec(conn, "create table t(n int)")).get(BOUND);
            IllegalStateException bug = new IllegalStateException("storage client bug");
            storage.throwOnNextPut(ObjectKey.LOG_PREFIX, bug);

            Ack<Void> ack = primary.write(conn -> exec(conn, "insert into t values (1)"));

            assertThatThrownBy(() -> ack.get(BOUND)).isInstanceOf(NotStoredException.class).hasRootCause(bug);
            PrimaryStatus status = primary.status();
            assertThat(status.health()).isEqualTo(Health.FAILED);
            assertThat(status.error()).get().satisfies(p -> {
                assertThat(p.kind()).isEqualTo("IllegalStateException");
                assertThat(p.error()).isSameAs(bug);
            });
            assertThat(status.storedTxid()).isEqualTo(1);
            assertThatThrownBy(() -> primary.write(conn -> exec(conn, "insert into t values (2)")))
                    .isInstanceOf(NotStoredException.class).hasRootCause(bug);
            assertThat(gauge(WalshipMeter.PRIMARY_FAILED)).isEqualTo(1);
        }
    }

    @Test
    void scheduledSnapshot_storageThrowsUnexpectedRuntimeException_maintenanceFailureStopsThePrimary()
            throws Exception {
        FaultyStorage storage = new FaultyStorage(new MemoryStorage(), 2);
        PrimaryOptions options = options().toBuilder().snapshotAfterLogBytes(1).build();
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), options)) {
            IllegalStateException bug = new IllegalStateException("snapshot upload bug");
            storage.throwOnNextPut(ObjectKey.SNAPSHOT_PREFIX, bug);

            primary.write(conn -> exec(conn, "create table t(n int)")).get(BOUND); // its segment schedules one

            await(() -> primary.status().health() == Health.FAILED);
            assertThat(primary.status().error()).get().extracting(Problem::error).isSameAs(bug);
            assertThatThrownBy(() -> primary.write(conn -> exec(conn, "insert into t values (1)")))
                    .isInstanceOf(NotStoredException.class).hasMessageContaining("maintenance failed")
                    .hasRootCause(bug);
        }
    }

    @Test
    void capture_spillFileCannotBeCreated_ackFailsAndStatusSaysWhy() throws Exception {
        Path db = dir.resolve("app.db");
        PrimaryOptions options = options().toBuilder().captureMemoryBytes(0).build(); // every segment spills
        try (Primary primary = Primary.open(new MemoryStorage(), db, options)) {
            Path spill = SegmentSpill.besideDatabase(db);
            Files.deleteIfExists(spill);
            Files.writeString(spill, "not a directory"); // what a failing disk or an operator's mistake leaves

            // pages compressed on the capture thread fill a block, which must spill
            Ack<Void> ack = primary.write(conn -> exec(conn, "create table t as select randomblob(2000000) b"));

            assertThatThrownBy(() -> ack.get(BOUND)).isInstanceOf(NotStoredException.class)
                    .hasMessageContaining("FileAlreadyExistsException").hasRootCauseInstanceOf(
                            java.nio.file.FileAlreadyExistsException.class)
                    .cause().hasMessageContaining("capture failed");
            assertThat(primary.status().health()).isEqualTo(Health.FAILED);
            assertThat(primary.status().error()).get().extracting(Problem::kind)
                    .isEqualTo("FileAlreadyExistsException");
            assertThatThrownBy(() -> primary.write(conn -> exec(conn, "insert into t values (1)")))
                    .isInstanceOf(NotStoredException.class);
            assertThat(gauge(WalshipMeter.PRIMARY_FAILED)).isEqualTo(1);
        }
    }

    @Test
    void status_storageRefusingWrites_isRetryingWithTheKindThenRunningOnceStored() throws Exception {
        FaultyStorage storage = new FaultyStorage(new MemoryStorage(), 3);
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), options())) {
            primary.write(conn -> exec(conn, "create table t(n int)")).get(BOUND);
            assertThat(primary.status().health()).isEqualTo(Health.RUNNING);
            storage.failPuts(1.0, 0);

            Ack<Void> ack = primary.write(conn -> exec(conn, "insert into t values (1)"));

            // the counter is registered an instant before its first increment: wait for the count
            await(() -> registry.find(WalshipMeter.PRIMARY_UPLOAD_FAILURES.meterName()).counters().stream()
                    .mapToDouble(io.micrometer.core.instrument.Counter::count).sum() > 0);
            PrimaryStatus retrying = primary.status();
            assertThat(retrying.health()).isEqualTo(Health.RETRYING);
            assertThat(retrying.txid()).isEqualTo(2);
            assertThat(retrying.storedTxid()).isEqualTo(1);
            assertThat(retrying.pendingTransactions()).isEqualTo(1);
            assertThat(retrying.error()).get().extracting(Problem::kind).isEqualTo("io");
            assertThat(gauge(WalshipMeter.PRIMARY_STORAGE_FAILING)).isEqualTo(1);
            assertThat(registry.get(WalshipMeter.PRIMARY_UPLOAD_FAILURES.meterName()).tag("kind", "io").counter()
                    .count()).isPositive();
            assertThat(ack.isStored()).isFalse();

            storage.heal();

            assertThat(ack.get(BOUND)).isEqualTo(2);
            PrimaryStatus healed = primary.status();
            assertThat(healed.health()).isEqualTo(Health.RUNNING);
            assertThat(healed.error()).isEmpty();
            assertThat(healed.pendingTransactions()).isZero();
            assertThat(healed.lastStoredAt()).isPresent();
            assertThat(gauge(WalshipMeter.PRIMARY_STORAGE_FAILING)).isZero();
        }
        assertThat(registry.find(WalshipMeter.PRIMARY_TXID.meterName()).gauges())
                .as("a closed primary's meters are removed").isEmpty();
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + BOUND.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + BOUND);
            }
            Thread.sleep(5);
        }
    }
}
