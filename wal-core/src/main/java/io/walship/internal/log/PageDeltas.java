package io.walship.internal.log;

import java.util.Arrays;

/**
 * The delta table of segment format 2: the latest image of recently written pages, so a page
 * written again in the same segment is stored as its XOR with that image. A b-tree page touched
 * by one row insert or update differs in a few dozen bytes; its XOR is almost all zeros, which
 * LZ4 compresses many times faster and smaller than the page itself.
 *
 * <p>Direct-mapped ({@link FormatLayout#DELTA_TABLE_BYTES}): page {@code p} lives in slot
 * {@code p mod slots} and evicts whatever was there. Writer and reader run the same table over
 * the same pages in the same order, so the reader always holds the base the writer used; nothing
 * about the table is stored. Slots are allocated when first used: a segment of a few pages costs
 * a few pages. Not thread-safe.
 */
final class PageDeltas {
    private final int pageSize;
    private final int mask;
    private final int[] pgnos;
    private final byte[][] images;

    PageDeltas(int pageSize) {
        this.pageSize = pageSize;
        int slots = Math.max(1, FormatLayout.DELTA_TABLE_BYTES / pageSize);
        this.mask = Integer.highestOneBit(slots) - 1;
        this.pgnos = new int[mask + 1];
        this.images = new byte[mask + 1][];
    }

    int pageSize() {
        return pageSize;
    }

    /** Forgets every page: the start of a new segment. */
    void clear() {
        Arrays.fill(pgnos, 0);
    }

    /**
     * Writer side: {@code page} holds the new image of {@code pgno}. When the table holds an
     * earlier image of it, {@code page} becomes the XOR of the two and this returns true; either
     * way the table then holds the new image.
     */
    boolean encode(int pgno, byte[] page) {
        int slot = pgno & mask;
        byte[] base = image(slot);
        boolean delta = pgnos[slot] == pgno;
        if (delta) {
            for (int i = 0; i < pageSize; i++) {
                byte image = page[i];
                page[i] = (byte) (image ^ base[i]);
                base[i] = image;
            }
        } else {
            System.arraycopy(page, 0, base, 0, pageSize);
            pgnos[slot] = pgno;
        }
        return delta;
    }

    /**
     * Reader side: turns {@code page} as stored back into the image of {@code pgno} and keeps it.
     * Returns false, changing nothing, for a delta whose base is not in the table (a damaged
     * segment).
     */
    boolean decode(int pgno, boolean delta, byte[] page) {
        int slot = pgno & mask;
        if (delta && pgnos[slot] != pgno) {
            return false;
        }
        byte[] base = image(slot);
        if (delta) {
            for (int i = 0; i < pageSize; i++) {
                page[i] ^= base[i];
            }
        }
        System.arraycopy(page, 0, base, 0, pageSize);
        pgnos[slot] = pgno;
        return true;
    }

    /** The slot's image buffer, allocated on first use. */
    private byte[] image(int slot) {
        if (images[slot] == null) {
            images[slot] = new byte[pageSize];
        }
        return images[slot];
    }
}
