package io.walship;

import java.util.Arrays;

/**
 * Where the newest committed image of each page lies in the WAL, for pages written since the
 * last checkpoint: what a snapshot reads instead of the database file (ADR 0001). 8 bytes per
 * page up to the highest page written, whatever the size of the transactions. Not thread-safe.
 */
final class WalOverlay {
    /** offsets[pgno - 1]: offset of the image in the WAL file, 0 for a page not in the WAL. */
    private long[] offsets = new long[0];
    private int highest;
    /**
     * The pages put since the last clear (a page cut and put again may be here twice): a fold
     * clears these, not the whole array up to the highest page, which on a database written at
     * its end was a fill of 8 bytes for every page of the database at every fold.
     */
    private int[] touched = new int[64];
    private int touchedCount;

    void put(int pgno, long walOffset) {
        if (pgno > offsets.length) {
            offsets = Arrays.copyOf(offsets, Math.max(pgno, offsets.length * 3 / 2 + 16));
        }
        if (offsets[pgno - 1] == 0) {
            if (touchedCount == touched.length) {
                touched = Arrays.copyOf(touched, touched.length * 2);
            }
            touched[touchedCount++] = pgno;
        }
        offsets[pgno - 1] = walOffset;
        highest = Math.max(highest, pgno);
    }

    /** The WAL offset of page {@code pgno}'s image, or 0 when the page is read from the database file. */
    long get(int pgno) {
        return pgno <= highest ? offsets[pgno - 1] : 0;
    }

    /** Forgets pages past {@code pageCount}: the database shrank. */
    void truncate(int pageCount) {
        if (pageCount < highest) {
            Arrays.fill(offsets, pageCount, highest, 0);
            highest = pageCount;
        }
    }

    /** Forgets everything: the WAL was folded or started over. Costs the pages put since the last clear. */
    void clear() {
        for (int i = 0; i < touchedCount; i++) {
            offsets[touched[i] - 1] = 0;
        }
        touchedCount = 0;
        highest = 0;
    }

    /** An independent copy, for a snapshot read while capture goes on. */
    WalOverlay copy() {
        WalOverlay copy = new WalOverlay();
        copy.offsets = Arrays.copyOf(offsets, highest);
        copy.highest = highest;
        return copy;
    }
}
