package io.walship.format;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * One committed write transaction as stored in a segment: its txid, commit time, the database
 * size after commit, the images of the pages it changed (each page once) and the database
 * checksum after commit.
 *
 * <p>Immutable by convention: the arrays are owned by the transaction and must not be changed
 * after construction.
 */
public final class Transaction {
    private final long txid;
    private final long commitMillis;
    private final int databasePages;
    private final int pageSize;
    private final int[] pgnos;
    private final byte[] pageImages;
    private final long checksumAfter;

    /**
     * @param pgnos      the changed pages, each once
     * @param pageImages {@code pgnos.length * pageSize} bytes: the image of {@code pgnos[i]} at {@code i * pageSize}
     */
    public Transaction(long txid, long commitMillis, int databasePages, int pageSize, int[] pgnos, byte[] pageImages,
                       long checksumAfter) {
        Objects.requireNonNull(pgnos, "pgnos");
        Objects.requireNonNull(pageImages, "pageImages");
        if ((long) pgnos.length * pageSize != pageImages.length) {
            throw new IllegalArgumentException("page images hold " + pageImages.length + " bytes, expected "
                    + pgnos.length + " x " + pageSize);
        }
        this.txid = txid;
        this.commitMillis = commitMillis;
        this.databasePages = databasePages;
        this.pageSize = pageSize;
        this.pgnos = pgnos;
        this.pageImages = pageImages;
        this.checksumAfter = checksumAfter;
    }

    public long txid() {
        return txid;
    }

    /** Commit time on the primary, milliseconds since the epoch. */
    public long commitMillis() {
        return commitMillis;
    }

    /** Size of the database after commit, in pages. */
    public int databasePages() {
        return databasePages;
    }

    public int pageSize() {
        return pageSize;
    }

    public int pageCount() {
        return pgnos.length;
    }

    public int pgno(int index) {
        return pgnos[index];
    }

    /** A read-only view of the image of the {@code index}-th page. */
    public ByteBuffer page(int index) {
        return ByteBuffer.wrap(pageImages, index * pageSize, pageSize).slice().asReadOnlyBuffer();
    }

    /** The backing array of all page images; page {@code i} starts at {@code i * pageSize()}. Do not modify. */
    public byte[] pageImages() {
        return pageImages;
    }

    /** Database checksum after this transaction. */
    public long checksumAfter() {
        return checksumAfter;
    }

    /** Bytes this transaction takes in a segment body, uncompressed. */
    public long encodedBytes() {
        return SegmentWriter.encodedBytes(pgnos.length, pageSize);
    }

    @Override
    public String toString() {
        return "Transaction[txid=" + txid + ", pages=" + pgnos.length + ", databasePages=" + databasePages + "]";
    }
}
