package io.walship;

import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.internal.log.ObjectKey;
import io.walship.storage.ObjectInfo;
import io.walship.testing.Await;
import io.walship.testing.ManualClock;
import io.walship.testing.MemoryStorage;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Snapshots come as the log since the last one calls for it: past a share of the database's
 * size, or after an interval with activity; never for an idle database.
 */
class SnapshotCadenceTest {
    private static final Duration BOUND = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final MemoryStorage storage = new MemoryStorage();

    private List<Long> snapshotTxids() {
        return storage.list(ObjectKey.SNAPSHOT_PREFIX).stream().map(o -> ObjectKey.parseSnapshot(o.key()))
                .flatMap(Optional::stream).sorted().toList();
    }

    /** Bytes of the segments holding txids in (afterTxid, throughTxid]. */
    private long logBytes(long afterTxid, long throughTxid) {
        return storage.list(ObjectKey.LOG_PREFIX).stream()
                .filter(o -> {
                    long first = ObjectKey.parseSegment(o.key()).orElseThrow();
                    return first > afterTxid && first <= throughTxid;
                })
                .mapToLong(ObjectInfo::size).sum();
    }

    @Test
    void logPastHalfTheDatabase_takesASnapshot_smallerLogDoesNot() throws Exception {
        PrimaryOptions options = PrimaryOptions.builder().snapshotLogFraction(0.5).build();
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), options)) {
            // 8 MiB of incompressible rows: the log of that one transaction is itself past half the database
            primary.write(conn -> {
                exec(conn, "create table t(b blob)");
                exec(conn, "with recursive n(i) as (select 1 union all select i + 1 from n where i < 1024)"
                        + " insert into t select randomblob(8000) from n");
            }).get(BOUND);
            awaitSnapshotAt(primary, 1);
            long databaseBytes = primary.read(conn -> io.walship.testing.Rows.queryLong(conn,
                    "select page_count * page_size from pragma_page_count, pragma_page_size"));

            long txid = 1;
            while (logBytes(1, txid) < PrimaryOptions.SNAPSHOT_MIN_LOG_BYTES / 2) {
                txid = primary.write(conn -> exec(conn, "update t set b = randomblob(8000) where rowid = "
                        + (1 + (int) (Math.random() * 1024)))).get(BOUND);
            }
            assertThat(primary.awaitQuiet(txid, BOUND)).as("stages told of txid %d", txid).isTrue();
            assertThat(snapshotTxids()).as("below both thresholds").containsExactly(0L, 1L);

            long deadline = System.nanoTime() + BOUND.toNanos();
            while (primary.status().snapshotTxid() == 1) {
                assertThat(System.nanoTime()).as("snapshot after half the database of log").isLessThan(deadline);
                long written = primary.write(conn -> exec(conn, "update t set b = randomblob(8000) where rowid = "
                        + (1 + (int) (Math.random() * 1024)))).get(BOUND);
                // the cadence and the snapshot it starts run on the maintenance lane: writing on
                // before it ran let a loaded machine pile up more than the 2 MiB allowed below
                assertThat(primary.awaitQuiet(written, BOUND)).as("stages told of txid %d", written).isTrue();
            }
            long snapshot = primary.status().snapshotTxid();
            assertThat(logBytes(1, snapshot)).as("log before the snapshot")
                    .isGreaterThanOrEqualTo((long) (0.5 * databaseBytes))
                    .isLessThan((long) (0.5 * databaseBytes) + (2L << 20));
        }
    }

    @Test
    void intervalPassedWithActivity_takesASnapshot_idleDatabaseDoesNot() throws Exception {
        ManualClock clock = new ManualClock(Instant.parse("2026-11-26T00:00:00Z"));
        PrimaryOptions options = PrimaryOptions.builder().snapshotLogFraction(0).snapshotInterval(Duration.ofHours(1))
                .clock(clock).build();
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), options)) {
            primary.write(conn -> exec(conn, "create table t(n int)")).get(BOUND);
            clock.advance(Duration.ofMinutes(30));
            long written = primary.write(conn -> exec(conn, "insert into t values (1)")).get(BOUND);
            // the ack completes just before the flusher looks at the cadence for that segment: let it
            // look at the time of the write, or the idle hours below would count as that write's
            assertThat(primary.awaitQuiet(written, BOUND)).isTrue();
            assertThat(snapshotTxids()).as("30 minutes of an hour").containsExactly(0L);

            clock.advance(Duration.ofHours(5)); // idle: nothing is stored, so nothing triggers
            assertThat(primary.awaitQuiet(written, BOUND)).isTrue();
            assertThat(snapshotTxids()).containsExactly(0L);

            long txid = primary.write(conn -> exec(conn, "insert into t values (2)")).get(BOUND);

            awaitSnapshotAt(primary, txid);
            assertThat(snapshotTxids()).containsExactly(0L, txid);
            long next = primary.write(conn -> exec(conn, "insert into t values (3)")).get(BOUND);
            assertThat(primary.awaitQuiet(next, BOUND)).isTrue();
            assertThat(snapshotTxids()).as("the interval starts again").containsExactly(0L, txid);
        }
    }

    private static void awaitSnapshotAt(Primary primary, long txid) {
        Await.until("snapshot at txid " + txid, BOUND, () -> primary.status().snapshotTxid() >= txid);
        assertThat(primary.status().snapshotTxid()).isEqualTo(txid);
    }
}
