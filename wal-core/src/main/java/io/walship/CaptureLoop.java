package io.walship;

import io.walship.internal.capture.WalInterferenceException;
import io.walship.internal.capture.WalReader;
import io.walship.internal.capture.WalTransaction;
import io.walship.internal.log.DatabaseChecksum;
import io.walship.internal.metrics.Metrics;
import io.walship.internal.work.Lane;
import io.walship.internal.work.Workers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The capture lane: turns each commit reported by the WAL hook into a transaction of the
 * {@link SegmentFlusher}'s open segment, page by page.
 */
final class CaptureLoop {
    /*
     * Off the commit path. The hook runs inside SQLite's commit on the writer's thread and only
     * queues (txid, frame count, time). Committed frames stay in the WAL until walship itself
     * checkpoints, and it checkpoints only after this loop has read every frame (the gate is
     * held and awaitCaptured() returned), so the loop can read at its own pace without racing
     * a checkpoint.
     *
     * Per commit it reads the new frames (one pread, which also takes the frames of the commits
     * queued behind it while they fit in the reader's chunk), checks salts and the checksum
     * chain, keeps the last image of each page, updates the incremental database checksum and
     * remembers where each page's latest image lives in the WAL (the "overlay" a snapshot reads
     * through) and which pages changed since the checkpoint record was last written (LocalWal
     * writes their hashes at the next checkpoint).
     *
     * After a crash, open hands the loop the commits it found in the WAL before any new one:
     * those up to shippedTxid are in storage already and only enter the checksum, the overlay
     * and the changed pages; the rest are shipped like any other commit.
     *
     * Batches. Capturing each commit as it comes costs two thread hand-offs per commit (the
     * writer wakes the lane, the lane's thread parks again), which on a 2-core VM came to about
     * a fifth of the capture lane's CPU (bench/PROFILE.md section 23). When nobody is owed a
     * commit sooner (ASYNC: the next upload is up to a flush interval away, and nobody
     * subscribes to the live stream), the hook asks for a turn BATCH_NANOS later instead, and
     * the turn captures every commit queued by then; BATCH_COMMITS queued start it at once.
     * DURABLE commits and live subscribers are captured at once as before. Whoever waits for
     * capture (a fold, a snapshot, flush(), close) hurries the lane, so nothing waits out a
     * batch.
     *
     * Interference. If the WAL is not what our commits left (another process wrote or
     * checkpointed, the WAL was reset), nothing is skipped: the loop takes the gate, makes
     * SQLite fold the WAL into the database (TRUNCATE checkpoint), compares every page of the
     * file with the page hashes it holds and ships the differing pages as the transaction of
     * the commit that revealed the problem. Commits queued behind it become empty transactions:
     * their changes are inside the diff. The chain of segments stays unbroken, so followers
     * carry on, and the database checksum proves the result.
     */
    private static final Logger log = LoggerFactory.getLogger(CaptureLoop.class);
    private static final Commit STOP = new Commit(-1, -1, -1);
    private static final long RESYNC_RETRY_MILLIS = 10;
    /** How long a commit may wait for capture, when it may wait at all (see Batches above). */
    static final long BATCH_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Queued commits at which capture starts at once, whatever the wait. */
    static final int BATCH_COMMITS = 64;

    /** A commit to capture; {@code generation}: its WAL's salts when it returned, null when not read. */
    record Commit(long txid, long frames, long commitMillis, WalReader.Generation generation) {
        Commit(long txid, long frames, long commitMillis) {
            this(txid, frames, commitMillis, null);
        }
    }

    /** Runs a TRUNCATE checkpoint on the writer connection; true when the WAL is empty afterwards. */
    interface Checkpoint {
        boolean truncate() throws SQLException;
    }

    private final String db;
    private final WalReader reader;
    private final FileChannel database;
    private final DatabaseChecksum checksum;
    private final SegmentFlusher flusher;
    private final ReentrantLock gate;
    private final Checkpoint checkpoint;
    private final Lifecycle lifecycle;
    private final long resyncTimeoutMillis;
    private final Metrics.Timer captureTime;
    private final BlockingQueue<Commit> queue = new LinkedBlockingQueue<>();
    private final WalOverlay overlay = new WalOverlay();
    private final BitSet changedSinceRecord = new BitSet();
    private final long shippedTxid;
    private long capturedTxid;
    /** The database's size in pages as of the last captured commit; read without the monitor. */
    private volatile int databasePages;
    private boolean stalled;
    private boolean failed;
    /** Set once STOP was taken or the loop failed: nothing more is captured. */
    private volatile boolean finished;
    private volatile boolean started;
    private final Lane lane;
    private long resyncs;

    /**
     * @param checksum     the database file's pages at {@code capturedTxid}; owned by the loop from now on
     * @param capturedTxid the txid the database file (without its WAL) holds
     * @param shippedTxid  commits up to this txid are in storage already
     */
    CaptureLoop(StageContext stages, WalReader reader, DatabaseChecksum checksum, SegmentFlusher flusher,
                Checkpoint checkpoint, long capturedTxid, long shippedTxid) {
        this.db = stages.db();
        this.lane = stages.workers().lane(Workers.Pool.CAPTURE, "capture-" + db, this::step);
        this.captureTime = stages.meters().capture;
        this.reader = reader;
        this.database = stages.databaseChannel();
        this.checksum = checksum;
        this.flusher = flusher;
        this.gate = stages.gate();
        this.checkpoint = checkpoint;
        this.lifecycle = stages.lifecycle();
        this.capturedTxid = capturedTxid;
        this.databasePages = checksum.pageCount();
        this.shippedTxid = shippedTxid;
        this.resyncTimeoutMillis = stages.options().closeTimeout().toMillis();
    }

    /** Called by the WAL hook, inside the commit: must be quick. */
    void committed(Commit commit) {
        queue.add(commit);
        if (!started) {
            return;
        }
        if (flusher.captureMayWait() && queue.size() < BATCH_COMMITS) {
            lane.signalAfter(BATCH_NANOS);
        } else {
            lane.signal();
        }
    }

    /** Captures what is queued now, not at the end of a batch's wait: someone waits for it. */
    void hurry() {
        if (started) {
            lane.signal();
        }
    }

    /** Captures from now on: what was queued before (the WAL's commits found at open) first. */
    void start() {
        started = true;
        lane.signal();
    }

    void stop() {
        queue.add(STOP);
        lane.signal();
    }

    /**
     * Waits until every commit up to {@code txid} is captured. Returns false instead when the
     * loop needs the gate (interference) or failed: the caller must release the gate.
     */
    synchronized boolean awaitCaptured(long txid) throws InterruptedException {
        if (capturedTxid < txid) {
            hurry();
        }
        while (capturedTxid < txid && !stalled && !failed) {
            wait();
        }
        return capturedTxid >= txid;
    }

    /** The database's size in pages at the last captured commit, without waiting for capture. */
    int databasePages() {
        return databasePages;
    }

    synchronized long resyncs() {
        return resyncs;
    }

    /** A consistent view for a snapshot; call with the gate held after {@link #awaitCaptured}. */
    synchronized SnapshotSource snapshotSource() {
        return new SnapshotSource(capturedTxid, checksum.pageCount(), checksum.value(), overlay.copy());
    }

    /**
     * After walship's own checkpoint (gate held, everything captured and stored). When the WAL
     * was folded whole ({@code folded}; {@code emptied}: and truncated), the record learns what
     * the file holds now: the state, and the frames of the WAL's generation it holds.
     */
    synchronized void checkpointed(boolean folded, boolean emptied, CheckpointRecord record) throws IOException {
        WalReader.Generation generation = reader.generation();
        long frames = reader.framesRead();
        reader.checkpointed(folded && emptied);
        if (folded) {
            overlay.clear();
            record.checkpointed(capturedTxid, checksum, changedSinceRecord, generation, frames);
            changedSinceRecord.clear();
        }
    }

    /**
     * One turn of the capture lane: captures every commit queued now, then returns (the next
     * {@link #committed} signals the lane again).
     */
    void step() {
        try {
            List<Commit> batch = new ArrayList<>();
            while (!finished && queue.drainTo(batch) > 0) {
                for (int i = 0; i < batch.size() && !finished; i++) {
                    Commit commit = batch.get(i);
                    if (commit == STOP) {
                        finish();
                        return;
                    }
                    long started = System.nanoTime();
                    try {
                        capture(commit, readAhead(batch, i));
                        captureTime.recordSince(started);
                    } catch (WalInterferenceException e) {
                        resync(commit, batch.subList(i + 1, batch.size()), e.getMessage());
                        break;
                    }
                }
                batch.clear();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            finish();
        } catch (Throwable t) {
            synchronized (this) {
                failed = true;
            }
            finish();
            lifecycle.stoppedBy("capture", t);
        }
    }

    private synchronized void finish() {
        finished = true;
        notifyAll();
    }

    /** Waits until the loop has taken {@link #stop()} or failed. */
    synchronized void awaitFinished() throws InterruptedException {
        while (!finished) {
            wait();
        }
    }

    /**
     * The WAL's frame count at the last commit queued behind {@code batch[i]} in the same run of
     * growing frame counts: what one read may take for all of them. A count that does not grow,
     * a commit that saw a new generation, or the end ends the run.
     */
    private static long readAhead(List<Commit> batch, int i) {
        long frames = batch.get(i).frames();
        for (int j = i + 1; j < batch.size(); j++) {
            Commit next = batch.get(j);
            if (next == STOP || next.generation() != null || next.frames() <= frames) {
                break;
            }
            frames = next.frames();
        }
        return frames;
    }

    private void capture(Commit commit, long readAhead) throws IOException {
        // checked whole before anything changes
        WalTransaction wal = reader.readTransaction(commit.frames(), commit.generation(), readAhead);
        synchronized (this) {
            if (wal.newGeneration()) {
                overlay.clear();
            }
            checksum.resize(wal.databasePages());
            overlay.truncate(wal.databasePages());
            databasePages = wal.databasePages();
        }
        if (commit.txid() > shippedTxid) {
            flusher.append(commit.txid(), commit.commitMillis(), wal.databasePages(), wal.pageCount(),
                    sink -> capturePages(wal, sink));
        } else {
            capturePages(wal, null); // recovered at open, stored already: the checksum and the overlay only
        }
        synchronized (this) {
            capturedTxid = commit.txid();
            notifyAll();
        }
    }

    /**
     * One pass over the commit's pages: each enters the database checksum, the overlay, the
     * pages changed since the record, and the segment ({@code sink}, unless null). Returns the
     * database checksum after the commit.
     */
    private synchronized long capturePages(WalTransaction wal, SegmentFlusher.PageSink sink) throws IOException {
        wal.forEachPage((pgno, walOffset, buffer, offset) -> {
            checksum.setPage(pgno, buffer, offset);
            overlay.put(pgno, walOffset);
            changedSinceRecord.set(pgno);
            if (sink != null) {
                sink.page(pgno, buffer, offset);
            }
        });
        return checksum.value();
    }

    /** {@code behind}: commits taken from the queue after {@code first}, not captured. */
    private void resync(Commit first, List<Commit> behind, String reason)
            throws IOException, InterruptedException, SQLException {
        if (first.txid() <= shippedTxid) {
            // a difference shipped as a txid storage already holds would fork the history: stop instead
            throw new IOException("the WAL changed while the transactions recovered from it at open were being"
                    + " captured (txid " + first.txid() + "): " + reason);
        }
        log.warn("wal changed outside walship, shipping the difference db={} txid={} reason={}", db, first.txid(),
                reason);
        synchronized (this) {
            stalled = true;
            notifyAll();
        }
        gate.lockInterruptibly();
        try {
            List<Commit> commits = new ArrayList<>();
            commits.add(first);
            commits.addAll(behind);
            queue.drainTo(commits);
            boolean stop = commits.remove(STOP);
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(resyncTimeoutMillis);
            while (!checkpoint.truncate()) {
                if (System.nanoTime() - deadline > 0) { // a real wait: the JVM's monotonic clock, not options.clock()
                    throw new IOException("cannot fold the WAL into the database for " + resyncTimeoutMillis
                            + " ms: readers keep it busy");
                }
                TimeUnit.MILLISECONDS.sleep(RESYNC_RETRY_MILLIS);
            }
            synchronized (this) {
                reader.checkpointed(true);
                overlay.clear();
                resyncs++;
            }
            int pageCount = Math.toIntExact(database.size() / checksum.pageSize());
            BitSet changed = changedPages(pageCount);
            flusher.append(first.txid(), first.commitMillis(), pageCount, changed.cardinality(),
                    sink -> shipDifference(pageCount, changed, sink));
            for (Commit later : commits.subList(1, commits.size())) {
                // their changes are inside the difference: empty transactions keep the txids in step
                flusher.append(later.txid(), later.commitMillis(), pageCount, 0, sink -> checksum.value());
            }
            synchronized (this) {
                capturedTxid = commits.get(commits.size() - 1).txid();
                stalled = false;
                notifyAll();
            }
            log.info("wal resync done db={} txid={} pages={}", db, first.txid(), changed.cardinality());
            if (stop) {
                queue.add(STOP);
            }
        } finally {
            gate.unlock();
        }
    }

    /**
     * The pages of the database file (the WAL is empty now) that differ from what was captured.
     * Reads the file once; the difference is shipped by a second read, so no page is kept.
     */
    private synchronized BitSet changedPages(int pageCount) throws IOException {
        BitSet changed = new BitSet();
        int known = checksum.pageCount();
        readPages(pageCount, (pgno, page) -> {
            if (pgno > known || DatabaseChecksum.pageHash(pgno, page, 0, checksum.pageSize()) != checksum.pageHash(pgno)) {
                changed.set(pgno);
            }
        });
        return changed;
    }

    /** Writes the {@code changed} pages of the file into the segment and into the checksum. */
    private synchronized long shipDifference(int pageCount, BitSet changed, SegmentFlusher.PageSink sink)
            throws IOException {
        checksum.resize(pageCount);
        readPages(pageCount, (pgno, page) -> {
            if (changed.get(pgno)) {
                checksum.setPage(pgno, page, 0);
                changedSinceRecord.set(pgno);
                sink.page(pgno, ByteBuffer.wrap(page), 0);
            }
        });
        return checksum.value();
    }

    private interface FilePage {
        void page(int pgno, byte[] page) throws IOException;
    }

    private void readPages(int pageCount, FilePage visitor) throws IOException {
        int pageSize = checksum.pageSize();
        ByteBuffer page = ByteBuffer.allocate(pageSize);
        for (int pgno = 1; pgno <= pageCount; pgno++) {
            page.clear();
            long position = (long) (pgno - 1) * pageSize;
            while (page.hasRemaining()) {
                if (database.read(page, position + page.position()) < 0) {
                    throw new IOException("database file ended while reading page " + pgno);
                }
            }
            visitor.page(pgno, page.array());
        }
    }

    /** What a snapshot at {@code txid} reads: page count, checksum, and which pages to take from the WAL. */
    record SnapshotSource(long txid, int pageCount, long checksum, WalOverlay walOffsets) {
    }
}
