package io.walship.internal.log;

import java.util.Arrays;
import java.util.function.IntPredicate;

/**
 * Page numbers mapped to 64-bit values, for work whose memory must follow the pages it touches,
 * not the size of the database: open addressing with linear probing, 12 bytes a slot, at most
 * three quarters full, nothing boxed: 16 to 32 bytes a page, where a map of boxed numbers takes
 * some 70. Page numbers are >= 1 (0 marks a free slot). Not thread-safe.
 */
public final class PageValues {
    private static final int FIRST_CAPACITY = 16;

    private int[] pages = new int[FIRST_CAPACITY];
    private long[] values = new long[FIRST_CAPACITY];
    private int size;

    public int size() {
        return size;
    }

    public boolean contains(int pgno) {
        return pages[slot(pgno)] == pgno;
    }

    /** The value of {@code pgno}, or {@code absent} when it has none. */
    public long get(int pgno, long absent) {
        int slot = slot(pgno);
        return pages[slot] == pgno ? values[slot] : absent;
    }

    public void put(int pgno, long value) {
        if (pgno < 1) {
            throw new IllegalArgumentException("pgno must be >= 1: " + pgno);
        }
        int slot = slot(pgno);
        if (pages[slot] != pgno) {
            if ((size + 1) * 4L > pages.length * 3L) {
                rehash(pages.length * 2, held -> true);
                slot = slot(pgno);
            }
            pages[slot] = pgno;
            size++;
        }
        values[slot] = value;
    }

    /** Keeps only the pages {@code keep} accepts. Costs a pass over every page held. */
    public void retain(IntPredicate keep) {
        rehash(pages.length, keep);
    }

    /** The pages held, ascending. */
    public int[] pages() {
        int[] held = new int[size];
        int n = 0;
        for (int pgno : pages) {
            if (pgno != 0) {
                held[n++] = pgno;
            }
        }
        Arrays.sort(held);
        return held;
    }

    /** The slot holding {@code pgno}, or the free slot where it would go. */
    private int slot(int pgno) {
        int mask = pages.length - 1;
        int hash = pgno * 0x9E3779B9; // spreads runs of consecutive pages
        int slot = (hash ^ hash >>> 16) & mask;
        while (pages[slot] != 0 && pages[slot] != pgno) {
            slot = (slot + 1) & mask;
        }
        return slot;
    }

    /** Places the pages {@code keep} accepts anew in {@code capacity} slots (a power of two). */
    private void rehash(int capacity, IntPredicate keep) {
        int[] oldPages = pages;
        long[] oldValues = values;
        pages = new int[capacity];
        values = new long[capacity];
        size = 0;
        for (int i = 0; i < oldPages.length; i++) {
            if (oldPages[i] != 0 && keep.test(oldPages[i])) {
                put(oldPages[i], oldValues[i]);
            }
        }
    }
}
