package io.walship.internal.log;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.junit.jupiter.api.Test;

class DatabaseChecksumTest {
    private static final int PAGE = 512;

    private static long full(byte[][] pages, int count) {
        DatabaseChecksum c = new DatabaseChecksum(PAGE);
        c.resize(count);
        for (int i = 0; i < count; i++) {
            c.setPage(i + 1, pages[i], 0);
        }
        return c.value();
    }

    @Test
    void incrementalUpdates_equalRecomputingFromScratch() {
        Random random = new Random(1);
        byte[][] pages = new byte[300][PAGE];
        int count = 1;
        DatabaseChecksum incremental = new DatabaseChecksum(PAGE);
        incremental.resize(1);
        incremental.setPage(1, pages[0], 0);
        for (int step = 0; step < 2000; step++) {
            int newCount = Math.max(1, Math.min(300, count + random.nextInt(11) - 5));
            incremental.resize(newCount);
            for (int i = count; i < newCount; i++) {
                pages[i] = new byte[PAGE]; // grown pages read as zeros
            }
            count = newCount;
            int pgno = 1 + random.nextInt(count);
            random.nextBytes(pages[pgno - 1]);
            incremental.setPage(pgno, pages[pgno - 1], 0);
            assertThat(incremental.value()).isEqualTo(full(pages, count));
        }
    }

    @Test
    void samePageAtAnotherPosition_changesChecksum() {
        byte[] page = new byte[PAGE];
        page[0] = 1;
        DatabaseChecksum a = new DatabaseChecksum(PAGE);
        a.resize(2);
        a.setPage(1, page, 0);
        DatabaseChecksum b = new DatabaseChecksum(PAGE);
        b.resize(2);
        b.setPage(2, page, 0);
        assertThat(a.value()).isNotEqualTo(b.value());
    }
}
