package io.walship;

import io.walship.internal.ReadPool;
import io.walship.internal.capture.WalReader;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's WAL over its life: the commits the WAL hook reports (each gets the next txid),
 * their capture on the capture lane, and folding the WAL into the database file once every
 * transaction in it is stored, with the {@link CheckpointRecord} of what the file then holds.
 */
final class LocalWal {
    /*
     * The invariant. The database file alone always holds a stored state, named by the
     * checkpoint record; the WAL holds every commit after it. So a crash costs nothing SQLite
     * kept: the next open (Resume) finds the file's state and the commits after it, ships the
     * ones storage lacks, and never needs to rebuild a file that is merely ahead or behind.
     * Hence: a checkpoint (on the writer connection with the gate held) runs only when every
     * commit in the WAL is captured and stored and no snapshot is reading the WAL; the record is
     * marked DIRTY before it and written clean after it, naming the WAL generation and the number
     * of its frames the file now holds. SQLite's own checkpoint when the last connection closes
     * is switched off by the C extension, so closing the writer never folds unstored commits either.
     *
     * RESTART, not TRUNCATE (ADR 0034). The folded frames stay in the WAL, all in the file
     * already; the next commit writes over them from the start under new salts (SQLite syncs the
     * new header before its frames), or, when a reader still held a read mark at that moment,
     * appends after them in the same generation. The capture reader keeps its place for the
     * second case and starts over for the first; Resume counts only commits after the recorded
     * frames as new, and the writer counts only those toward the next fold (walBase). A RESTART
     * that comes back busy after copying every frame (a reader on the last frame) is a fold too:
     * it leaves exactly that state, after waiting up to READERS_DRAIN_MILLIS for the readers
     * already on the WAL (new ones ignore a WAL copied whole): else readers that keep overlapping
     * keep SQLite from ever starting the WAL over. One busy before copying every frame folded
     * nothing. Reusing the file spares the writer the fresh page-cache pages a truncated WAL
     * grows into: 4-6 µs per insert on the bench VM. The close and the resync after outside
     * interference still TRUNCATE: an empty WAL for whoever opens the file next.
     *
     * When. A writer that finds checkpointFrames frames in the WAL folds it at once when all is
     * stored. Otherwise it asks the flusher to upload now and carries on; the flusher's next
     * store folds it on the maintenance lane if nothing was committed meanwhile. Under a steady
     * stream of commits that moment may never come, so at twice checkpointFrames a writer waits,
     * holding the gate, until what is pending is stored (about one upload), then folds. While
     * storage is failing it does not wait: the WAL grows, and maxPendingBytes' back-pressure on
     * writers bounds it.
     *
     * [1] DESIGN.md "Living through time"; docs/adr/0006-restart-resumes-from-the-local-file.md
     * [2] https://www.sqlite.org/wal.html#checkpointing
     * [3] docs/adr/0034-folds-leave-the-wal-in-place.md
     */
    private static final Logger log = LoggerFactory.getLogger(LocalWal.class);
    /** How often a writer waiting for storage before a fold looks whether storage failed meanwhile. */
    private static final long STORED_POLL_MILLIS = 100;
    /** How long a fold that copied every frame waits for the readers still on the WAL to end. */
    private static final int READERS_DRAIN_MILLIS = 20;

    /**
     * SQLite's checkpoint modes walship folds with. RESTART leaves the folded frames in place for
     * the next commit to overwrite from the start (SQLite reuses the file's pages); TRUNCATE
     * empties the file, whose next 4,000 frames then go into fresh page-cache pages (bench
     * PROFILE section 19): for the close, and for the resync after outside interference.
     */
    private enum Fold { RESTART, TRUNCATE }

    private final String db;
    private final PrimaryOptions options;
    private final ReentrantLock gate;
    private final Connection writer;
    private final FileChannel walChannel;
    private final CheckpointRecord record;
    private final CaptureLoop capture;
    private final AckRegistry acks;
    private final SegmentFlusher flusher;
    private final StorageWriter storageWriter;
    /** Snapshots reading the WAL (SnapshotTaker): no fold while one does. */
    private final AtomicInteger snapshotsReading = new AtomicInteger();
    private final Executor maintenance;
    private final PrimaryMeters meters;
    private final CommitSource commits;

    // written by the committing thread inside the WAL hook, with the gate held
    private volatile long assignedTxid;
    private long walFrames;
    /**
     * The frames walship's last RESTART fold left at the start of the WAL, all in the file
     * already, and their generation. A commit that follows them in that generation reports a
     * frame count that includes them; only the frames after them count toward the next fold.
     */
    private long foldedFrames;
    private WalReader.Generation foldedGeneration;
    /** Of walFrames, those the file already holds: foldedFrames while the WAL still starts with them, else 0. */
    private long walBase;
    /** Frames not yet folded at which a writer folds next: compared with walFrames - walBase. */
    private long nextCheckpointFrames;
    private volatile boolean foldWanted;
    /**
     * Set by walship's checkpoints (and true at open): the next commit may start a new WAL
     * generation, so its salts are read when it returns and the capture checks them (WalReader).
     */
    private boolean walMayStartOver = true;
    private volatile boolean stopped;

    /**
     * @param start      what the file holds: its txid, its pages (owned from now on), its record, and the
     *                   commits already in the WAL (txids {@code fileTxid + 1 ..}, as frame counts)
     * @param storedTxid the newest txid storage holds: recovered commits up to it are not shipped again
     */
    LocalWal(StageContext stages, Connection writer, Resume.Resumed start, long storedTxid, SegmentFlusher flusher,
             CommitSource.Attach attach) throws SQLException, IOException {
        this.db = stages.db();
        this.meters = stages.meters();
        this.options = stages.options();
        this.gate = stages.gate();
        this.writer = writer;
        this.walChannel = stages.walChannel();
        this.record = start.record();
        this.acks = stages.acks();
        this.flusher = flusher;
        this.storageWriter = stages.storageWriter();
        this.maintenance = stages.maintenance();
        WalReader reader = new WalReader(walChannel, stages.pageSize());
        reader.skipFolded(start.walFoldedFrames());
        this.capture = new CaptureLoop(stages, reader, start.filePages(), flusher, this::foldForResync,
                start.fileTxid(), storedTxid);
        long recoveredMillis = options.clock().millis();
        long txid = start.fileTxid();
        for (long frames : start.walCommitFrames()) {
            capture.committed(new CaptureLoop.Commit(++txid, frames, recoveredMillis));
            walFrames = frames;
        }
        this.assignedTxid = txid;
        this.nextCheckpointFrames = options.checkpointFrames();
        this.commits = attach.to(this::committed); // from here on, each commit is reported
        if (start.walFoldedFrames() > 0) {
            commits.folded(start.walFoldedFrames(), false);
            foldedFrames = start.walFoldedFrames();
            foldedGeneration = reader.generation();
            walBase = start.walCommitFrames().isEmpty() ? 0 : foldedFrames; // recovered commits follow them
        }
    }

    void start() {
        capture.start();
    }

    /**
     * A snapshot starts reading the WAL at the current txid (gate held): no fold until
     * {@link #snapshotDone()}, so the frames it reads stay where they are.
     */
    void snapshotReading() {
        snapshotsReading.incrementAndGet();
    }

    /** The snapshot has read what it needed from the WAL: folds may run again. */
    void snapshotDone() {
        snapshotsReading.decrementAndGet();
    }

    /** Stops the capture lane once it has captured what was committed, and closes the record. */
    void stop() {
        stopped = true;
        capture.stop();
        try {
            capture.awaitFinished();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ReadPool.closeQuietly(record);
    }

    /** The txid of the last committed transaction (stored or not). */
    long assignedTxid() {
        return assignedTxid;
    }

    CaptureLoop capture() {
        return capture;
    }

    /** How commits are captured here. */
    CaptureMode captureMode() {
        return commits.mode();
    }

    /**
     * After a write's work, gate held: commits not reported yet are reported (WRITER mode).
     * Returns why capture cannot go on, or null.
     */
    String afterWork() throws IOException {
        return commits.afterWork(record, walFrames, !walMayStartOver);
    }

    /** Closes the writer connection as the capture mode needs (after {@link #stop}). */
    void closeWriter() {
        commits.closeWriter(writer);
    }

    /** A commit (the WAL hook inside SQLite's commit, or afterWork): on the writing thread, gate held. */
    void committed(int frames) {
        long txid = assignedTxid + 1;
        assignedTxid = txid;
        walFrames = frames;
        WalReader.Generation generation = null;
        if (walMayStartOver) {
            walMayStartOver = false;
            try {
                generation = WalReader.generationOf(walChannel);
            } catch (IOException e) {
                log.debug("wal header not read after a checkpoint db={} error={}", db, e.toString());
            }
            // unknown (null) counts the folded frames toward the next fold: it comes early, never late
            walBase = generation != null && generation.equals(foldedGeneration) ? foldedFrames : 0;
        }
        capture.committed(new CaptureLoop.Commit(txid, frames, options.clock().millis(), generation));
    }

    /** After a write, gate held: folds the WAL once it holds checkpointFrames frames, as described above. */
    void afterWrite() throws SQLException {
        if (walFrames - walBase < nextCheckpointFrames) {
            return;
        }
        if (!capturedAndStored()) {
            flusher.requestFlush(assignedTxid);
            foldWanted = true;
            if (walFrames - walBase < 2L * options.checkpointFrames() || !awaitStored()) {
                foldLater();
                return;
            }
        }
        fold(Fold.RESTART);
    }

    /**
     * Folds the WAL now, for {@link Primary#checkpoint()}: takes the gate (writers wait), asks
     * for an upload of what is pending and waits until it is stored, then folds. Gives up
     * (false) while storage is failing.
     */
    boolean checkpoint() throws SQLException {
        gate.lock();
        try {
            if (!commitsReported()) {
                return false;
            }
            if (!capturedAndStored()) {
                flusher.requestFlush(assignedTxid);
                if (!awaitStored()) {
                    return false;
                }
            }
            return fold(Fold.RESTART);
        } finally {
            gate.unlock();
        }
    }

    /** At close, gate held, after the last upload: folds the WAL if all of it is stored. */
    void foldAtClose() throws SQLException {
        if (acks.storedTxid() >= assignedTxid) {
            fold(Fold.TRUNCATE);
        }
    }

    /** The flusher stored up to {@code txid}: a fold that had to wait may run now. */
    void stored(long txid) {
        if (!foldWanted || txid < assignedTxid || stopped) {
            return;
        }
        try {
            maintenance.execute(() -> {
                if (!gate.tryLock()) {
                    return; // a writer has it, and will fold itself when due
                }
                try {
                    if (foldWanted && !stopped) {
                        fold(Fold.RESTART);
                    }
                } catch (SQLException e) {
                    // retried at the next write or store; anything else reaches the maintenance guard
                    meters.error("checkpoint", e);
                    log.warn("wal checkpoint failed db={} txid={} error={}", db, assignedTxid, e.toString());
                } finally {
                    gate.unlock();
                }
            });
        } catch (RejectedExecutionException e) {
            // closing: the close folds what is stored
        }
    }

    /** Gate held. Folds the WAL into the file if everything is captured and stored and no snapshot reads it. */
    private boolean fold(Fold how) throws SQLException {
        if (!commitsReported() || snapshotsReading.get() > 0 || !capturedAndStored()) {
            foldLater();
            return false;
        }
        try {
            record.markDirty();
        } catch (IOException e) {
            // without a DIRTY record the next open could trust a stale one: do not let SQLite write the file
            log.warn("wal checkpoint skipped, the checkpoint record cannot be written db={} error={}", db,
                    e.toString());
            foldLater();
            return false;
        }
        boolean folded = copyIntoFile(how);
        try {
            if (folded && how == Fold.TRUNCATE) {
                walChannel.force(false); // the truncation reaches disk before the record says the WAL is folded
            }
            capture.checkpointed(folded, how == Fold.TRUNCATE, record);
        } catch (IOException e) {
            // the record stays DIRTY: the next open reads the file instead of trusting it
            log.warn("checkpoint record not updated db={} txid={} error={}", db, assignedTxid, e.toString());
        }
        if (folded) {
            walFrames = 0;
            walBase = 0;
            nextCheckpointFrames = options.checkpointFrames();
            foldWanted = false;
        } else {
            foldLater();
        }
        return folded;
    }

    /** A fold could not run now: the next writer tries again after a quarter of checkpointFrames more. */
    private void foldLater() {
        nextCheckpointFrames = walFrames - walBase + Math.max(1, options.checkpointFrames() / 4);
    }

    /** The capture lane, gate held, after outside interference: the WAL must be folded whatever it holds. */
    private boolean foldForResync() throws SQLException {
        try {
            record.markDirty();
        } catch (IOException e) {
            throw new SQLException("cannot mark the checkpoint record before folding the WAL: " + e, e);
        }
        boolean truncated = copyIntoFile(Fold.TRUNCATE);
        if (truncated) {
            walFrames = 0; // the next commit starts the WAL over
            walBase = 0;
        }
        return truncated;
    }

    /**
     * Gate held, before a fold: a commit made outside walship's writes (another process) is found
     * and reported first, so the fold waits until it is stored too; false when the WAL cannot be read.
     */
    private boolean commitsReported() {
        try {
            return commits.findUnreported(walFrames, !walMayStartOver);
        } catch (IOException e) {
            log.warn("wal not read before a checkpoint db={} error={}", db, e.toString());
            return false;
        }
    }

    /** Gate held: every commit is captured (waiting for the capture lane if needed) and stored. */
    private boolean capturedAndStored() {
        long txid = assignedTxid;
        try {
            return capture.awaitCaptured(txid) && acks.storedTxid() >= txid;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Waits until everything committed so far is captured and stored; false at once while
     * storage is failing, and when the capture lane needs the gate (outside interference) or
     * failed, since a caller holding the gate would otherwise wait for it forever.
     */
    private boolean awaitStored() {
        long txid = assignedTxid;
        try {
            if (!capture.awaitCaptured(txid)) {
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        CompletableFuture<Long> stored = acks.futureFor(txid);
        while (true) {
            if (storageWriter.outage() != null) {
                return false;
            }
            try {
                stored.get(STORED_POLL_MILLIS, TimeUnit.MILLISECONDS);
                return true;
            } catch (TimeoutException e) {
                // look at storage again
            } catch (ExecutionException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /** What SQLite's checkpoint reports: busy, the WAL's frames, the frames the file now holds. */
    private record Checkpointed(boolean busy, int frames, int copied) {
        /** Every frame of the WAL is in the file, busy or not. */
        boolean copiedAll() {
            return frames >= 0 && copied == frames;
        }
    }

    private static Checkpointed checkpoint(Statement s, Fold how) throws SQLException {
        try (ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(" + how + ")")) {
            rs.next();
            return new Checkpointed(rs.getInt(1) != 0, rs.getInt(2), rs.getInt(3));
        }
    }

    /**
     * Gate held. True when the whole WAL was copied into the database: then the WAL is empty
     * ({@link Fold#TRUNCATE}) or its frames are all in the file and the next commit may start it
     * over ({@link Fold#RESTART}).
     */
    private boolean copyIntoFile(Fold how) throws SQLException {
        walMayStartOver = true; // whatever the outcome: SQLite may start the WAL over at the next commit
        long started = System.nanoTime();
        writer.setAutoCommit(true);
        try (Statement s = writer.createStatement()) {
            commits.internalStatements(s, true);
            s.execute("PRAGMA busy_timeout=0"); // never make writers wait on a long reader
            try {
                Checkpointed result = checkpoint(s, how);
                if (how == Fold.RESTART && result.busy() && result.copiedAll()) {
                    // every frame copied, readers hold read marks: new readers ignore a WAL copied
                    // whole, so wait briefly for these to end, or SQLite never starts the WAL over
                    // while readers overlap, and it grows without bound
                    s.execute("PRAGMA busy_timeout=" + READERS_DRAIN_MILLIS);
                    Checkpointed again = checkpoint(s, how);
                    // another process's commit in between was copied too, unshipped: not a fold then
                    result = again.frames() == result.frames() ? again : new Checkpointed(true, again.frames(), -1);
                }
                // busy with every frame copied: a reader still holds a read mark, so SQLite cannot
                // start the WAL over yet, but the file holds all of it, as after RESTART that was not
                // busy (the next commit then follows the folded frames). TRUNCATE is only done emptied.
                boolean folded = !result.busy() || how == Fold.RESTART && result.copiedAll();
                (folded ? meters.checkpointFolded : meters.checkpointBusy).recordSince(started);
                log.debug("wal checkpoint db={} mode={} busy={} frames={} copied={} ms={}", db, how, result.busy(),
                        result.frames(), result.copied(), (System.nanoTime() - started) / 1_000_000);
                if (!folded) {
                    commits.checkpointBusy();
                    return false;
                }
                boolean emptied = how == Fold.TRUNCATE;
                WalReader.Generation generation = emptied ? null : WalReader.generationOf(walChannel);
                commits.folded(result.frames(), emptied);
                foldedFrames = emptied ? 0 : result.frames();
                foldedGeneration = generation;
                return true;
            } catch (IOException e) {
                // as if busy: the record stays DIRTY and the capture keeps its place; the next fold tries again
                log.warn("wal checkpointed, but its header not read after it db={} error={}", db, e.toString());
                return false;
            } finally {
                s.execute("PRAGMA busy_timeout=" + StageContext.BUSY_TIMEOUT_MILLIS);
                commits.internalStatements(s, false);
            }
        }
    }
}
