package io.walship.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.Walship;
import io.walship.testing.Await;
import io.walship.testing.BusyLoad;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Worker;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Segments are built in scratch buffers borrowed for as long as the segment is being built, so a
 * database that is not writing holds none (before, each primary held 2 MiB of them while idle).
 */
class ScratchBuffersTest {
    private static final int PAGE = 4096;

    @TempDir
    Path dir;

    @Test
    void primariesThatAreNotWriting_holdNoScratchBuffers() throws Exception {
        int before = CompressionBuffers.lent();
        PrimaryOptions slow = PrimaryOptions.async().toBuilder().flushInterval(Duration.ofMinutes(10)).build();
        try (Walship walship = Walship.open(new MemoryStorage(), new Walship.Threads(2, 2, 1, 1))) {
            List<Primary> primaries = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                Primary primary = walship.openPrimary("db-" + i, dir.resolve(i + ".db"), slow);
                for (int row = 0; row < 5; row++) {
                    primary.write(conn -> {
                        try (Statement s = conn.createStatement()) {
                            s.executeUpdate("create table if not exists t(x)");
                            s.executeUpdate("insert into t values (randomblob(100))");
                        }
                    }); // committed; stored only at the flush below

                }
                primaries.add(primary);
            }
            // captured, not flushed: each open segment holds its buffers (the test would see a leak)
            Await.until("every primary's open segment to hold buffers", Duration.ofSeconds(30),
                    () -> CompressionBuffers.lent() - before == primaries.size());

            for (Primary primary : primaries) {
                primary.flush().get();
            }
            assertThat(CompressionBuffers.lent()).isEqualTo(before);
        }
    }

    @Test
    void segmentsBuiltInReusedBuffers_areTheSameBytesAsInFreshOnes() throws IOException {
        Random random = new Random(7);
        // the first segment grows the buffers past a whole block and fills the delta table
        byte[] large = segment(random, 600, 400, new SegmentWriter(PAGE, 1, SegmentSpill.memoryOnly(), Compression.TIGHT));
        for (int round = 0; round < 3; round++) {
            long seed = random.nextLong();
            byte[] pooled = segment(new Random(seed), 20, 50, new SegmentWriter(PAGE, 1, SegmentSpill.memoryOnly(), Compression.TIGHT));
            byte[] fresh = segment(new Random(seed), 20, 50, new SegmentWriter(PAGE, 1));
            assertThat(pooled).as("round %d", round).isEqualTo(fresh);
        }
        assertThat(Transaction.readAll(SegmentReader.open("log/large", large))).hasSize(600 / 50 + 1);
    }

    @Test
    void aDiscardedSegment_givesItsBuffersBack() throws IOException {
        int before = CompressionBuffers.lent();
        SegmentWriter writer = new SegmentWriter(PAGE, 1, SegmentSpill.memoryOnly(), Compression.TIGHT);
        writer.begin(1, 0, 1, 1);
        assertThat(CompressionBuffers.lent()).isEqualTo(before + 1);

        writer.discard();

        assertThat(CompressionBuffers.lent()).isEqualTo(before);
    }

    /**
     * The accelerated compressor keeps LZ4's native state with the borrowed buffers, so it is
     * shared by whoever holds them: segments built at once on many threads, some discarded
     * part-way (their buffers go back mid-segment), must each seal exactly the bytes one thread
     * alone seals, and read back as their own transactions.
     */
    @Test
    void segmentsBuiltAtOnceWithTheAcceleratedCompressor_sealWhatOneThreadAloneSeals_underLoad() throws Exception {
        int[] pageSizes = {1024, 4096, 65536};
        List<List<Transaction>> txns = new ArrayList<>();
        List<byte[]> alone = new ArrayList<>();
        for (int s = 0; s < pageSizes.length; s++) {
            txns.add(Transaction.mixed(pageSizes[s], s + 20));
            alone.add(fast(pageSizes[s], s, txns.get(s), txns.get(s).size()));
            byte[] tight = Transaction.segment(pageSizes[s], s, txns.get(s).toArray(Transaction[]::new));
            assertThat(alone.get(s)).as("page size %d: accelerated, not the default encoding", pageSizes[s])
                    .isNotEqualTo(tight);
        }
        List<Worker> writers = new ArrayList<>();
        try (BusyLoad load = BusyLoad.start(2)) {
            for (int t = 0; t < 4; t++) {
                long seed = t;
                writers.add(Worker.start("writer-" + t, () -> {
                    Random random = new Random(seed);
                    for (int round = 0; round < 30; round++) {
                        int s = random.nextInt(pageSizes.length);
                        List<Transaction> mine = txns.get(s);
                        if (random.nextInt(4) == 0) {
                            fast(pageSizes[s], s, mine, 1 + random.nextInt(mine.size() - 1)); // discarded part-way
                            continue;
                        }
                        byte[] sealed = fast(pageSizes[s], s, mine, mine.size());
                        assertThat(sealed).as("page size %d round %d", pageSizes[s], round).isEqualTo(alone.get(s));
                        try (SegmentReader reader = SegmentReader.open("log/" + s, sealed)) {
                            assertThat(Transaction.readAll(reader)).hasSize(mine.size());
                        }
                    }
                }));
            }
            for (Worker writer : writers) {
                writer.join(Duration.ofSeconds(60));
            }
        }
    }

    /**
     * The first {@code upTo} of {@code txns} in a segment built on the commit path's compressor:
     * sealed when that is all of them, else discarded (null).
     */
    private static byte[] fast(int pageSize, long checksumBefore, List<Transaction> txns, int upTo) throws IOException {
        SegmentWriter writer = new SegmentWriter(pageSize, checksumBefore, SegmentSpill.memoryOnly(), Compression.FAST);
        for (Transaction txn : txns.subList(0, upTo)) {
            txn.writeTo(writer);
        }
        if (upTo < txns.size()) {
            writer.discard();
            return null;
        }
        try (SealedSegment sealed = writer.seal()) {
            return sealed.bytes().orElseThrow();
        }
    }

    /** {@code pages} pages in transactions of 50, numbered 1..{@code pgnos}: later ones repeat earlier ones (deltas). */
    private static byte[] segment(Random random, int pages, int pgnos, SegmentWriter writer) throws IOException {
        byte[] image = new byte[PAGE];
        long txid = 1;
        int perTxn = 50;
        for (int done = 0; done < pages; txid++) {
            int count = Math.min(perTxn, pages - done);
            writer.begin(txid, txid, pgnos, count);
            int first = random.nextInt(pgnos);
            for (int i = 0; i < count; i++) {
                random.nextBytes(image);
                java.util.Arrays.fill(image, 0, PAGE / 2, (byte) 0); // compressible, as pages are
                writer.page(1 + (first + i) % pgnos, image, 0); // distinct within the transaction
            }
            writer.end(txid * 31);
            done += count;
        }
        writer.begin(txid, txid, pgnos, 0);
        writer.end(txid * 31);
        try (SealedSegment sealed = writer.seal()) {
            return sealed.bytes().orElseThrow();
        }
    }
}
