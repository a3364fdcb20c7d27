package io.walship.internal.log;

import io.walship.BadObjectException;
import io.walship.internal.ChannelIo;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A database file being built page by page from a snapshot and segments, with its running
 * {@link DatabaseChecksum}: every transaction is checked against the checksum the primary
 * recorded after it, so the file is proven equal to the primary's at each txid.
 *
 * <p>Owns its file channel. Not thread-safe.
 */
public final class DatabaseImage implements Closeable {
    private final Path path;
    private final FileChannel channel;
    private final DatabaseChecksum checksum;
    private final int pageSize;
    private final Writeback writeback;
    private long txid;
    private long pagesWritten;

    private DatabaseImage(Path path, FileChannel channel, DatabaseChecksum checksum, long txid) {
        this.path = path;
        this.channel = channel;
        this.pageSize = checksum.pageSize();
        this.checksum = checksum;
        this.txid = txid;
        this.writeback = new Writeback(channel);
    }

    /** Creates (or empties) {@code path} for a database of {@code pageSize} at {@code txid}. */
    public static DatabaseImage create(Path path, int pageSize, long txid) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.READ, StandardOpenOption.TRUNCATE_EXISTING);
        return new DatabaseImage(path, channel, new DatabaseChecksum(pageSize), txid);
    }

    /**
     * Opens an existing database file whose pages have the hashes in {@code pages} (taken over,
     * not copied) at {@code txid}, to bring it forward with {@link #apply}. The file must not be
     * open in SQLite in this process.
     */
    public static DatabaseImage open(Path path, DatabaseChecksum pages, long txid) throws IOException {
        return new DatabaseImage(path, FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.READ),
                pages, txid);
    }

    public Path path() {
        return path;
    }

    public int pageSize() {
        return pageSize;
    }

    public int pageCount() {
        return checksum.pageCount();
    }

    public long checksum() {
        return checksum.value();
    }

    /** The txid of the last transaction applied (or of the snapshot). */
    public long txid() {
        return txid;
    }

    /**
     * Writes a batch of a snapshot's consecutive pages; the disk starts writing them in the
     * background ({@link Writeback}).
     */
    public void writePages(SnapshotPages.Batch batch) throws IOException {
        ByteBuffer pages = batch.pages();
        ChannelIo.writeFully(channel, pages.duplicate().position(0).limit(batch.length()),
                (long) (batch.firstPgno() - 1) * pageSize);
        writeback.written(batch.length());
        for (int i = 0; i < batch.count(); i++) {
            checksum.setPage(batch.firstPgno() + i, pages, i * pageSize);
        }
    }

    /** Checks that {@code segment} continues this image; see {@link SegmentReader#checkContinues}. */
    public void checkContinues(SegmentReader segment) {
        segment.checkContinues(pageSize, txid, checksum.value());
    }

    /** The hashes of the pages as they are now; live, owned by this image. */
    public DatabaseChecksum pages() {
        return checksum;
    }

    /** Pages written by {@link #apply} so far. */
    public long pagesWritten() {
        return pagesWritten;
    }

    /**
     * Applies the transaction {@code segment} is positioned at ({@code txn}, just returned by
     * {@link SegmentReader#nextTransaction()}), page by page, and verifies the database checksum
     * after it.
     */
    public void apply(SegmentReader segment, SegmentReader.TransactionHeader txn) throws IOException {
        long checksumAfter = write(segment, txn);
        if (checksum.value() != checksumAfter) {
            throw BadObjectException.corrupt(segment.key(), "database checksum after txid " + txn.txid() + " is "
                    + Long.toHexString(checksum.value()) + ", the primary recorded " + Long.toHexString(checksumAfter),
                    -1);
        }
    }

    /**
     * Applies a transaction without checking the checksum after it: for bringing forward a file
     * that an interrupted apply may have left part-way, where only the end state can be checked
     * (full page images make applying again idempotent).
     */
    public void applyUnverified(SegmentReader segment, SegmentReader.TransactionHeader txn) throws IOException {
        write(segment, txn);
    }

    /** Writes the transaction's pages; returns the database checksum the primary recorded after it. */
    private long write(SegmentReader segment, SegmentReader.TransactionHeader txn) throws IOException {
        if (txn.txid() != txid + 1) {
            throw BadObjectException.txidGap(segment.key(), txid + 1, txn.txid());
        }
        int oldCount = checksum.pageCount();
        checksum.resize(txn.databasePages());
        long checksumAfter = segment.readPages((pgno, image) -> {
            ByteBuffer page = ByteBuffer.wrap(image, 0, pageSize);
            long position = (long) (pgno - 1) * pageSize;
            while (page.hasRemaining()) {
                position += channel.write(page, position);
            }
            checksum.setPage(pgno, image, 0);
            pagesWritten++;
        });
        if (txn.databasePages() < oldCount) {
            channel.truncate((long) txn.databasePages() * pageSize);
        }
        txid = txn.txid();
        return checksumAfter;
    }

    /** Sets the file to exactly {@code pageCount} pages and forces it to disk. */
    public void finish() throws IOException {
        long size = (long) checksum.pageCount() * pageSize;
        if (channel.size() > size) {
            channel.truncate(size);
        } else if (channel.size() < size) {
            // pages past the last written one read as zeros, as in SQLite
            channel.write(ByteBuffer.allocate(1), size - 1);
        }
        writeback.finish();
        channel.force(true);
    }

    @Override
    public void close() throws IOException {
        writeback.awaitForce();
        channel.close();
    }
}
