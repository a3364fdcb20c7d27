package io.walship.internal.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.testing.BusyLoad;
import io.walship.testing.Worker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Segment readers borrow their block, page and delta buffers from the pool writers use and give
 * them back at close: a reader must then never read on, and readers on many threads, closed at any
 * point, must each decode exactly their own segment's pages.
 */
class DecodeBuffersTest {
    private static final Duration BOUND = Duration.ofSeconds(60);

    private static void assertSame(List<Transaction> read, List<Transaction> expected, String what) {
        assertThat(read).as(what).hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            Transaction r = read.get(i);
            Transaction e = expected.get(i);
            assertThat(r.txid()).as(what).isEqualTo(e.txid());
            assertThat(r.checksumAfter()).as(what).isEqualTo(e.checksumAfter());
            assertThat(r.pageImages()).as("%s txid %d pages", what, e.txid()).isEqualTo(e.pageImages());
            for (int p = 0; p < e.pageCount(); p++) {
                assertThat(r.pgno(p)).as(what).isEqualTo(e.pgno(p));
            }
        }
    }

    @Test
    void readerClosed_refusesToReadOn_insteadOfReadingBuffersLentToAnother() throws Exception {
        List<Transaction> txns = Transaction.mixed(1024, 1);
        byte[] segment = Transaction.segment(1024, 7, txns.toArray(Transaction[]::new));
        SegmentReader reader = SegmentReader.open("log/a", segment);
        reader.nextTransaction();
        reader.close();
        reader.close(); // again: nothing, the buffers are not given back twice
        assertThatThrownBy(reader::nextTransaction).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
        assertThatThrownBy(() -> reader.readPages((pgno, image) -> { })).isInstanceOf(IllegalStateException.class);
        try (SegmentReader next = SegmentReader.open("log/a", segment)) {
            assertSame(Transaction.readAll(next), txns, "the next reader, on the same buffers");
        }
    }

    @Test
    void readersOnManyThreads_closedAtAnyPoint_eachDecodeExactlyTheirOwnPages_underLoad() throws Exception {
        int[] pageSizes = {1024, 4096, 4096, 65536};
        List<byte[]> segments = new ArrayList<>();
        List<List<Transaction>> expected = new ArrayList<>();
        for (int s = 0; s < pageSizes.length; s++) {
            List<Transaction> txns = Transaction.mixed(pageSizes[s], s + 10);
            expected.add(txns);
            segments.add(Transaction.segment(pageSizes[s], s, txns.toArray(Transaction[]::new)));
        }
        List<Worker> readers = new ArrayList<>();
        try (BusyLoad load = BusyLoad.start(2)) {
            for (int t = 0; t < 4; t++) {
                long seed = t;
                readers.add(Worker.start("reader-" + t, () -> {
                    Random random = new Random(seed);
                    for (int round = 0; round < 60; round++) {
                        int s = random.nextInt(segments.size());
                        try (SegmentReader reader = SegmentReader.open("log/" + s, segments.get(s))) {
                            if (random.nextInt(4) == 0) {
                                Transaction.next(reader); // closed part-way: its buffers go back mid-segment
                                continue;
                            }
                            assertSame(Transaction.readAll(reader), expected.get(s), "segment " + s + " round " + round);
                        }
                    }
                }));
            }
            for (Worker reader : readers) {
                reader.join(BOUND);
            }
        }
    }
}
