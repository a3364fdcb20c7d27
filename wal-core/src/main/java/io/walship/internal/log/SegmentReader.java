package io.walship.internal.log;

import io.walship.BadObjectException;
import io.walship.internal.BoundedInputStream;
import io.walship.internal.ChannelIo;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import net.jpountz.xxhash.StreamingXXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Decodes one log segment, from memory or from a local file, checking it in this order before
 * anything is handed out: size, magic, version, page size, the whole-object checksum, then
 * while decompressing every length against its bound and every txid against its predecessor.
 *
 * <p>A cursor over transactions that holds one page at a time, whatever their size:
 * {@link #nextTransaction()} gives the next transaction's header, {@link #readPages} hands its
 * pages one by one to a {@link PageVisitor} and returns the database checksum after it. Close it
 * to release a file. Not thread-safe.
 */
public final class SegmentReader implements Closeable {
    /** Receives the pages of a transaction, in segment order. */
    @FunctionalInterface
    public interface PageVisitor {
        /** {@code image} holds the page's {@code pageSize} bytes from offset 0, valid during the call only. */
        void page(int pgno, byte[] image) throws IOException;
    }

    /** A transaction's header: what it is, before its pages are read. */
    public record TransactionHeader(long txid, long commitMillis, int databasePages, int pageCount) {
    }

    private static final int HASH_BUFFER_BYTES = 64 << 10;

    private final String key;
    private final int pageSize;
    private final int transactionCount;
    private final long firstTxid;
    private final long lastTxid;
    private final long checksumBefore;
    private final long rawBodyBytes;
    private final InputStream source;
    private final BlockInputStream body;
    private final byte[] page;
    private final byte[] word = new byte[Long.BYTES];
    private final byte[] txnHeader = new byte[FormatLayout.TXN_HEADER_SIZE];
    /** Block and delta buffers borrowed from the pool writers use too; given back at close. */
    private final CompressionBuffers buffers;
    private boolean closed;
    /** Version 2 and later: the delta table, mirrored from the writer's; null for version 1. */
    private final PageDeltas deltas;
    private long rawBytesRead;
    private int transactionsRead;
    private TransactionHeader current;
    private boolean pagesRead = true;
    private long checksumAfter;
    /** Where reading begins: the header's first txid, or later after {@link #skipThrough}. */
    private long startTxid;
    private long startChecksum;

    private SegmentReader(String key, SegmentHeader header, int version, InputStream body) {
        this.key = key;
        this.source = body;
        this.pageSize = header.pageSize();
        this.transactionCount = header.transactionCount();
        this.firstTxid = header.firstTxid();
        this.lastTxid = header.lastTxid();
        this.checksumBefore = header.checksumBefore();
        this.rawBodyBytes = header.rawBodyBytes();
        this.startTxid = firstTxid;
        this.startChecksum = checksumBefore;
        this.buffers = CompressionBuffers.borrow();
        this.body = new BlockInputStream(body, key, FormatLayout.SEGMENT_HEADER_SIZE, buffers);
        this.page = buffers.page(pageSize);
        this.deltas = version >= 2 ? buffers.deltas(pageSize) : null;
    }

    /** Validates header and whole-object checksum; throws {@link BadObjectException} (CORRUPT, UNSUPPORTED_FORMAT). */
    public static SegmentReader open(String key, byte[] bytes) {
        ByteBuffer header = ByteBuffer.wrap(bytes);
        SegmentHeader parsed = SegmentHeader.parse(key, header, bytes.length);
        int trailerOffset = bytes.length - FormatLayout.TRAILER_SIZE;
        checkTrailer(key, ByteBuffer.wrap(bytes).getLong(trailerOffset),
                XXHashFactory.fastestInstance().hash64().hash(bytes, 0, trailerOffset, FormatLayout.OBJECT_HASH_SEED),
                trailerOffset);
        int bodyOffset = FormatLayout.SEGMENT_HEADER_SIZE;
        return new SegmentReader(key, parsed, versionOf(header),
                new ByteArrayInputStream(bytes, bodyOffset, trailerOffset - bodyOffset));
    }

    /**
     * As {@link #open(String, byte[])}, for a segment in a local file: reads it once to check the
     * whole-object checksum, then streams the body from it. Close the reader to close the file.
     */
    public static SegmentReader open(String key, Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long length = channel.size();
            ByteBuffer header = ByteBuffer.allocate((int) Math.min(length, FormatLayout.SEGMENT_HEADER_SIZE));
            ChannelIo.readFully(channel, header, 0);
            SegmentHeader parsed = SegmentHeader.parse(key, header.flip(), length);
            long trailerOffset = length - FormatLayout.TRAILER_SIZE;
            ByteBuffer trailer = ByteBuffer.allocate(FormatLayout.TRAILER_SIZE);
            ChannelIo.readFully(channel, trailer, trailerOffset);
            checkTrailer(key, trailer.getLong(0), hashOf(channel, trailerOffset), trailerOffset);
            channel.position(FormatLayout.SEGMENT_HEADER_SIZE);
            InputStream body = new BufferedInputStream(new BoundedInputStream(Channels.newInputStream(channel),
                    trailerOffset - FormatLayout.SEGMENT_HEADER_SIZE), HASH_BUFFER_BYTES);
            return new SegmentReader(key, parsed, versionOf(header), body);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static int versionOf(ByteBuffer header) {
        return header.getShort(FormatLayout.VERSION_OFFSET) & 0xffff;
    }

    private static void checkTrailer(String key, long stored, long actual, long trailerOffset) {
        ObjectHeader.checkTrailer(key, stored, actual, trailerOffset);
    }

    /** xxHash64 of the first {@code length} bytes of the file, read in blocks. */
    static long hashOf(FileChannel channel, long length) throws IOException {
        StreamingXXHash64 hash = XXHashFactory.fastestInstance().newStreamingHash64(FormatLayout.OBJECT_HASH_SEED);
        ByteBuffer buffer = ByteBuffer.allocate(HASH_BUFFER_BYTES);
        for (long position = 0; position < length; ) {
            buffer.clear().limit((int) Math.min(buffer.capacity(), length - position));
            ChannelIo.readFully(channel, buffer, position);
            hash.update(buffer.array(), 0, buffer.limit());
            position += buffer.limit();
        }
        return hash.getValue();
    }

    public String key() {
        return key;
    }

    public int pageSize() {
        return pageSize;
    }

    public int transactionCount() {
        return transactionCount;
    }

    /** The first transaction this reader hands out: the header's, or the one after {@link #skipThrough}. */
    public long firstTxid() {
        return startTxid;
    }

    public long lastTxid() {
        return lastTxid;
    }

    /**
     * Database checksum before {@link #firstTxid()}: must equal the state it is applied to. After
     * {@link #skipThrough} it is the checksum the primary recorded after the last skipped transaction.
     */
    public long checksumBefore() {
        return startChecksum;
    }

    /**
     * Reads past every transaction up to and including {@code txid} without handing it out, so
     * that this reader starts at {@code txid + 1}: how a reader positioned inside a compacted
     * object (which holds many segments) starts where it stands. Only before anything was read.
     *
     * @throws IllegalArgumentException {@code txid} is not inside this segment, or reading began
     */
    public void skipThrough(long txid) throws IOException {
        if (transactionsRead > 0 || current != null || txid < firstTxid || txid >= lastTxid) {
            throw new IllegalArgumentException(key + " holds txids " + firstTxid + ".." + lastTxid
                    + ": cannot start after " + txid);
        }
        while (nextTransaction().txid() < txid) {
            // records before txid: pages skipped by the next call
        }
        startChecksum = readPages((pgno, image) -> { });
        startTxid = txid + 1;
    }

    /** Uncompressed size of the transaction records. */
    public long rawBodyBytes() {
        return rawBodyBytes;
    }

    /**
     * Checks that this segment continues a database of {@code pageSize} at {@code txid} whose
     * checksum is {@code checksum}, before anything of it is applied.
     *
     * @throws BadObjectException PAGE_SIZE_MISMATCH: the segment belongs to a database of another page size
     * @throws BadObjectException TXID_GAP: the segment does not start at {@code txid + 1}
     * @throws BadObjectException CORRUPT: the segment starts from another database state (another history)
     */
    public void checkContinues(int pageSize, long txid, long checksum) {
        if (this.pageSize != pageSize) {
            throw BadObjectException.pageSizeMismatch(key, pageSize, this.pageSize);
        }
        if (startTxid != txid + 1) {
            throw BadObjectException.txidGap(key, txid + 1, startTxid);
        }
        if (startChecksum != checksum) {
            throw BadObjectException.corrupt(key, "segment expects database checksum "
                    + Long.toHexString(startChecksum) + " before txid " + startTxid
                    + " but the database at txid " + txid + " has " + Long.toHexString(checksum)
                    + " (the log belongs to another history)", -1);
        }
    }

    /**
     * The next transaction's header, or {@code null} after the last one (the end of the body is
     * then checked). The pages of the previous transaction are skipped if they were not read.
     */
    public TransactionHeader nextTransaction() throws IOException {
        checkOpen();
        if (!pagesRead) {
            readPages((pgno, image) -> { });
        }
        if (transactionsRead == transactionCount) {
            if (!body.atEnd() || rawBytesRead != rawBodyBytes) {
                throw BadObjectException.corrupt(key, "body holds more than " + transactionCount + " transactions", -1);
            }
            current = null;
            return null;
        }
        body.readFully(txnHeader, 0, txnHeader.length);
        ByteBuffer h = ByteBuffer.wrap(txnHeader);
        long txid = h.getLong(FormatLayout.TXN_TXID_OFFSET);
        long commitMillis = h.getLong(FormatLayout.TXN_COMMIT_MILLIS_OFFSET);
        int databasePages = h.getInt(FormatLayout.TXN_DB_PAGES_OFFSET);
        int pageCount = h.getInt(FormatLayout.TXN_PAGE_COUNT_OFFSET);
        long expectedTxid = firstTxid + transactionsRead;
        if (txid != expectedTxid) {
            throw BadObjectException.corrupt(key, "transaction txid=" + txid + " expected=" + expectedTxid, -1);
        }
        if (databasePages < 1) {
            throw BadObjectException.corrupt(key, "txid=" + txid + " database size " + databasePages + " pages", -1);
        }
        long recordBytes = SegmentWriter.encodedBytes(pageCount, pageSize);
        if (pageCount < 0 || pageCount > databasePages || rawBytesRead + recordBytes > rawBodyBytes) {
            throw BadObjectException.corrupt(key, "txid=" + txid + " page count " + pageCount
                    + " does not fit the database (" + databasePages + " pages) or the body", -1);
        }
        rawBytesRead += recordBytes;
        current = new TransactionHeader(txid, commitMillis, databasePages, pageCount);
        pagesRead = false;
        return current;
    }

    /**
     * Reads the pages of the transaction {@link #nextTransaction()} returned, handing each to
     * {@code visitor} in order, and returns the database checksum the primary recorded after it.
     */
    public long readPages(PageVisitor visitor) throws IOException {
        checkOpen();
        if (current == null || pagesRead) {
            throw new IllegalStateException("no transaction to read pages of: call nextTransaction() first");
        }
        pagesRead = true;
        for (int i = 0; i < current.pageCount(); i++) {
            body.readFully(word, 0, FormatLayout.TXN_PGNO_SIZE);
            int stored = ByteBuffer.wrap(word).getInt(0);
            boolean delta = deltas != null && (stored & FormatLayout.PGNO_DELTA_FLAG) != 0;
            int pgno = delta ? stored & ~FormatLayout.PGNO_DELTA_FLAG : stored;
            if (pgno < 1 || pgno > current.databasePages()) {
                throw BadObjectException.corrupt(key, "txid=" + current.txid() + " pgno "
                        + Integer.toUnsignedString(pgno) + " outside 1.." + current.databasePages(), -1);
            }
            body.readFully(page, 0, pageSize);
            if (deltas != null && !deltas.decode(pgno, delta, page)) {
                throw BadObjectException.corrupt(key, "txid=" + current.txid() + " page " + pgno
                        + " is stored as a change to an earlier image the segment does not hold", -1);
            }
            visitor.page(pgno, page);
        }
        body.readFully(word, 0, FormatLayout.TXN_TRAILER_SIZE);
        transactionsRead++;
        checksumAfter = ByteBuffer.wrap(word).getLong(0);
        return checksumAfter;
    }

    /**
     * The database checksum after the last transaction passed, its pages read or skipped;
     * {@link #checksumBefore()} before the first.
     */
    public long checksumAfter() {
        return transactionsRead == 0 ? startChecksum : checksumAfter;
    }

    /** Its buffers went back to the pool at close: reading on would read another reader's bytes. */
    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("segment reader closed: key=" + key);
        }
    }

    /** Releases the file, if any, and gives the decode buffers back; again does nothing. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            source.close();
        } finally {
            buffers.giveBack();
        }
    }
}
