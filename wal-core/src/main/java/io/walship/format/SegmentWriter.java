package io.walship.format;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Builds one log segment, compressing transactions as they are added, so only the compressed
 * body is held in memory. See {@link FormatLayout} for the bytes. Not thread-safe.
 *
 * <p>Add whole transactions with {@link #add(Transaction)}, or stream one from another buffer
 * with {@link #begin}, {@link #page} and {@link #end}; {@link #toByteArray()} seals it.
 */
public final class SegmentWriter {
    private final int pageSize;
    private final long checksumBefore;
    private final ChunkedOutputStream body = new ChunkedOutputStream();
    private final BlockOutputStream blocks;
    private final ByteBuffer word = ByteBuffer.allocate(FormatLayout.TXN_HEADER_SIZE);
    private int transactionCount;
    private long firstTxid = -1;
    private long lastTxid = -1;
    private long lastChecksumAfter;
    private int pagesLeft = -1;
    private byte[] sealed;

    /** @param checksumBefore database checksum before the first transaction of the segment */
    public SegmentWriter(int pageSize, long checksumBefore) {
        this(pageSize, checksumBefore, null);
    }

    /**
     * @param buffers scratch space to compress with (lent until {@link #toByteArray()}), or null to
     *                allocate small buffers that grow with the segment
     */
    public SegmentWriter(int pageSize, long checksumBefore, CompressionBuffers buffers) {
        if (!FormatLayout.isValidPageSize(pageSize)) {
            throw new IllegalArgumentException("invalid page size: " + pageSize);
        }
        this.pageSize = pageSize;
        this.checksumBefore = checksumBefore;
        this.lastChecksumAfter = checksumBefore;
        this.blocks = buffers == null ? new BlockOutputStream(body) : new BlockOutputStream(body, buffers);
    }

    /** Bytes a transaction of {@code pageCount} pages takes in a segment body, uncompressed. */
    public static long encodedBytes(int pageCount, int pageSize) {
        return FormatLayout.TXN_HEADER_SIZE + (long) pageCount * (FormatLayout.TXN_PGNO_SIZE + pageSize)
                + FormatLayout.TXN_TRAILER_SIZE;
    }

    /** Appends a whole transaction; its txid must follow the previous one. */
    public SegmentWriter add(Transaction txn) {
        if (txn.pageSize() != pageSize) {
            throw new IllegalArgumentException("transaction page size " + txn.pageSize() + " != " + pageSize);
        }
        begin(txn.txid(), txn.commitMillis(), txn.databasePages(), txn.pageCount());
        ByteBuffer images = ByteBuffer.wrap(txn.pageImages());
        for (int i = 0; i < txn.pageCount(); i++) {
            page(txn.pgno(i), images, i * pageSize);
        }
        end(txn.checksumAfter());
        return this;
    }

    /** Starts a transaction of {@code pageCount} pages; follow with exactly that many {@link #page} calls. */
    public void begin(long txid, long commitMillis, int databasePages, int pageCount) {
        checkOpen();
        if (pagesLeft >= 0) {
            throw new IllegalStateException("transaction " + lastTxid + " is not ended");
        }
        if (transactionCount > 0 && txid != lastTxid + 1) {
            throw new IllegalArgumentException("txid " + txid + " does not follow " + lastTxid);
        }
        word.putLong(FormatLayout.TXN_TXID_OFFSET, txid)
                .putLong(FormatLayout.TXN_COMMIT_MILLIS_OFFSET, commitMillis)
                .putInt(FormatLayout.TXN_DB_PAGES_OFFSET, databasePages)
                .putInt(FormatLayout.TXN_PAGE_COUNT_OFFSET, pageCount);
        write(word.array(), FormatLayout.TXN_HEADER_SIZE);
        if (transactionCount == 0) {
            firstTxid = txid;
        }
        lastTxid = txid;
        pagesLeft = pageCount;
    }

    /** Adds the image of page {@code pgno}: {@code pageSize} bytes at {@code offset} of {@code buffer}. */
    public void page(int pgno, ByteBuffer buffer, int offset) {
        if (pagesLeft <= 0) {
            throw new IllegalStateException("no page announced for txid " + lastTxid);
        }
        word.putInt(0, pgno);
        write(word.array(), FormatLayout.TXN_PGNO_SIZE);
        try {
            blocks.write(buffer, offset, pageSize);
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory cannot fail", e);
        }
        pagesLeft--;
    }

    /** Ends the transaction with the database checksum after it. */
    public void end(long checksumAfter) {
        if (pagesLeft != 0) {
            throw new IllegalStateException("txid " + lastTxid + " misses " + pagesLeft + " pages");
        }
        word.putLong(0, checksumAfter);
        write(word.array(), FormatLayout.TXN_TRAILER_SIZE);
        pagesLeft = -1;
        transactionCount++;
        lastChecksumAfter = checksumAfter;
    }

    private void write(byte[] bytes, int length) {
        try {
            blocks.write(bytes, 0, length);
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory cannot fail", e);
        }
    }

    private void checkOpen() {
        if (sealed != null) {
            throw new IllegalStateException("segment is sealed");
        }
    }

    public boolean isEmpty() {
        return transactionCount == 0;
    }

    public int transactionCount() {
        return transactionCount;
    }

    public long firstTxid() {
        return firstTxid;
    }

    public long lastTxid() {
        return lastTxid;
    }

    /** Database checksum after the last transaction. */
    public long lastChecksumAfter() {
        return lastChecksumAfter;
    }

    /** Uncompressed size of the transactions added so far. */
    public long rawBodyBytes() {
        return blocks.totalRawBytes();
    }

    /** Seals the segment (header, compressed records, trailer) and returns its bytes; repeatable. */
    public byte[] toByteArray() {
        if (sealed != null) {
            return sealed;
        }
        if (transactionCount == 0 || pagesLeft >= 0) {
            throw new IllegalStateException("a segment holds at least one whole transaction");
        }
        try {
            blocks.finish();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory cannot fail", e);
        }
        int bodyLength = Math.toIntExact(body.size());
        ByteBuffer bytes = ByteBuffer.allocate(FormatLayout.SEGMENT_HEADER_SIZE + bodyLength + FormatLayout.TRAILER_SIZE)
                .putInt(FormatLayout.MAGIC_OFFSET, FormatLayout.SEGMENT_MAGIC)
                .putShort(FormatLayout.VERSION_OFFSET, (short) FormatLayout.FORMAT_VERSION)
                .putShort(FormatLayout.FLAGS_OFFSET, (short) 0)
                .putInt(FormatLayout.PAGE_SIZE_OFFSET, pageSize)
                .putInt(FormatLayout.SEGMENT_TXN_COUNT_OFFSET, transactionCount)
                .putLong(FormatLayout.SEGMENT_FIRST_TXID_OFFSET, firstTxid)
                .putLong(FormatLayout.SEGMENT_LAST_TXID_OFFSET, lastTxid)
                .putLong(FormatLayout.SEGMENT_CHECKSUM_BEFORE_OFFSET, checksumBefore)
                .putLong(FormatLayout.SEGMENT_RAW_BODY_BYTES_OFFSET, blocks.totalRawBytes());
        byte[] array = bytes.array();
        body.copyTo(array, FormatLayout.SEGMENT_HEADER_SIZE);
        int trailerOffset = FormatLayout.SEGMENT_HEADER_SIZE + bodyLength;
        bytes.putLong(trailerOffset, XXHashFactory.fastestInstance().hash64().hash(array, 0, trailerOffset,
                FormatLayout.OBJECT_HASH_SEED));
        sealed = array;
        return sealed;
    }
}
