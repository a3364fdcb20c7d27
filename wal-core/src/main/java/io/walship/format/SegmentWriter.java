package io.walship.format;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds one log segment from consecutive transactions. See {@link FormatLayout} for the bytes.
 * Not thread-safe; one writer per segment.
 */
public final class SegmentWriter {
    private final int pageSize;
    private final long checksumBefore;
    private final List<Transaction> transactions = new ArrayList<>();
    private long rawBodyBytes;

    /** @param checksumBefore database checksum before the first transaction of the segment */
    public SegmentWriter(int pageSize, long checksumBefore) {
        if (!FormatLayout.isValidPageSize(pageSize)) {
            throw new IllegalArgumentException("invalid page size: " + pageSize);
        }
        this.pageSize = pageSize;
        this.checksumBefore = checksumBefore;
    }

    /** Appends a transaction; its txid must follow the previous one. */
    public SegmentWriter add(Transaction txn) {
        if (txn.pageSize() != pageSize) {
            throw new IllegalArgumentException("transaction page size " + txn.pageSize() + " != " + pageSize);
        }
        if (!transactions.isEmpty() && txn.txid() != lastTxid() + 1) {
            throw new IllegalArgumentException("txid " + txn.txid() + " does not follow " + lastTxid());
        }
        transactions.add(txn);
        rawBodyBytes += txn.encodedBytes();
        return this;
    }

    public boolean isEmpty() {
        return transactions.isEmpty();
    }

    public long firstTxid() {
        return transactions.get(0).txid();
    }

    public long lastTxid() {
        return transactions.get(transactions.size() - 1).txid();
    }

    /** Database checksum after the last transaction. */
    public long lastChecksumAfter() {
        return transactions.get(transactions.size() - 1).checksumAfter();
    }

    /** Uncompressed size of the transactions added so far. */
    public long rawBodyBytes() {
        return rawBodyBytes;
    }

    /** Encodes the segment: header, compressed transaction records, trailer. */
    public byte[] toByteArray() {
        if (transactions.isEmpty()) {
            throw new IllegalStateException("a segment holds at least one transaction");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream((int) Math.min(rawBodyBytes / 2 + 64, 1 << 24));
        try (HashingOutputStream hashing = new HashingOutputStream(bytes)) {
            ByteBuffer header = ByteBuffer.allocate(FormatLayout.SEGMENT_HEADER_SIZE)
                    .putInt(FormatLayout.MAGIC_OFFSET, FormatLayout.SEGMENT_MAGIC)
                    .putShort(FormatLayout.VERSION_OFFSET, (short) FormatLayout.FORMAT_VERSION)
                    .putShort(FormatLayout.FLAGS_OFFSET, (short) 0)
                    .putInt(FormatLayout.PAGE_SIZE_OFFSET, pageSize)
                    .putInt(FormatLayout.SEGMENT_TXN_COUNT_OFFSET, transactions.size())
                    .putLong(FormatLayout.SEGMENT_FIRST_TXID_OFFSET, firstTxid())
                    .putLong(FormatLayout.SEGMENT_LAST_TXID_OFFSET, lastTxid())
                    .putLong(FormatLayout.SEGMENT_CHECKSUM_BEFORE_OFFSET, checksumBefore)
                    .putLong(FormatLayout.SEGMENT_RAW_BODY_BYTES_OFFSET, rawBodyBytes);
            hashing.write(header.array());
            BlockOutputStream blocks = new BlockOutputStream(hashing);
            ByteBuffer txnHeader = ByteBuffer.allocate(FormatLayout.TXN_HEADER_SIZE);
            ByteBuffer word = ByteBuffer.allocate(Long.BYTES);
            for (Transaction txn : transactions) {
                txnHeader.putLong(FormatLayout.TXN_TXID_OFFSET, txn.txid())
                        .putLong(FormatLayout.TXN_COMMIT_MILLIS_OFFSET, txn.commitMillis())
                        .putInt(FormatLayout.TXN_DB_PAGES_OFFSET, txn.databasePages())
                        .putInt(FormatLayout.TXN_PAGE_COUNT_OFFSET, txn.pageCount());
                blocks.write(txnHeader.array(), 0, FormatLayout.TXN_HEADER_SIZE);
                byte[] images = txn.pageImages();
                for (int i = 0; i < txn.pageCount(); i++) {
                    word.putInt(0, txn.pgno(i));
                    blocks.write(word.array(), 0, FormatLayout.TXN_PGNO_SIZE);
                    blocks.write(images, i * pageSize, pageSize);
                }
                word.putLong(0, txn.checksumAfter());
                blocks.write(word.array(), 0, FormatLayout.TXN_TRAILER_SIZE);
            }
            blocks.finish();
            hashing.writeTrailer();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory cannot fail", e);
        }
        return bytes.toByteArray();
    }
}
