package io.walship.compaction;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.SealedSegment;
import io.walship.internal.log.SegmentReader;
import io.walship.internal.log.SegmentWriter;
import io.walship.restore.Restore;
import io.walship.restore.Verifier;
import io.walship.testing.ManualClock;
import io.walship.testing.MemoryStorage;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Random;
import net.jpountz.lz4.LZ4Factory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Segments a primary stores on the commit path are compressed with LZ4's acceleration; what
 * compaction writes for storage to keep is compressed at LZ4's default ratio. Both read alike.
 */
class CompressionChoiceTest {
    @TempDir
    Path dir;

    private final ManualClock clock = new ManualClock(Instant.parse("2026-12-07T00:00:00Z"));
    private final MemoryStorage memory = new MemoryStorage(clock);

    @Test
    void commitPathSegmentsAreAccelerated_andCompactedObjectsKeepTheDefaultRatio() throws Exception {
        Assumptions.assumeTrue(nativeLz4(), "LZ4's native library: without it both compress alike");
        PrimaryOptions options = PrimaryOptions.builder().clock(clock).compaction(null)
                .snapshotInterval(Duration.ofDays(365)).build();
        Random random = new Random(3);
        try (Primary primary = Primary.open(memory, dir.resolve("app.db"), options)) {
            primary.write(c -> c.createStatement().execute(
                    "create table account(id integer primary key, name text, email text, note text)")).get();
            for (int txn = 0; txn < 40; txn++) { // one segment each: a single writer awaits its ack
                primary.write(c -> {
                    try (PreparedStatement insert = c.prepareStatement("insert into account(name, email, note)"
                            + " values (?, ?, ?)")) {
                        for (int row = 0; row < 20; row++) {
                            int n = random.nextInt(100_000);
                            insert.setString(1, "user " + n);
                            insert.setString(2, "user" + n + "@example.com");
                            insert.setString(3, "opened on day " + random.nextInt(365) + " in region " + random.nextInt(8));
                            insert.executeUpdate();
                        }
                    }
                }).get();
            }
        }
        int accelerated = 0;
        for (LogCatalog.LogObject segment : LogCatalog.list(memory).level(0)) {
            byte[] stored = memory.get(segment.storageKey()).orElseThrow();
            if (!Arrays.equals(stored, reencodedAtTheDefaultRatio(stored))) {
                accelerated++;
            }
        }
        assertThat(accelerated).as("segments whose bytes differ from LZ4's default compression").isGreaterThan(20);

        new Compactor(memory, CompactionPolicy.defaults().withRetention(Duration.ofDays(7)).withGrace(Duration.ZERO),
                clock, dir).run();

        var compacted = LogCatalog.list(memory).level(1);
        assertThat(compacted).as("compacted objects").isNotEmpty();
        for (LogCatalog.LogObject object : compacted) {
            byte[] stored = memory.get(object.storageKey()).orElseThrow();
            assertThat(Arrays.equals(stored, reencodedAtTheDefaultRatio(stored)))
                    .as("%s is LZ4's default encoding of its transactions", object.storageKey()).isTrue();
        }
        assertThat(Verifier.verify(memory, dir, Restore.Progress.NONE).problem()).isEmpty();
    }

    private static boolean nativeLz4() {
        try {
            LZ4Factory.nativeInstance();
            return true;
        } catch (Throwable e) {
            return false;
        }
    }

    /** The object's transactions written again by a writer with buffers of its own (LZ4's default). */
    private static byte[] reencodedAtTheDefaultRatio(byte[] object) throws Exception {
        try (SegmentReader segment = SegmentReader.open("s", object)) {
            SegmentWriter writer = new SegmentWriter(segment.pageSize(), segment.checksumBefore());
            for (SegmentReader.TransactionHeader txn = segment.nextTransaction(); txn != null;
                 txn = segment.nextTransaction()) {
                writer.begin(txn.txid(), txn.commitMillis(), txn.databasePages(), txn.pageCount());
                writer.end(segment.readPages((pgno, image) -> writer.page(pgno, image, 0)));
            }
            try (SealedSegment sealed = writer.seal()) {
                return sealed.bytes().orElseThrow();
            }
        }
    }
}
