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

    /** An independent copy, for checking transactions before they touch a file. */
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
            if (zeros == null) {
                zeros = ByteBuffer.allocate(pageSize);
            }
            for (int i = pageCount; i < newPageCount; i++) {
                pageHashes[i] = pageHash(i + 1, zeros, 0, pageSize);
                value ^= pageHashes[i];
            }
        }
        pageCount = newPageCount;
    }

    private void ensureCapacity(int pages) {
        if (pages > pageHashes.length) {
            pageHashes = Arrays.copyOf(pageHashes, Math.max(pages, pageHashes.length * 3 / 2 + 16));
        }
    }
}
