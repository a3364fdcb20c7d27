package io.walship.internal.log;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * Streams a snapshot: the header, then every page of the database in order through the block
 * stream, then the trailer. Memory use is one block, whatever the size of the database.
 * Does not close the output stream.
 */
public final class SnapshotWriter {
    private final int pageSize;
    private final int pageCount;
    private final HashingOutputStream hashing;
    private final BlockOutputStream blocks;
    private int pagesWritten;

    public SnapshotWriter(OutputStream out, int pageSize, int pageCount, long txid, long databaseChecksum,
                          long createdMillis) throws IOException {
        if (!FormatLayout.isValidPageSize(pageSize)) {
            throw new IllegalArgumentException("invalid page size: " + pageSize);
        }
        if (pageCount < 0 || txid < 0) {
            throw new IllegalArgumentException("pageCount and txid must be >= 0: " + pageCount + ", " + txid);
        }
        this.pageSize = pageSize;
        this.pageCount = pageCount;
        this.hashing = new HashingOutputStream(out);
        ByteBuffer header = ObjectHeader.prefix(FormatLayout.SNAPSHOT_HEADER_SIZE, FormatLayout.SNAPSHOT_MAGIC,
                        FormatLayout.FORMAT_VERSION, pageSize)
                .putInt(FormatLayout.SNAPSHOT_PAGE_COUNT_OFFSET, pageCount)
                .putLong(FormatLayout.SNAPSHOT_TXID_OFFSET, txid)
                .putLong(FormatLayout.SNAPSHOT_CHECKSUM_OFFSET, databaseChecksum)
                .putLong(FormatLayout.SNAPSHOT_CREATED_MILLIS_OFFSET, createdMillis);
        hashing.write(header.array());
        this.blocks = new BlockOutputStream(hashing);
    }

    /** Writes the next page image, {@code pageSize} bytes at {@code offset} of {@code buffer}. */
    public void writePage(ByteBuffer buffer, int offset) throws IOException {
        if (pagesWritten == pageCount) {
            throw new IllegalStateException("snapshot already holds its " + pageCount + " pages");
        }
        blocks.write(buffer, offset, pageSize);
        pagesWritten++;
    }

    /** Ends the block stream and writes the trailer; every page must have been written. */
    public void finish() throws IOException {
        if (pagesWritten != pageCount) {
            throw new IllegalStateException("snapshot has " + pagesWritten + " of " + pageCount + " pages");
        }
        blocks.finish();
        hashing.writeTrailer();
        hashing.flush();
    }
}
