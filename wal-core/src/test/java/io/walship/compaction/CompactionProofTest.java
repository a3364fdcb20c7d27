package io.walship.compaction;

import static io.walship.BadObjectException.Kind.CORRUPT;
import static io.walship.BadObjectException.Kind.TXID_GAP;
import static io.walship.testing.BadObjects.badObject;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.BadObjectException;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.TxidRange;
import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.SegmentReader;
import io.walship.internal.log.SegmentWriter;
import io.walship.restore.Restore;
import io.walship.restore.Verifier;
import io.walship.storage.ObjectInfo;
import io.walship.testing.CheckedHistory;
import io.walship.testing.ManualClock;
import io.walship.testing.MemoryStorage;
import io.walship.testing.MisleadingListings;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The compactor proves what it replaces: a block is compacted only from inputs that hold every
 * txid its object must hold, whatever the listing showed; a replaced object is deleted only once
 * its compacted object was read back holding it; retention deletes nothing while the history has
 * a hole or its base snapshot does not read back. Each test fails on the compactor that took
 * "a later segment is listed" as proof that a block was complete.
 */
class CompactionProofTest {
    private static final Instant START = Instant.parse("2026-03-02T00:00:00Z");

    @TempDir
    Path dir;

    private final ManualClock clock = new ManualClock(START);
    private final MemoryStorage memory = new MemoryStorage(clock);
    private final MisleadingListings storage = new MisleadingListings(memory, 7);
    private final CheckedHistory history = new CheckedHistory(7);

    private PrimaryOptions options() {
        return PrimaryOptions.builder().clock(clock).compaction(null).snapshotInterval(Duration.ofDays(365)).build();
    }

    private Compactor compactor(Duration retention, Duration grace) {
        return new Compactor(storage, CompactionPolicy.defaults().withRetention(retention).withGrace(grace), clock,
                dir);
    }

    /** Table at txid 1, then one segment per txid up to {@code last}. */
    private void writeSegmentsThrough(long last) throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), options())) {
            history.createTable(primary);
            while (primary.txid() < last) {
                history.writeOne(primary);
            }
        }
    }

    private void assertEveryTxidRestores(long from, long to) throws Exception {
        assertThat(Verifier.verify(memory, dir, Restore.Progress.NONE).problem()).isEmpty();
        for (long txid = from; txid <= to; txid++) {
            if (history.knows(txid)) {
                history.assertRestoresExactly(memory, txid, dir);
            }
        }
    }

    /** Regression: log/1/...10 held 15 txids of its block, the listing having missed log/...1f; the segment was then deleted. */
    @Test
    void blockWhoseLastSegmentTheListingMissed_isCompactedWhole_andTheSegmentIsNeverLost() throws Exception {
        writeSegmentsThrough(40);
        storage.hide(ObjectKey.segment(31)); // last of block 16..31, while later ones are listed

        CompactionResult first = compactor(Duration.ofDays(7), Duration.ZERO).run();
        storage.honest();
        CompactionResult second = compactor(Duration.ofDays(7), Duration.ZERO).run();

        assertThat(first.problems()).isEmpty();
        assertThat(second.problems()).isEmpty();
        try (SegmentReader compacted = SegmentReader.open("c", memory.get(ObjectKey.compacted(1, 16)).orElseThrow())) {
            assertThat(compacted.firstTxid()).isEqualTo(16);
            assertThat(compacted.lastTxid()).as("every txid of the block").isEqualTo(31);
        }
        assertEveryTxidRestores(1, 40);
    }

    /** Regression: the first input of a block was taken as its start although the listing had missed the segment before it. */
    @Test
    void blockWhoseFirstSegmentTheListingMissed_isCompactedFromThatSegment() throws Exception {
        writeSegmentsThrough(40);
        storage.hide(ObjectKey.segment(16));

        compactor(Duration.ofDays(7), Duration.ZERO).run();
        storage.honest();
        compactor(Duration.ofDays(7), Duration.ZERO).run();

        try (SegmentReader compacted = SegmentReader.open("c", memory.get(ObjectKey.compacted(1, 16)).orElseThrow())) {
            assertThat(compacted.firstTxid()).isEqualTo(16);
        }
        assertEveryTxidRestores(1, 40);
    }

    @Test
    void blockWithAGapNoProbeCanFill_isNotCompacted_andTheHoleIsReported() throws Exception {
        writeSegmentsThrough(40);
        memory.delete(ObjectKey.segment(20)); // lost: no listing and no GET finds it

        CompactionResult result = compactor(Duration.ofDays(7), Duration.ZERO).run();

        assertThat(memory.get(ObjectKey.compacted(1, 16))).as("the block with the hole").isEmpty();
        assertThat(memory.get(ObjectKey.compacted(1, 0))).as("a whole block before it").isPresent();
        assertThat(result.holes()).as("txid 20 lost, and 21..40 stored past it").containsExactly(
                new TxidRange(20, 40));
        assertThat(result.restorable()).containsExactly(new TxidRange(0, 19));
        assertThat(result.problems()).singleElement().isInstanceOfSatisfying(BadObjectException.class, e -> {
            assertThat(e.kind()).isEqualTo(TXID_GAP);
            assertThat(e.expected()).isEqualTo(20);
            assertThat(e.found()).isEqualTo(21);
        });
        for (long txid = 16; txid < 20; txid++) {
            assertThat(memory.get(ObjectKey.segment(txid))).as("segment %d kept", txid).isPresent();
        }
    }

    @Test
    void compactedObjectThatDoesNotHoldWhatItReplaces_keepsTheSmallObjects_andSaysSo() throws Exception {
        writeSegmentsThrough(40);
        // an object written by a compactor that trusted a listing without log/...1f
        memory.putIfAbsent(ObjectKey.compacted(1, 16), concatenate(16, 30));

        CompactionResult result = compactor(Duration.ofDays(7), Duration.ZERO).run();

        assertThat(memory.get(ObjectKey.segment(31))).as("the txid it lacks").isPresent();
        assertThat(result.problems()).anySatisfy(e -> assertThat(e).is(badObject(CORRUPT))
                .hasMessageContaining(ObjectKey.compacted(1, 16)).hasMessageContaining(ObjectKey.segment(31)));
        history.assertRestoresExactly(memory, 31, dir);
        history.assertRestoresExactly(memory, 40, dir);
    }

    /** Regression: with a hole in storage, compact with defaults expired two snapshots past it, widening what was lost. */
    @Test
    void storageWithAHole_retentionDeletesNothing_evenPastTheWindow() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), options())) {
            history.createTable(primary);
            for (int day = 0; day < 10; day++) {
                for (int i = 0; i < 10; i++) {
                    history.writeOne(primary);
                }
                primary.snapshot();
                clock.advance(Duration.ofDays(1));
            }
        }
        long hole = 25; // between the snapshots at 21 and 31: txids 25..30 are lost
        memory.delete(ObjectKey.segment(hole));
        List<String> before = memory.list("").stream().map(ObjectInfo::key).toList();

        CompactionResult result = compactor(Duration.ofDays(3), Duration.ofMinutes(1)).run();

        assertThat(result.holes()).containsExactly(new TxidRange(hole, 30));
        assertThat(result.expired()).isZero();
        assertThat(memory.list(ObjectKey.SNAPSHOT_PREFIX)).extracting(ObjectInfo::key)
                .containsExactlyElementsOf(before.stream().filter(k -> k.startsWith(ObjectKey.SNAPSHOT_PREFIX)).toList());
        assertThat(result.earliestTxid()).isZero();
        history.assertRestoresExactly(memory, hole - 1, dir);
        history.assertRestoresExactly(memory, 101, dir);
    }

    @Test
    void primaryWhoseStorageLostATransaction_saysSoInItsStatus() throws Exception {
        PrimaryOptions compacting = PrimaryOptions.builder().compactionInterval(Duration.ofMillis(20)).build();
        try (Primary primary = Primary.open(memory, dir.resolve("app.db"), compacting)) {
            history.createTable(primary);
            for (int i = 0; i < 20; i++) {
                history.writeOne(primary);
            }
            memory.delete(ObjectKey.segment(10)); // lost in storage, behind the primary's back
            // a run is due after the next write: an idle primary runs none (under load, the run
            // after the 20 writes could come before the delete, find nothing, and be the last)
            history.writeOne(primary);
            io.walship.testing.Await.until("a compaction run that reports the hole", Duration.ofSeconds(30),
                    () -> primary.status().error().map(p -> p.error() instanceof BadObjectException bad && bad.kind() == TXID_GAP).orElse(false));

            assertThat(primary.status().error().get().message()).contains("expected=10");
            assertThat(primary.status().health()).as("writes go on").isEqualTo(io.walship.Health.RUNNING);
            history.writeOne(primary);
        }
    }

    @Test
    void damagedBaseSnapshot_retentionKeepsTheHistoryBeforeIt() throws Exception {
        long base;
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), options())) {
            history.createTable(primary);
            for (int i = 0; i < 10; i++) {
                history.writeOne(primary);
            }
            base = primary.snapshot();
            byte[] bytes = memory.get(ObjectKey.snapshot(base)).orElseThrow();
            bytes[bytes.length / 2] ^= 0x40;
            memory.overwrite(ObjectKey.snapshot(base), bytes); // stamped now, as when it was stored
            clock.advance(Duration.ofDays(10));
            for (int i = 0; i < 10; i++) {
                history.writeOne(primary);
            }
        }
        clock.advance(Duration.ofMinutes(5));

        CompactionResult result = compactor(Duration.ofDays(7), Duration.ofMinutes(1)).run();

        assertThat(result.expired()).isZero();
        assertThat(memory.get(ObjectKey.snapshot(0))).as("the older way to reach every txid").isPresent();
        assertThat(result.problems()).anySatisfy(e -> assertThat(e).hasMessageContaining(ObjectKey.snapshot(base)));
    }

    @Test
    void listingThatOmitsDelaysAndReordersKeys_neverCostsATxid() throws Exception {
        writeSegmentsThrough(300);
        storage.omit(0.2).stale(50).shuffled();
        Compactor compactor = compactor(Duration.ofDays(7), Duration.ZERO);
        for (int run = 0; run < 40; run++) {
            compactor.run();
            clock.advance(Duration.ofSeconds(1));
        }
        storage.honest();
        CompactionResult settled = compactor.run();

        assertThat(settled.problems()).isEmpty();
        assertThat(LogCatalog.list(memory).level(0)).as("compaction happened").hasSizeLessThan(100);
        assertThat(Verifier.verify(memory, dir, Restore.Progress.NONE).problem()).isEmpty();
        for (long txid = 1; txid <= 300; txid += 7) {
            history.assertRestoresExactly(memory, txid, dir);
        }
        history.assertRestoresExactly(memory, 300, dir);
    }

    /** The transactions of segments {@code first..last}, one after another, as one segment. */
    private byte[] concatenate(long first, long last) throws Exception {
        SegmentWriter writer = null;
        for (long txid = first; txid <= last; txid++) {
            try (SegmentReader segment = SegmentReader.open("s", memory.get(ObjectKey.segment(txid)).orElseThrow())) {
                if (writer == null) {
                    writer = new SegmentWriter(segment.pageSize(), segment.checksumBefore());
                }
                for (SegmentReader.TransactionHeader txn = segment.nextTransaction(); txn != null;
                     txn = segment.nextTransaction()) {
                    SegmentWriter out = writer;
                    out.begin(txn.txid(), txn.commitMillis(), txn.databasePages(), txn.pageCount());
                    out.end(segment.readPages((pgno, image) -> out.page(pgno, image, 0)));
                }
            }
        }
        try (var sealed = writer.seal()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(sealed.bytes().orElseThrow());
            return out.toByteArray();
        }
    }
}
