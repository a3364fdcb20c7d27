package io.walship.internal.log;

import io.walship.BadObjectException;
import java.nio.ByteBuffer;

/**
 * The fixed header of a stored segment (docs/FORMAT.md, "Segment"): which txids the object
 * holds and the database checksum it starts from. Its first {@link FormatLayout#SEGMENT_HEADER_SIZE}
 * bytes are enough to read it, so a planner learns where every object of a long history ends with
 * one small ranged read each, without fetching bodies; {@link SegmentReader} checks the rest when
 * the object is read.
 *
 * @param pageSize         database page size
 * @param transactionCount transactions in the object, at least one
 * @param firstTxid        its first transaction (for a compacted object: its first segment's)
 * @param lastTxid         its last transaction; {@code firstTxid + transactionCount - 1}
 * @param checksumBefore   the database checksum before {@code firstTxid}
 * @param rawBodyBytes     decompressed size of the transaction records
 */
public record SegmentHeader(int pageSize, int transactionCount, long firstTxid, long lastTxid, long checksumBefore,
                            long rawBodyBytes) {

    /**
     * Parses and checks a header: magic, version, page size and the txid fields against each
     * other; {@code length} (the whole object's size, or -1 when unknown) against the smallest
     * segment and the body's size.
     *
     * @throws BadObjectException CORRUPT: not a segment, too short, or inconsistent fields
     * @throws io.walship.BadObjectException UNSUPPORTED_FORMAT: a version this reader does not know
     */
    public static SegmentHeader parse(String key, ByteBuffer header, long length) {
        long available = length < 0 ? header.limit() : Math.min(length, header.limit());
        ObjectHeader.checkMagicAndVersion(key, header, available, FormatLayout.SEGMENT_MAGIC, "segment",
                FormatLayout.SEGMENT_FORMAT_VERSION);
        int minimum = FormatLayout.SEGMENT_HEADER_SIZE + FormatLayout.BLOCK_HEADER_SIZE + FormatLayout.TRAILER_SIZE;
        if (available < FormatLayout.SEGMENT_HEADER_SIZE || (length >= 0 && length < minimum)) {
            throw BadObjectException.corrupt(key, "object of " + (length >= 0 ? length : available)
                    + " bytes is shorter than the minimum " + minimum, -1);
        }
        int pageSize = header.getInt(FormatLayout.PAGE_SIZE_OFFSET);
        if (!FormatLayout.isValidPageSize(pageSize)) {
            throw BadObjectException.corrupt(key, "invalid page size " + pageSize, FormatLayout.PAGE_SIZE_OFFSET);
        }
        int transactionCount = header.getInt(FormatLayout.SEGMENT_TXN_COUNT_OFFSET);
        long firstTxid = header.getLong(FormatLayout.SEGMENT_FIRST_TXID_OFFSET);
        long lastTxid = header.getLong(FormatLayout.SEGMENT_LAST_TXID_OFFSET);
        long checksumBefore = header.getLong(FormatLayout.SEGMENT_CHECKSUM_BEFORE_OFFSET);
        long rawBodyBytes = header.getLong(FormatLayout.SEGMENT_RAW_BODY_BYTES_OFFSET);
        if (transactionCount < 1 || firstTxid < 1 || lastTxid - firstTxid + 1 != transactionCount) {
            throw BadObjectException.corrupt(key, "inconsistent header: txnCount=" + transactionCount + " firstTxid="
                    + firstTxid + " lastTxid=" + lastTxid, FormatLayout.SEGMENT_TXN_COUNT_OFFSET);
        }
        if (rawBodyBytes < 0 || (length >= 0 && rawBodyBytes > length * FormatLayout.MAX_LZ4_EXPANSION)) {
            throw BadObjectException.corrupt(key, "raw body length out of range: " + rawBodyBytes,
                    FormatLayout.SEGMENT_RAW_BODY_BYTES_OFFSET);
        }
        return new SegmentHeader(pageSize, transactionCount, firstTxid, lastTxid, checksumBefore, rawBodyBytes);
    }

    /** Whether {@code txid} is one of this object's transactions. */
    public boolean holds(long txid) {
        return txid >= firstTxid && txid <= lastTxid;
    }
}
