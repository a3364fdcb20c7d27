package io.walship.internal.log;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

    @Test
    void draft_givesWhatACopyGives_andCommitMakesTheBaseEqual() {
        Random random = new Random(7);
        DatabaseChecksum base = new DatabaseChecksum(PAGE);
        base.resize(120);
        for (int pgno = 1; pgno <= 120; pgno++) {
            byte[] page = new byte[PAGE];
            random.nextBytes(page);
            base.setPage(pgno, page, 0);
        }
        for (int batch = 0; batch < 200; batch++) {
            DatabaseChecksum copy = base.copy();
            DatabaseChecksum.Draft draft = base.draft();
            long before = base.value();
            int pagesBefore = base.pageCount();
            for (int step = 0; step < 1 + random.nextInt(8); step++) {
                switch (random.nextInt(4)) {
                    case 0 -> { // cut, as a vacuum does
                        int count = Math.max(1, copy.pageCount() - random.nextInt(30));
                        copy.resize(count);
                        draft.resize(count);
                    }
                    case 1 -> { // grow with zero pages
                        int count = Math.min(400, copy.pageCount() + random.nextInt(30));
                        copy.resize(count);
                        draft.resize(count);
                    }
                    default -> { // set a page, at times past the end
                        int pgno = 1 + random.nextInt(copy.pageCount() + 10);
                        byte[] page = new byte[PAGE];
                        random.nextBytes(page);
                        copy.setPage(pgno, page, 0);
                        draft.setPage(pgno, page, 0);
                    }
                }
                assertThat(draft.value()).isEqualTo(copy.value());
                assertThat(draft.pageCount()).isEqualTo(copy.pageCount());
            }
            assertThat(base.value()).as("a draft leaves its base alone").isEqualTo(before);
            assertThat(base.pageCount()).isEqualTo(pagesBefore);
            if (random.nextInt(5) > 0) { // else: dropped, as a batch that failed its check
                base.commit(draft);
                assertThat(base.value()).isEqualTo(copy.value());
                assertThat(base.pageCount()).isEqualTo(copy.pageCount());
                for (int pgno = 1; pgno <= copy.pageCount(); pgno++) {
                    assertThat(base.pageHash(pgno)).as("page %d", pgno).isEqualTo(copy.pageHash(pgno));
                }
            }
        }
    }

    @Test
    void draftOfAnEarlierState_isRefusedAtCommit() {
        DatabaseChecksum base = new DatabaseChecksum(PAGE);
        base.resize(3);
        DatabaseChecksum.Draft first = base.draft();
        DatabaseChecksum.Draft second = base.draft();
        byte[] page = new byte[PAGE];
        page[0] = 1;
        first.setPage(2, page, 0);
        second.setPage(3, page, 0);
        base.commit(first);
        assertThatThrownBy(() -> base.commit(second)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> new DatabaseChecksum(PAGE).commit(base.draft()))
                .isInstanceOf(IllegalStateException.class);
    }
}
