package io.walship;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class WalOverlayTest {
    /**
     * A fold clears only the pages put since the last one; the overlay must still forget every
     * page, also pages cut by a shrinking database and put again before the fold.
     */
    @Test
    void clear_afterPutsCutsAndPutsAgain_forgetsEveryPage() {
        Random random = new Random(11);
        WalOverlay overlay = new WalOverlay();
        Map<Integer, Long> expected = new HashMap<>();
        int pageCount = 2_000; // puts touch a few of its pages each round: most are not put again
        for (int fold = 0; fold < 50; fold++) {
            for (int step = 0; step < 300; step++) {
                if (random.nextInt(50) == 0) { // a transaction that shrinks the database
                    int cut = Math.max(1, pageCount - random.nextInt(50));
                    overlay.truncate(cut);
                    expected.keySet().removeIf(pgno -> pgno > cut);
                    pageCount = cut;
                }
                pageCount = Math.min(100_000, pageCount + random.nextInt(3));
                int pgno = 1 + random.nextInt(pageCount);
                long offset = 32 + random.nextInt(1 << 20);
                overlay.put(pgno, offset);
                expected.put(pgno, offset);
            }
            for (int pgno = 1; pgno <= pageCount + 10; pgno++) {
                assertThat(overlay.get(pgno)).as("page %d", pgno).isEqualTo(expected.getOrDefault(pgno, 0L));
            }
            WalOverlay copy = overlay.copy();
            Map<Integer, Long> copied = new HashMap<>(expected);
            overlay.clear();
            expected.clear();
            for (int pgno = 1; pgno <= pageCount + 10; pgno++) {
                assertThat(overlay.get(pgno)).as("page %d after the fold", pgno).isZero();
            }
            overlay.put(1, 64); // the copy a snapshot reads is not touched by what follows
            expected.put(1, 64L);
            assertThat(copy.get(1)).as("a snapshot's copy").isEqualTo(copied.getOrDefault(1, 0L));
        }
    }
}
