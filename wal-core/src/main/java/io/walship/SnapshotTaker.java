package io.walship;

import io.walship.internal.FileDurability;
import io.walship.internal.log.DatabaseChecksum;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.SnapshotReader;
import io.walship.internal.log.SnapshotWriter;
import io.walship.storage.Storage;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes the primary's snapshots, when asked ({@link Primary#snapshot()}) or when the log stored
 * since the last one calls for it: streams the database at one txid into a snapshot file
 * without stopping writers and stores it create-only.
 */
final class SnapshotTaker {
    /*
     * A page's image at txid T is its latest frame in the WAL up to T if there is one (the
     * overlay captured under the gate), else the page in the database file. While the snapshot
     * is read, walship does not checkpoint (LocalWal looks at snapshotsInProgress): the database
     * file does not change and WAL frames are only appended, never overwritten, so writers go on
     * committing and the snapshot still sees exactly T. The database checksum of what was read
     * is compared with the captured one: a mismatch means the file changed underneath (another
     * process), and the snapshot is discarded rather than stored. The flusher is told never to
     * pack T and T + 1 into one segment, so every snapshot sits on a segment boundary, and the
     * snapshot is stored only after the log up to T: storage never holds a snapshot it cannot
     * continue from.
     *
     * Cadence. A snapshot bounds what a restore or a new replica replays, and costs a copy of
     * the database; so one is scheduled after a segment is stored, when the log stored since
     * the last snapshot passes snapshotAfterLogBytes, or snapshotLogFraction of the database's
     * size (at least SNAPSHOT_MIN_LOG_BYTES), or when snapshotInterval has passed since the last
     * one. Only a stored segment triggers it, so an idle database is never snapshotted again.
     *
     * [1] docs/adr/0001-capture-thread-and-overlay-snapshots.md
     */
    private static final Logger log = LoggerFactory.getLogger(SnapshotTaker.class);
    /** How often a snapshot under way looks whether the primary is closing. */
    private static final int STOP_CHECK_PAGES = 1024;

    private final String db;
    private final Path path;
    private final Storage storage;
    private final PrimaryOptions options;
    private final ReentrantLock gate;
    private final LocalWal wal;
    private final SegmentFlusher flusher;
    private final AckRegistry acks;
    private final StorageWriter storageWriter;
    private final FileChannel databaseChannel;
    private final FileChannel walChannel;
    private final int pageSize;
    private final Executor maintenance;
    private final Lifecycle lifecycle;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private volatile long lastSnapshotTxid;
    private volatile long lastSnapshotMillis;
    private volatile long logBytesSinceSnapshot;
    private final PrimaryMeters meters;
    /** Why the last scheduled snapshot failed, until one is stored; null otherwise. */
    private volatile Problem failure;

    SnapshotTaker(StageContext stages, LocalWal wal, SegmentFlusher flusher, long lastSnapshotTxid,
                  long lastSnapshotMillis) {
        this.lastSnapshotMillis = lastSnapshotMillis;
        this.meters = stages.meters();
        this.db = stages.db();
        this.path = stages.path();
        this.storage = stages.storage();
        this.options = stages.options();
        this.gate = stages.gate();
        this.wal = wal;
        this.flusher = flusher;
        this.acks = stages.acks();
        this.storageWriter = stages.storageWriter();
        this.databaseChannel = stages.databaseChannel();
        this.walChannel = stages.walChannel();
        this.pageSize = stages.pageSize();
        this.maintenance = stages.maintenance();
        this.lifecycle = stages.lifecycle();
        this.lastSnapshotTxid = lastSnapshotTxid;
    }

    /** Takes and stores a snapshot of the current state; returns its txid. One at a time. */
    synchronized long take() {
        try {
            return store(source());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NotStoredException(wal.assignedTxid(), "interrupted while taking a snapshot", e);
        } catch (IOException e) {
            throw new UncheckedIOException("snapshot of " + db + " failed: " + e, e);
        }
    }

    /** The newest snapshot's txid (-1: none known). */
    long lastSnapshotTxid() {
        return lastSnapshotTxid;
    }

    /** Why the last scheduled snapshot failed on local I/O, until a snapshot is stored again; else null. */
    Problem failure() {
        return failure;
    }

    /** A segment of {@code bytes} was stored: takes a snapshot in the background once enough log piled up. */
    void segmentStored(long bytes, boolean closed) {
        logBytesSinceSnapshot += bytes;
        if (closed || !due() || !scheduled.compareAndSet(false, true)) {
            return;
        }
        try {
            maintenance.execute(() -> {
                try {
                    take();
                } catch (FencedException | NotStoredException e) {
                    log.debug("scheduled snapshot not taken db={} reason={}", db, e.toString());
                } catch (IllegalStateException e) {
                    if (!lifecycle.closing()) {
                        throw e; // not the primary closing: a bug, which the maintenance lane reports
                    }
                } catch (UncheckedIOException e) {
                    // the log still ships; the next threshold tries again
                    failure = Problem.of(e, options.clock().instant());
                    meters.error("snapshot", e);
                    log.error("scheduled snapshot failed, primary goes on db={} txid={} error={}", db,
                            wal.assignedTxid(), e.toString());
                } finally {
                    scheduled.set(false);
                }
            });
        } catch (RejectedExecutionException e) {
            scheduled.set(false); // closing
        }
    }

    /** Whether the log stored since the last snapshot calls for a new one (see Cadence above). */
    private boolean due() {
        long log = logBytesSinceSnapshot;
        if (options.snapshotAfterLogBytes() == 0 || log == 0) {
            return false;
        }
        if (log >= options.snapshotAfterLogBytes()) {
            return true;
        }
        if (options.snapshotLogFraction() > 0 && log >= PrimaryOptions.SNAPSHOT_MIN_LOG_BYTES
                && log >= options.snapshotLogFraction() * wal.capture().databasePages() * (double) pageSize) {
            return true;
        }
        return options.clock().millis() - lastSnapshotMillis >= options.snapshotInterval().toMillis();
    }

    /** Under the gate, once everything is captured: the overlay at the current txid; writers then go on. */
    private CaptureLoop.SnapshotSource source() throws InterruptedException, IOException {
        CaptureLoop capture = wal.capture();
        while (true) {
            gate.lockInterruptibly();
            try {
                lifecycle.checkUsable();
                if (capture.awaitCaptured(wal.assignedTxid())) {
                    CaptureLoop.SnapshotSource source = capture.snapshotSource();
                    if (source.txid() != lastSnapshotTxid) {
                        flusher.cutAfter(source.txid());
                        wal.snapshotReading();
                    }
                    return source;
                }
            } finally {
                gate.unlock();
            }
            // the capture lane needs the gate (WAL interference); let it finish, then try again
            capture.awaitCaptured(wal.assignedTxid());
        }
    }

    private long store(CaptureLoop.SnapshotSource source) throws InterruptedException, IOException {
        if (source.txid() == lastSnapshotTxid) {
            return source.txid();
        }
        long started = System.nanoTime();
        Path temp = FileDurability.sibling(path, "-walship-snapshot-" + source.txid());
        try {
            try {
                write(temp, source, options.clock().millis());
            } finally {
                wal.snapshotDone();
            }
            try {
                acks.futureFor(source.txid()).get();
            } catch (ExecutionException e) {
                throw new NotStoredException(source.txid(), "the log up to the snapshot was not stored", e.getCause());
            }
            String key = ObjectKey.snapshot(source.txid());
            boolean ours = storageWriter.store(key, Files.size(temp), () -> storage.putIfAbsent(key, temp),
                    () -> sameSnapshot(key, source));
            if (!ours) {
                FencedException fenced = new FencedException(key, source.txid());
                lifecycle.fail(fenced);
                throw fenced;
            }
            lastSnapshotTxid = source.txid();
            lastSnapshotMillis = options.clock().millis();
            failure = null;
            logBytesSinceSnapshot = 0;
            log.info("snapshot stored db={} key={} txid={} pages={} bytes={} ms={}", db, key, source.txid(),
                    source.pageCount(), Files.size(temp), (System.nanoTime() - started) / 1_000_000);
            return source.txid();
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** A snapshot at the same txid with the same checksum describes the same database. */
    private boolean sameSnapshot(String key, CaptureLoop.SnapshotSource source) {
        Optional<InputStream> existing = storage.open(key);
        if (existing.isEmpty()) {
            return false;
        }
        try (InputStream in = existing.get()) {
            SnapshotReader reader = SnapshotReader.open(key, in);
            return reader.txid() == source.txid() && reader.databaseChecksum() == source.checksum()
                    && reader.pageCount() == source.pageCount();
        } catch (IOException | WalshipException e) {
            return false;
        }
    }

    /** Streams the database at {@code source.txid()} into {@code target}, checked against the captured checksum. */
    private void write(Path target, CaptureLoop.SnapshotSource source, long createdMillis) throws IOException {
        DatabaseChecksum checksum = new DatabaseChecksum(pageSize);
        ByteBuffer page = ByteBuffer.allocate(pageSize);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(target), 1 << 16)) {
            SnapshotWriter writer = new SnapshotWriter(out, pageSize, source.pageCount(), source.txid(),
                    source.checksum(), createdMillis);
            for (int pgno = 1; pgno <= source.pageCount(); pgno++) {
                if (pgno % STOP_CHECK_PAGES == 0 && lifecycle.closing()) {
                    throw new NotStoredException(source.txid(), "the primary closed while the snapshot was taken",
                            null);
                }
                long walOffset = source.walOffsets().get(pgno);
                page.clear();
                if (walOffset != 0) {
                    readFully(walChannel, page, walOffset);
                } else {
                    readFully(databaseChannel, page, (long) (pgno - 1) * pageSize);
                }
                checksum.setPage(pgno, page, 0);
                writer.writePage(page, 0);
            }
            writer.finish();
        }
        checksum.resize(source.pageCount());
        if (checksum.value() != source.checksum()) {
            throw new IOException("snapshot at txid " + source.txid() + " read checksum "
                    + Long.toHexString(checksum.value()) + " but captured " + Long.toHexString(source.checksum())
                    + ": the database changed while it was read");
        }
        try (FileChannel channel = FileChannel.open(target, java.nio.file.StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    /** Reads a page; bytes past the end of the file read as zeros, as SQLite does. */
    private static void readFully(FileChannel channel, ByteBuffer page, long position) throws IOException {
        while (page.hasRemaining()) {
            int n = channel.read(page, position + page.position());
            if (n < 0) {
                while (page.hasRemaining()) {
                    page.put((byte) 0);
                }
            }
        }
    }
}
