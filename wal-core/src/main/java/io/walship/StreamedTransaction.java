package io.walship;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * One transaction of a primary, as a {@link TransactionSubscriber} receives it: its txid, commit
 * time, the database's size after it, whether it was in storage when delivered, and its pages,
 * read once with {@link #readPages}, which also returns the database checksum after it (the
 * checksum a replica verifies a segment by). Valid during
 * {@link TransactionSubscriber#onTransaction} only.
 */
public final class StreamedTransaction {
    /** Receives one page image: {@code image} is read-only, page size bytes, valid during the call only. */
    @FunctionalInterface
    public interface PageVisitor {
        void page(int pgno, ByteBuffer image) throws IOException;
    }

    /** Where the pages come from: memory or a segment being read. */
    interface Pages {
        long read(PageVisitor visitor) throws IOException;
    }

    private final long txid;
    private final long commitMillis;
    private final int databasePages;
    private final int pageCount;
    private final long checksumBefore;
    private final boolean stored;
    private final Pages pages;
    private boolean read;

    StreamedTransaction(long txid, long commitMillis, int databasePages, int pageCount, long checksumBefore,
                        boolean stored, Pages pages) {
        this.txid = txid;
        this.commitMillis = commitMillis;
        this.databasePages = databasePages;
        this.pageCount = pageCount;
        this.checksumBefore = checksumBefore;
        this.stored = stored;
        this.pages = pages;
    }

    /** The transaction's txid. */
    public long txid() {
        return txid;
    }

    /** When the primary committed it (its clock). */
    public Instant commitTime() {
        return Instant.ofEpochMilli(commitMillis);
    }

    /** The database's size after it, in pages. */
    public int databasePages() {
        return databasePages;
    }

    /** How many page images it carries (each page once). */
    public int pageCount() {
        return pageCount;
    }

    /** The database checksum before it: what a copy must hold to apply it (DatabaseChecksum, docs/FORMAT.md). */
    public long checksumBefore() {
        return checksumBefore;
    }

    /**
     * Whether it was in storage when delivered: a crash of the primary cannot take it back. An
     * unstored transaction is usually stored moments later; one a crash loses is never stored and
     * its txid is reused by a later transaction.
     */
    public boolean stored() {
        return stored;
    }

    /**
     * Hands each page image to {@code visitor} in order and returns the database checksum after
     * this transaction. Once per delivery, during it; pages not read are skipped.
     *
     * @throws IllegalStateException called a second time, or after the delivery returned
     */
    public long readPages(PageVisitor visitor) throws IOException {
        if (read) {
            throw new IllegalStateException("pages of txid " + txid + " can be read once, during its delivery");
        }
        read = true;
        return pages.read(visitor);
    }

    /**
     * Ends the delivery: the pages cannot be read any more (a segment reader has moved on, and
     * skips pages nobody read by itself).
     */
    void finish() {
        read = true;
    }

    @Override
    public String toString() {
        return "StreamedTransaction[txid=" + txid + ", pages=" + pageCount + ", stored=" + stored + "]";
    }
}
