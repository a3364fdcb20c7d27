package io.walship.internal.log;

import static io.walship.BadObjectException.Kind.TXID_GAP;
import static io.walship.testing.BadObjects.badObject;
import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.Ack;
import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.TxidNotAvailableException;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.testing.MemoryStorage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoredLogTest {
    @TempDir
    Path dir;

    private final MemoryStorage storage = new MemoryStorage();
    private Position latest;

    /** 30 transactions in segments of several each: txid 1 creates t, then one insert each. */
    @BeforeEach
    void fill() throws Exception {
        PrimaryOptions grouped = PrimaryOptions.builder().durability(Durability.ASYNC)
                .flushInterval(java.time.Duration.ofHours(1)).build();
        try (Primary primary = Primary.open(storage, dir.resolve("p.db"), grouped)) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            for (int i = 1; i <= 29; i++) {
                int v = i;
                Ack<Void> ack = primary.write(conn -> exec(conn, "insert into t values (" + v + ")"));
                if (i % 7 == 0) {
                    primary.flush().get(); // a segment ends here
                }
                assertThat(ack.txid()).isEqualTo(i + 1);
            }
        }
        latest = LogLookup.latestPosition(storage).orElseThrow();
        assertThat(latest.txid()).isEqualTo(30);
        assertThat(segments()).hasSizeGreaterThan(3).hasSizeLessThan(30);
    }

    private List<Long> segments() {
        return storage.list(ObjectKey.LOG_PREFIX).stream().map(o -> ObjectKey.parseSegment(o.key()))
                .flatMap(Optional::stream).sorted().toList();
    }

    private LogCatalog catalog() {
        return LogCatalog.list(storage);
    }

    private long checksumRestoredAt(long txid) {
        Path file = dir.resolve("at-" + txid + ".db");
        return Restore.run(storage, file, RestoreTarget.txid(txid)).checksum();
    }

    @Test
    void after_txidInsideASegment_startsWithItsChecksumAndHandsOutEveryLaterTransaction() throws Exception {
        StoredLog log = StoredLog.after(storage, catalog(), 10, latest, dir);

        assertThat(log.checksumAtStart()).isEqualTo(checksumRestoredAt(10));
        List<Long> txids = new ArrayList<>();
        for (var txn = log.next(); txn != null; txn = log.next()) {
            txids.add(txn.txid());
        }
        assertThat(txids).hasSize(20).startsWith(11L).endsWith(30L).isSorted();
    }

    @Test
    void after_txidAtASegmentBoundary_startsWithThatSegmentsChecksumBefore() throws Exception {
        long boundary = segments().get(2) - 1;
        StoredLog log = StoredLog.after(storage, catalog(), boundary, latest, dir);

        assertThat(log.checksumAtStart()).isEqualTo(checksumRestoredAt(boundary));
        assertThat(log.next().txid()).isEqualTo(boundary + 1);
    }

    @Test
    void after_newestTxid_readsNothingAndIsEmpty() throws Exception {
        StoredLog log = StoredLog.after(new MemoryStorage(), catalog(), 30, latest, dir);

        assertThat(log.checksumAtStart()).isEqualTo(latest.checksum());
        assertThat(log.next()).isNull();
    }

    @Test
    void next_segmentMissingInTheMiddle_throwsTxidGap() throws Exception {
        LogCatalog listed = catalog();
        storage.delete(ObjectKey.segment(segments().get(3)));
        StoredLog log = StoredLog.after(storage, listed, 1, latest, dir);

        assertThatThrownBy(() -> {
            while (log.next() != null) {
                // read on
            }
        }).is(badObject(TXID_GAP));
    }

    @Test
    void after_txidBeyondStorageOrBeforeItsLog_throwsTxidNotAvailable() throws Exception {
        List<Long> segments = segments();
        assertThatThrownBy(() -> StoredLog.after(storage, catalog(), 31, latest, dir))
                .isInstanceOf(TxidNotAvailableException.class);
        LogCatalog withoutTheFirst = LogCatalog.of(storage.list(ObjectKey.SNAPSHOT_PREFIX),
                storage.list(ObjectKey.LOG_PREFIX).stream()
                        .filter(o -> ObjectKey.parseSegment(o.key()).orElseThrow() >= segments.get(2)).toList());
        assertThatThrownBy(() -> StoredLog.after(storage, withoutTheFirst, 1, latest, dir))
                .isInstanceOf(TxidNotAvailableException.class);
    }
}
