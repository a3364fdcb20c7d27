package io.walship.internal.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.Arrays;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * The checksum of a whole database: XOR over all pages of xxHash64(page image, seed = pgno).
 *
 * <p>Kept incrementally: 8 bytes of state per page, so replacing a page costs one page hash and
 * two XORs. Growing the database adds zero-filled pages (which is what SQLite reads for a page
 * past the end of the file); shrinking removes the pages past the new end. Every transaction in
 * a segment records the checksum after it commits, so a restore or a replica proves, after
 * every transaction, that it holds exactly the primary's bytes.
 *
 * <p>Not thread-safe.
 */
public final class DatabaseChecksum {
    private static final XXHash64 HASH = XXHashFactory.fastestInstance().hash64();

    private final int pageSize;
    private long[] pageHashes = new long[0];
    private int pageCount;
    private long value;
    /** A zero-filled page, for pages a resize adds; allocated on first use. */
    private ByteBuffer zeros;

    public DatabaseChecksum(int pageSize) {
        if (!FormatLayout.isValidPageSize(pageSize)) {
            throw new IllegalArgumentException("invalid page size: " + pageSize);
        }
        this.pageSize = pageSize;
    }

    /** Reads every page of a database file (size / page size pages) into a fresh checksum. */
    public static DatabaseChecksum of(FileChannel channel, int pageSize) throws IOException {
        DatabaseChecksum checksum = new DatabaseChecksum(pageSize);
        int pageCount = Math.toIntExact(channel.size() / pageSize);
        checksum.resize(pageCount);
        int batchPages = Math.max(1, (1 << 20) / pageSize);
        ByteBuffer batch = ByteBuffer.allocateDirect(batchPages * pageSize);
        for (int pgno = 1; pgno <= pageCount; pgno += batchPages) {
            int count = Math.min(batchPages, pageCount - pgno + 1);
            batch.clear().limit(count * pageSize);
            long position = (long) (pgno - 1) * pageSize;
            while (batch.hasRemaining()) {
                if (channel.read(batch, position + batch.position()) < 0) {
                    throw new IOException("database file shrank while it was read");
                }
            }
            for (int i = 0; i < count; i++) {
                checksum.setPage(pgno + i, batch, i * pageSize);
            }
        }
        return checksum;
    }

    /**
     * A checksum from page hashes recorded earlier: {@code hashes[i]} is the hash of page
     * {@code i + 1}; the value is their XOR, which the caller compares with the recorded value
     * to know the hashes are intact. Takes ownership of the array.
     */
    public static DatabaseChecksum ofPageHashes(int pageSize, long[] hashes, int pageCount) {
        if (pageCount < 0 || pageCount > hashes.length) {
            throw new IllegalArgumentException("page count " + pageCount + " outside 0.." + hashes.length);
        }
        DatabaseChecksum checksum = new DatabaseChecksum(pageSize);
        checksum.pageHashes = hashes;
        checksum.pageCount = pageCount;
        long value = 0;
        for (int i = 0; i < pageCount; i++) {
            value ^= hashes[i];
        }
        checksum.value = value;
        return checksum;
    }

    /** Hash of one page image as it enters the database checksum. */
    public static long pageHash(int pgno, ByteBuffer buffer, int offset, int pageSize) {
        return HASH.hash(buffer, offset, pageSize, pgno);
    }

    /** Hash of one page image as it enters the database checksum. */
    public static long pageHash(int pgno, byte[] page, int offset, int pageSize) {
        return HASH.hash(page, offset, pageSize, pgno);
    }

    /**
     * An independent copy, 8 bytes per page of the database: for work that goes on from this
     * state on its own (a resume's replay). Checking transactions before they touch a file takes
     * a {@link #draft()}, which costs what the transactions change.
     */
    public DatabaseChecksum copy() {
        DatabaseChecksum copy = new DatabaseChecksum(pageSize);
        copy.pageHashes = Arrays.copyOf(pageHashes, Math.max(pageCount, 16));
        copy.pageCount = pageCount;
        copy.value = value;
        return copy;
    }

    public int pageSize() {
        return pageSize;
    }

    public int pageCount() {
        return pageCount;
    }

    /** The checksum of pages 1..pageCount. */
    public long value() {
        return value;
    }

    /** The hash recorded for page {@code pgno}, which must be within the database. */
    public long pageHash(int pgno) {
        if (pgno < 1 || pgno > pageCount) {
            throw new IllegalArgumentException("pgno " + pgno + " outside 1.." + pageCount);
        }
        return pageHashes[pgno - 1];
    }

    /** Records the image of page {@code pgno} (1-based) given its hash; grows the database if needed. */
    public void setPageHash(int pgno, long hash) {
        if (pgno < 1) {
            throw new IllegalArgumentException("pgno must be >= 1: " + pgno);
        }
        if (pgno > pageCount) {
            // pages skipped over read as zeros; this page's zero image need not be hashed at all
            resize(pgno - 1);
            ensureCapacity(pgno);
            pageCount = pgno;
            pageHashes[pgno - 1] = 0;
        }
        value ^= pageHashes[pgno - 1] ^ hash;
        pageHashes[pgno - 1] = hash;
    }

    public void setPage(int pgno, ByteBuffer buffer, int offset) {
        setPageHash(pgno, pageHash(pgno, buffer, offset, pageSize));
    }

    public void setPage(int pgno, byte[] page, int offset) {
        setPageHash(pgno, pageHash(pgno, page, offset, pageSize));
    }

    /** Sets the database size: new pages read as zeros, pages past the end leave the checksum. */
    public void resize(int newPageCount) {
        if (newPageCount < 0) {
            throw new IllegalArgumentException("page count must be >= 0: " + newPageCount);
        }
        if (newPageCount < pageCount) {
            for (int i = newPageCount; i < pageCount; i++) {
                value ^= pageHashes[i];
                pageHashes[i] = 0;
            }
        } else if (newPageCount > pageCount) {
            ensureCapacity(newPageCount);
            for (int i = pageCount; i < newPageCount; i++) {
                pageHashes[i] = zeroPageHash(i + 1);
                value ^= pageHashes[i];
            }
        }
        pageCount = newPageCount;
    }

    /**
     * Changes recorded apart from this checksum, to check transactions before they touch a file;
     * {@link #commit} applies them once the file holds them. The draft stays valid while this
     * checksum does not change.
     */
    public Draft draft() {
        return new Draft(this);
    }

    /**
     * Takes over what {@code draft} recorded: this checksum becomes the draft's, at a cost of the
     * pages the draft changed or cut. Throws IllegalStateException for a draft of another
     * checksum, or of this one before it changed.
     */
    public void commit(Draft draft) {
        if (draft.base != this || draft.baseValue != value || draft.baseCount != pageCount) {
            throw new IllegalStateException("the draft was taken from another state of the checksum");
        }
        resize(draft.floor); // only cuts: floor <= the page count the draft started from
        for (int pgno = draft.floor + 1; pgno <= draft.pageCount; pgno++) {
            setPageHash(pgno, draft.hash(pgno)); // appends: every page above floor is in changed
        }
        for (int pgno : draft.changed.pages()) {
            if (pgno > draft.floor) {
                break;
            }
            setPageHash(pgno, draft.changed.get(pgno, 0));
        }
        if (value != draft.value || pageCount != draft.pageCount) {
            throw new IllegalStateException("a committed draft gave checksum " + Long.toHexString(value) + " over "
                    + pageCount + " pages, the draft had " + Long.toHexString(draft.value) + " over "
                    + draft.pageCount);
        }
    }

    /**
     * A database checksum as changes over a base, for a replica checking a batch of transactions
     * before it writes them. A copy of the base costs 8 bytes per page of the whole database, so
     * a replica applying one row to a 1 GiB database copied 2 MiB per transaction, and its apply
     * grew with the database instead of with the batch. A draft keeps only the hashes of the
     * pages the batch sets, grows or cuts. Not thread-safe; read the base only while it is
     * unchanged.
     */
    public static final class Draft {
        private final DatabaseChecksum base;
        private final long baseValue;
        private final int baseCount;
        /**
         * The hash of every page the draft set or grew; entries above pageCount are stale (cut
         * since). Every page above floor that the draft holds is here.
         */
        private final PageValues changed = new PageValues();
        /** The fewest pages the draft went down to: pages up to here not in changed keep the base's hash. */
        private int floor;
        private int pageCount;
        private long value;

        private Draft(DatabaseChecksum base) {
            this.base = base;
            this.baseValue = base.value;
            this.baseCount = base.pageCount;
            this.floor = base.pageCount;
            this.pageCount = base.pageCount;
            this.value = base.value;
        }

        public int pageCount() {
            return pageCount;
        }

        public long value() {
            return value;
        }

        /** As {@link DatabaseChecksum#resize}. */
        public void resize(int newPageCount) {
            if (newPageCount < 0) {
                throw new IllegalArgumentException("page count must be >= 0: " + newPageCount);
            }
            if (newPageCount < pageCount) {
                for (int pgno = newPageCount + 1; pgno <= pageCount; pgno++) {
                    value ^= hash(pgno);
                }
                floor = Math.min(floor, newPageCount);
            } else {
                for (int pgno = pageCount + 1; pgno <= newPageCount; pgno++) {
                    long hash = base.zeroPageHash(pgno);
                    changed.put(pgno, hash);
                    value ^= hash;
                }
            }
            pageCount = newPageCount;
        }

        /** As {@link DatabaseChecksum#setPage(int, byte[], int)}. */
        public void setPage(int pgno, byte[] page, int offset) {
            if (pgno < 1) {
                throw new IllegalArgumentException("pgno must be >= 1: " + pgno);
            }
            long hash = pageHash(pgno, page, offset, base.pageSize);
            long old = 0; // a page past the end: pages skipped read as zeros, this one is replaced whole
            if (pgno > pageCount) {
                resize(pgno - 1);
                pageCount = pgno;
            } else {
                old = hash(pgno);
            }
            value ^= old ^ hash;
            changed.put(pgno, hash);
        }

        private long hash(int pgno) {
            if (changed.contains(pgno)) {
                return changed.get(pgno, 0);
            }
            if (pgno > floor) {
                throw new IllegalStateException("page " + pgno + " above the draft's floor " + floor + " has no hash");
            }
            return base.pageHashes[pgno - 1];
        }
    }

    /** The hash a zero-filled page {@code pgno} enters the checksum with. */
    private long zeroPageHash(int pgno) {
        if (zeros == null) {
            zeros = ByteBuffer.allocate(pageSize);
        }
        return pageHash(pgno, zeros, 0, pageSize);
    }

    private void ensureCapacity(int pages) {
        if (pages > pageHashes.length) {
            pageHashes = Arrays.copyOf(pageHashes, Math.max(pages, pageHashes.length * 3 / 2 + 16));
        }
    }
}
