package io.walship.format;

import io.walship.CorruptObjectException;
import io.walship.PageSizeMismatchException;
import io.walship.TxidGapException;
import io.walship.UnsupportedFormatException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import net.jpountz.xxhash.XXHashFactory;

/**
 * Decodes one log segment, checking it in this order before anything is handed out: size,
 * magic, version, page size, the whole-object checksum, then while decompressing every length
 * against its bound and every txid against its predecessor. Transactions are read one at a
 * time with {@link #next()}, so memory holds one transaction, not the whole segment.
 */
public final class SegmentReader {
    private final String key;
    private final int pageSize;
    private final int transactionCount;
    private final long firstTxid;
    private final long lastTxid;
    private final long checksumBefore;
    private final long rawBodyBytes;
    private final BlockInputStream body;
    private long rawBytesRead;
    private int transactionsRead;

    private SegmentReader(String key, byte[] bytes) {
        this.key = key;
        int minimum = FormatLayout.SEGMENT_HEADER_SIZE + FormatLayout.BLOCK_HEADER_SIZE + FormatLayout.TRAILER_SIZE;
        if (bytes.length < FormatLayout.VERSION_OFFSET + Short.BYTES) {
            throw new CorruptObjectException(key, "object of " + bytes.length + " bytes is too short for a segment", -1);
        }
        ByteBuffer header = ByteBuffer.wrap(bytes);
        int magic = header.getInt(FormatLayout.MAGIC_OFFSET);
        if (magic != FormatLayout.SEGMENT_MAGIC) {
            throw new CorruptObjectException(key, "not a walship segment: magic=0x" + Integer.toHexString(magic)
                    + " expected=0x" + Integer.toHexString(FormatLayout.SEGMENT_MAGIC), FormatLayout.MAGIC_OFFSET);
        }
        int version = header.getShort(FormatLayout.VERSION_OFFSET) & 0xffff;
        if (version != FormatLayout.FORMAT_VERSION) {
            throw new UnsupportedFormatException(key, version, FormatLayout.FORMAT_VERSION);
        }
        if (bytes.length < minimum) {
            throw new CorruptObjectException(key, "object of " + bytes.length + " bytes is shorter than the minimum "
                    + minimum, -1);
        }
        int trailerOffset = bytes.length - FormatLayout.TRAILER_SIZE;
        long stored = header.getLong(trailerOffset);
        long actual = XXHashFactory.fastestInstance().hash64().hash(bytes, 0, trailerOffset, FormatLayout.OBJECT_HASH_SEED);
        if (stored != actual) {
            throw new CorruptObjectException(key, "object checksum mismatch: stored=" + Long.toHexString(stored)
                    + " computed=" + Long.toHexString(actual) + " (truncated or damaged)", trailerOffset);
        }
        pageSize = header.getInt(FormatLayout.PAGE_SIZE_OFFSET);
        if (!FormatLayout.isValidPageSize(pageSize)) {
            throw new CorruptObjectException(key, "invalid page size " + pageSize, FormatLayout.PAGE_SIZE_OFFSET);
        }
        transactionCount = header.getInt(FormatLayout.SEGMENT_TXN_COUNT_OFFSET);
        firstTxid = header.getLong(FormatLayout.SEGMENT_FIRST_TXID_OFFSET);
        lastTxid = header.getLong(FormatLayout.SEGMENT_LAST_TXID_OFFSET);
        checksumBefore = header.getLong(FormatLayout.SEGMENT_CHECKSUM_BEFORE_OFFSET);
        rawBodyBytes = header.getLong(FormatLayout.SEGMENT_RAW_BODY_BYTES_OFFSET);
        if (transactionCount < 1 || firstTxid < 1 || lastTxid - firstTxid + 1 != transactionCount) {
            throw new CorruptObjectException(key, "inconsistent header: txnCount=" + transactionCount + " firstTxid="
                    + firstTxid + " lastTxid=" + lastTxid, FormatLayout.SEGMENT_TXN_COUNT_OFFSET);
        }
        if (rawBodyBytes < 0 || rawBodyBytes > (long) bytes.length * FormatLayout.MAX_LZ4_EXPANSION) {
            throw new CorruptObjectException(key, "raw body length out of range: " + rawBodyBytes,
                    FormatLayout.SEGMENT_RAW_BODY_BYTES_OFFSET);
        }
        int bodyOffset = FormatLayout.SEGMENT_HEADER_SIZE;
        body = new BlockInputStream(new ByteArrayInputStream(bytes, bodyOffset, trailerOffset - bodyOffset), key,
                bodyOffset);
    }

    /** Validates header and whole-object checksum; throws {@link CorruptObjectException} or {@link UnsupportedFormatException}. */
    public static SegmentReader open(String key, byte[] bytes) {
        return new SegmentReader(key, bytes);
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

    public long firstTxid() {
        return firstTxid;
    }

    public long lastTxid() {
        return lastTxid;
    }

    /** Database checksum before the first transaction: must equal the state it is applied to. */
    public long checksumBefore() {
        return checksumBefore;
    }

    /** Uncompressed size of the transaction records. */
    public long rawBodyBytes() {
        return rawBodyBytes;
    }

    /**
     * Checks that this segment continues a database of {@code pageSize} at {@code txid} whose
     * checksum is {@code checksum}, before anything of it is applied.
     *
     * @throws PageSizeMismatchException the segment belongs to a database of another page size
     * @throws TxidGapException          the segment does not start at {@code txid + 1}
     * @throws CorruptObjectException    the segment starts from another database state (another history)
     */
    public void checkContinues(int pageSize, long txid, long checksum) {
        if (this.pageSize != pageSize) {
            throw new PageSizeMismatchException(key, pageSize, this.pageSize);
        }
        if (firstTxid != txid + 1) {
            throw new TxidGapException(key, txid + 1, firstTxid);
        }
        if (checksumBefore != checksum) {
            throw new CorruptObjectException(key, "segment expects database checksum "
                    + Long.toHexString(checksumBefore) + " before txid " + firstTxid
                    + " but the database at txid " + txid + " has " + Long.toHexString(checksum)
                    + " (the log belongs to another history)", -1);
        }
    }

    /** The next transaction, or {@code null} after the last one (the end of the body is then checked). */
    public Transaction next() {
        try {
            if (transactionsRead == transactionCount) {
                if (!body.atEnd() || rawBytesRead != rawBodyBytes) {
                    throw new CorruptObjectException(key, "body holds more than " + transactionCount
                            + " transactions", -1);
                }
                return null;
            }
            return readTransaction();
        } catch (IOException e) {
            throw new UncheckedIOException("reading from memory cannot fail", e);
        }
    }

    private Transaction readTransaction() throws IOException {
        byte[] txnHeader = new byte[FormatLayout.TXN_HEADER_SIZE];
        body.readFully(txnHeader, 0, txnHeader.length);
        ByteBuffer h = ByteBuffer.wrap(txnHeader);
        long txid = h.getLong(FormatLayout.TXN_TXID_OFFSET);
        long commitMillis = h.getLong(FormatLayout.TXN_COMMIT_MILLIS_OFFSET);
        int databasePages = h.getInt(FormatLayout.TXN_DB_PAGES_OFFSET);
        int pageCount = h.getInt(FormatLayout.TXN_PAGE_COUNT_OFFSET);
        long expectedTxid = firstTxid + transactionsRead;
        if (txid != expectedTxid) {
            throw new CorruptObjectException(key, "transaction txid=" + txid + " expected=" + expectedTxid, -1);
        }
        if (databasePages < 1) {
            throw new CorruptObjectException(key, "txid=" + txid + " database size " + databasePages + " pages", -1);
        }
        long recordBytes = FormatLayout.TXN_HEADER_SIZE
                + (long) pageCount * (FormatLayout.TXN_PGNO_SIZE + pageSize) + FormatLayout.TXN_TRAILER_SIZE;
        if (pageCount < 0 || pageCount > databasePages || rawBytesRead + recordBytes > rawBodyBytes) {
            throw new CorruptObjectException(key, "txid=" + txid + " page count " + pageCount
                    + " does not fit the database (" + databasePages + " pages) or the body", -1);
        }
        int[] pgnos = new int[pageCount];
        byte[] images = new byte[Math.toIntExact((long) pageCount * pageSize)];
        byte[] word = new byte[Long.BYTES];
        for (int i = 0; i < pageCount; i++) {
            body.readFully(word, 0, FormatLayout.TXN_PGNO_SIZE);
            int pgno = ByteBuffer.wrap(word).getInt(0);
            if (pgno < 1 || pgno > databasePages) {
                throw new CorruptObjectException(key, "txid=" + txid + " pgno " + pgno + " outside 1.."
                        + databasePages, -1);
            }
            pgnos[i] = pgno;
            body.readFully(images, i * pageSize, pageSize);
        }
        body.readFully(word, 0, FormatLayout.TXN_TRAILER_SIZE);
        long checksumAfter = ByteBuffer.wrap(word).getLong(0);
        rawBytesRead += recordBytes;
        transactionsRead++;
        return new Transaction(txid, commitMillis, databasePages, pageSize, pgnos, images, checksumAfter);
    }
}
