package io.walship.internal.log;

import io.walship.BadObjectException;
import io.walship.internal.ChannelIo;
import io.walship.internal.DirectIo;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A database file being built page by page from a snapshot and segments, with its running
 * {@link DatabaseChecksum}: every transaction is checked against the checksum the primary
 * recorded after it, so the file is proven equal to the primary's at each txid.
 *
 * <p>Owns its file channels. Not thread-safe.
 */
public final class DatabaseImage implements Closeable {
    /*
     * Direct writes. A new file's snapshot pages go to the disk through a second channel opened
     * with O_DIRECT, where the file system takes it and the page size is a multiple of its block
     * size: a restore then neither fills the page cache with a database nobody reads yet (on a
     * service's host it would push out what the service reads) nor pays for the cache's fresh
     * pages, which on the bench VM made writing a gigabyte take 0.8 s in one run and 4.4 s in
     * the next (bench/PROFILE.md section 14). The batches are aligned for it (SnapshotPages).
     * Everything else (log pages, the size, a file brought forward by open()) goes through the
     * cache as before. O_DIRECT alone does not make data durable: finish()'s force does, for
     * both channels' writes. A file system that opens the file but refuses a direct write is
     * used through the cache from that write on.
     */
    private static final Logger log = LoggerFactory.getLogger(DatabaseImage.class);

    private final Path path;
    private final FileChannel channel;
    /** The same file opened for direct writes, or null: see the note. */
    private FileChannel direct;
    /** The thread that makes the direct writes, made on the first one; null before. */
    private ExecutorService diskWriter;
    private final DatabaseChecksum checksum;
    private final int pageSize;
    private final Writeback writeback;
    private long txid;
    private long pagesWritten;
    private long directBytes;

    private DatabaseImage(Path path, FileChannel channel, FileChannel direct, DatabaseChecksum checksum, long txid) {
        this.path = path;
        this.channel = channel;
        this.direct = direct;
        this.pageSize = checksum.pageSize();
        this.checksum = checksum;
        this.txid = txid;
        this.writeback = new Writeback(channel);
    }

    /** Creates (or empties) {@code path} for a database of {@code pageSize} at {@code txid}. */
    public static DatabaseImage create(Path path, int pageSize, long txid) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.READ, StandardOpenOption.TRUNCATE_EXISTING);
        FileChannel direct = DirectIo.open(path, pageSize, StandardOpenOption.WRITE);
        return new DatabaseImage(path, channel, direct, new DatabaseChecksum(pageSize), txid);
    }

    /**
     * Opens an existing database file whose pages have the hashes in {@code pages} (taken over,
     * not copied) at {@code txid}, to bring it forward with {@link #apply}. The file must not be
     * open in SQLite in this process.
     */
    public static DatabaseImage open(Path path, DatabaseChecksum pages, long txid) throws IOException {
        return new DatabaseImage(path, FileChannel.open(path, StandardOpenOption.WRITE, StandardOpenOption.READ),
                null, pages, txid);
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
     * Writes a batch of a snapshot's consecutive pages: directly where this image can (the
     * class's note), hashing them meanwhile; else through the page cache, which the disk starts
     * writing in the background ({@link Writeback}).
     */
    public void writePages(SnapshotPages.Batch batch) throws IOException {
        ByteBuffer pages = batch.pages();
        long position = (long) (batch.firstPgno() - 1) * pageSize;
        Future<?> written = writeDirect(pages, batch.length(), position);
        if (written == null) {
            writeThroughCache(pages, batch.length(), position);
        }
        for (int i = 0; i < batch.count(); i++) {
            checksum.setPage(batch.firstPgno() + i, pages, i * pageSize);
        }
        if (written != null && !directWritten(written, batch.length())) {
            writeThroughCache(pages, batch.length(), position);
        }
    }

    private void writeThroughCache(ByteBuffer pages, int length, long position) throws IOException {
        ChannelIo.writeFully(channel, pages.duplicate().position(0).limit(length), position);
        writeback.written(length);
    }

    /**
     * Starts writing {@code length} bytes of {@code pages} at {@code position} directly, on the
     * disk writer's thread while the caller hashes them; null when this image cannot.
     */
    private Future<?> writeDirect(ByteBuffer pages, int length, long position) {
        if (direct == null || pages.alignmentOffset(0, DirectIo.ALIGNMENT) != 0) {
            return null;
        }
        if (diskWriter == null) {
            diskWriter = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, "walship-restore-direct-writer");
                t.setDaemon(true);
                return t;
            });
        }
        FileChannel to = direct;
        ByteBuffer from = pages.duplicate().position(0).limit(length);
        return diskWriter.submit(() -> {
            ChannelIo.writeFully(to, from, position);
            return null;
        });
    }

    /**
     * Waits for a direct write; true once written. False when it failed (a file system that
     * opens files for direct writes but refuses them): the caller then writes the same pages
     * through the cache, over whatever the failed write left, and a disk that is really failing
     * fails that write or the final force instead.
     */
    private boolean directWritten(Future<?> written, int length) throws IOException {
        try {
            written.get();
            directBytes += length;
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while the disk wrote pages of " + path);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof IOException refused)) {
                throw new IllegalStateException("direct write of " + path + " failed", e.getCause());
            }
            log.info("a direct write failed, restoring through the page cache from here on file={} error={}",
                    path, refused.toString());
            direct.close();
            direct = null;
            return false;
        }
    }

    /** Bytes of snapshot pages written with direct writes (the rest went through the page cache). */
    public long directBytes() {
        return directBytes;
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
        channel.force(true); // also what makes the direct writes durable
        log.debug("database image forced file={} pages={} directBytes={}", path, checksum.pageCount(), directBytes);
    }

    @Override
    public void close() throws IOException {
        writeback.awaitForce();
        try (channel) {
            if (diskWriter != null) {
                diskWriter.shutdown(); // not shutdownNow: an interrupt would close the channel under a write
                awaitDiskWriter();
            }
            if (direct != null) {
                direct.close();
            }
        }
    }

    /** Waits for a direct write still running (a failed restore may leave one) before the channels close. */
    private void awaitDiskWriter() {
        boolean interrupted = false;
        while (true) {
            try {
                if (diskWriter.awaitTermination(1, TimeUnit.MINUTES)) {
                    break;
                }
                log.warn("a direct write of {} is still running after a minute, waiting on", path);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
