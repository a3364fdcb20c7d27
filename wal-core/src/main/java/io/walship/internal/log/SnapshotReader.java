package io.walship.internal.log;

import io.walship.BadObjectException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * Streams a snapshot. The header is checked on {@link #open}; pages are then read in order with
 * {@link #readPage}; {@link #finish()} checks the end of the block stream and the whole-object
 * checksum. A snapshot is a stream, so its checksum is known only at the end: callers write
 * pages to a temporary file and make it visible only after {@code finish()} succeeded.
 */
public final class SnapshotReader {
    private final String key;
    private final int pageSize;
    private final int pageCount;
    private final long txid;
    private final long databaseChecksum;
    private final long createdMillis;
    private final HashingInputStream hashing;
    private final BlockInputStream blocks;
    private int pagesRead;

    private SnapshotReader(String key, InputStream in) throws IOException {
        this.key = key;
        this.hashing = new HashingInputStream(in);
        byte[] headerBytes = new byte[FormatLayout.SNAPSHOT_HEADER_SIZE];
        int read = hashing.readNBytes(headerBytes, 0, headerBytes.length);
        ByteBuffer header = ByteBuffer.wrap(headerBytes);
        ObjectHeader.checkMagicAndVersion(key, header, read, FormatLayout.SNAPSHOT_MAGIC, "snapshot",
                FormatLayout.FORMAT_VERSION);
        if (read < headerBytes.length) {
            throw BadObjectException.corrupt(key, "truncated in header", read);
        }
        pageSize = header.getInt(FormatLayout.PAGE_SIZE_OFFSET);
        if (!FormatLayout.isValidPageSize(pageSize)) {
            throw BadObjectException.corrupt(key, "invalid page size " + pageSize, FormatLayout.PAGE_SIZE_OFFSET);
        }
        pageCount = header.getInt(FormatLayout.SNAPSHOT_PAGE_COUNT_OFFSET);
        txid = header.getLong(FormatLayout.SNAPSHOT_TXID_OFFSET);
        if (pageCount < 0 || txid < 0) {
            throw BadObjectException.corrupt(key, "inconsistent header: pageCount=" + pageCount + " txid=" + txid,
                    FormatLayout.SNAPSHOT_PAGE_COUNT_OFFSET);
        }
        databaseChecksum = header.getLong(FormatLayout.SNAPSHOT_CHECKSUM_OFFSET);
        createdMillis = header.getLong(FormatLayout.SNAPSHOT_CREATED_MILLIS_OFFSET);
        blocks = new BlockInputStream(hashing, key, FormatLayout.SNAPSHOT_HEADER_SIZE);
    }

    /** Reads and checks the header. The caller keeps ownership of {@code in}. */
    public static SnapshotReader open(String key, InputStream in) throws IOException {
        return new SnapshotReader(key, in);
    }

    public String key() {
        return key;
    }

    public int pageSize() {
        return pageSize;
    }

    public int pageCount() {
        return pageCount;
    }

    public long txid() {
        return txid;
    }

    public long databaseChecksum() {
        return databaseChecksum;
    }

    public long createdMillis() {
        return createdMillis;
    }

    /** Reads the next page image into {@code page} at {@code offset}; returns its page number. */
    public int readPage(byte[] page, int offset) throws IOException {
        readPages(page, offset, 1);
        return pagesRead;
    }

    /** Reads the next {@code count} pages into {@code pages} from {@code offset}, one after the other. */
    public void readPages(byte[] pages, int offset, int count) throws IOException {
        readPages(ByteBuffer.wrap(pages), offset, count);
    }

    /** As {@link #readPages(byte[], int, int)}, into a buffer (absolute: its position is left alone). */
    public void readPages(ByteBuffer pages, int offset, int count) throws IOException {
        if (count > pageCount - pagesRead) {
            throw new IllegalStateException(count + " pages asked, " + (pageCount - pagesRead) + " left");
        }
        blocks.readFully(pages, offset, count * pageSize);
        pagesRead += count;
    }

    /** Checks that the stream ends where it should and that the whole-object checksum matches. */
    public void finish() throws IOException {
        if (pagesRead != pageCount) {
            throw new IllegalStateException("read " + pagesRead + " of " + pageCount + " pages");
        }
        if (!blocks.atEnd()) {
            throw BadObjectException.corrupt(key, "more data after " + pageCount + " pages", hashing.count());
        }
        long computed = hashing.hash();
        long offset = hashing.count();
        byte[] trailer = hashing.unhashed().readNBytes(FormatLayout.TRAILER_SIZE);
        if (trailer.length < FormatLayout.TRAILER_SIZE) {
            throw BadObjectException.corrupt(key, "truncated in trailer", offset + trailer.length);
        }
        ObjectHeader.checkTrailer(key, ByteBuffer.wrap(trailer).getLong(), computed, offset);
        if (hashing.unhashed().read() >= 0) {
            throw BadObjectException.corrupt(key, "bytes after the trailer", offset + FormatLayout.TRAILER_SIZE);
        }
    }
}
