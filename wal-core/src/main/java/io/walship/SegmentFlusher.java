package io.walship;

import io.walship.internal.log.Compression;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.SealedSegment;
import io.walship.internal.log.SegmentSpill;
import io.walship.internal.log.SegmentWriter;
import io.walship.internal.work.Lane;
import io.walship.internal.work.Workers;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Packs captured transactions into segments and stores them, in txid order, in its own lane of
 * the runtime's IO pool.
 */
final class SegmentFlusher {
    /*
     * Group commit. In DURABLE mode the flusher uploads whatever is pending the moment the
     * previous upload returns, so under load one PUT acknowledges every transaction that
     * committed during the previous PUT: throughput grows with concurrency, latency is about
     * two storage writes at worst. In ASYNC mode it waits for flushInterval or flushBytes.
     *
     * Gathering after an ack (ADR 0029). Writers that wait for their ack split into two cohorts
     * on slow storage: those acked by an upload commit again a moment after it returned, just
     * after the next upload left with the other cohort's transactions, so each of them waits for
     * that whole upload and then its own (two round trips). After an upload that took at least
     * GATHER_MIN_UPLOAD and released several writers waiting on their acks (AckRegistry counts
     * the futures somebody waited on), the flusher therefore holds the next segment open for a
     * fifth of that upload's time (at most options.groupCommitDelay()), or until as many more
     * transactions as it released writers were appended, whichever comes first: those writers
     * join the next upload, and an ack costs about one round trip. Writes nobody waits on (ASYNC
     * use of a DURABLE primary, a stream of writes at a fixed rate), a lone writer, fast storage
     * (a local disk's upload is a few fsyncs), close, an explicit flush and a full pending budget
     * never wait. Released writers that do not come back pay the pause: at most a fifth of a
     * round trip.
     *
     * Segments never cross a "cut": a txid where a snapshot is being taken, so that every
     * snapshot sits on a segment boundary and a follower at the snapshot's txid finds the next
     * segment under log/<txid+1>.
     *
     * Storage writes are create-only (StorageWriter). ALREADY_EXISTS is ours only when the
     * stored bytes equal the segment (an earlier attempt that timed out but landed); any other
     * content means another primary wrote there: fenced, and the flusher stops.
     *
     * Clocks: commit times come from options.clock() (through the capture); the flush interval
     * is a real-time bound on how long a transaction waits in memory, an alarm of the lane, so it
     * runs on System.nanoTime(). A simulated clock changes what is stored, never how long the
     * flusher waits. No alarm is set while nothing waits: an idle database costs no timer.
     */
    private static final Logger log = LoggerFactory.getLogger(SegmentFlusher.class);
    /** Uploads quicker than this (a local disk) are never followed by a gathering pause. */
    static final long GATHER_MIN_UPLOAD_NANOS = TimeUnit.MILLISECONDS.toNanos(4);

    /** Told of each stored segment, in the flusher's lane: the peers that act on it (folds, snapshots, compaction). */
    interface Stored {
        void stored(long lastTxid, long segmentBytes);
    }

    /** Receives the pages of a transaction being appended, in order. */
    interface PageSink {
        void page(int pgno, ByteBuffer buffer, int offset) throws IOException;
    }

    /** Writes a transaction's pages into the sink and returns the database checksum after it. */
    interface TransactionPages {
        long writeTo(PageSink sink) throws IOException;
    }

    private final StorageWriter writer;
    private final PrimaryOptions options;
    private final String db;
    private final int pageSize;
    private final AckRegistry acks;
    private final TransactionWindow window;
    /** Set by start(), before the lane first runs. */
    private volatile Stored stored;
    /** The last txid of the newest segment whose peers were told it is stored; under the monitor. */
    private long toldTxid;
    private final Lifecycle lifecycle;
    /** Segments ready to upload, in txid order. */
    private final ArrayDeque<SealedSegment> sealed = new ArrayDeque<>();
    /** The segment transactions are being added to; null when nothing is pending beyond `sealed`. */
    private SegmentWriter open;
    private final SegmentSpill spill;
    private long openSinceNanos;
    private long checksumAtEnd;
    /** Written under the monitor; read without it on the writers' path. */
    private volatile long pendingBytes;
    /** Upload now, in ASYNC mode too, the open segment once it holds this txid (0: nothing asked). */
    private long flushThrough;
    private boolean closing;
    private boolean stopped;
    private boolean abandoned;
    private volatile boolean finished;
    private final Lane lane;
    /** The segment being uploaded and its attempts; lane only. */
    private SealedSegment uploading;
    private StorageWriter.Attempts attempts;
    private long uploadStartedNanos;
    /** No DURABLE segment is sealed before this System.nanoTime(), see the note; under the monitor. */
    private long gatherUntilNanos;
    /** The pause ends early once the open segment holds this many transactions; 0: no pause. */
    private long gatherTransactions;

    /** @param spill the memory budget of segments being built or waiting, and where they go beyond it */
    SegmentFlusher(StageContext stages, long checksumAtStored, TransactionWindow window, SegmentSpill spill) {
        this.lane = stages.workers().lane(Workers.Pool.IO, "flusher-" + stages.db(), this::step);
        this.writer = stages.storageWriter();
        this.spill = spill;
        this.options = stages.options();
        this.db = stages.db();
        this.pageSize = stages.pageSize();
        this.checksumAtEnd = checksumAtStored;
        this.acks = stages.acks();
        this.window = window;
        this.lifecycle = stages.lifecycle();
    }

    /**
     * Appends one transaction, compressing its pages as {@code pages} hands them over: nothing but
     * compressed bytes is kept until the upload, in memory while the spill budget allows, else in
     * a file. A transaction of {@code maxSegmentBytes} or more gets a segment of its own, built
     * outside the lock so earlier segments go on uploading meanwhile. Capture thread only.
     */
    void append(long txid, long commitMillis, int databasePages, int pageCount, TransactionPages pages)
            throws IOException {
        long rawBytes = SegmentWriter.encodedBytes(pageCount, pageSize);
        if (rawBytes >= options.maxSegmentBytes()) {
            appendAlone(txid, commitMillis, databasePages, pageCount, pages, rawBytes);
            return;
        }
        synchronized (this) {
            if (open == null) {
                open = new SegmentWriter(pageSize, checksumAtEnd, spill, Compression.FAST);
                openSinceNanos = System.nanoTime();
            }
            long checksumAfter = write(open, checksumAtEnd, txid, commitMillis, databasePages, pageCount, pages);
            appended(rawBytes, checksumAfter);
            if (open.rawBodyBytes() >= options.maxSegmentBytes()) {
                seal();
            }
            wakeIfDue();
        }
    }

    private void appendAlone(long txid, long commitMillis, int databasePages, int pageCount, TransactionPages pages,
                             long rawBytes) throws IOException {
        long checksumBefore;
        synchronized (this) {
            if (open != null) {
                seal(); // the segments before it go first
            }
            checksumBefore = checksumAtEnd;
        }
        SegmentWriter alone = new SegmentWriter(pageSize, checksumBefore, spill, Compression.FAST);
        SealedSegment segment;
        long checksumAfter;
        try {
            checksumAfter = write(alone, checksumBefore, txid, commitMillis, databasePages, pageCount, pages);
            segment = alone.seal();
        } catch (IOException | RuntimeException e) {
            alone.discard();
            throw e;
        }
        synchronized (this) {
            sealed.add(segment);
            appended(rawBytes, checksumAfter);
            wakeIfDue();
        }
    }

    /** Writes one transaction into {@code segment}, and into the subscribers' window while anyone subscribes. */
    private long write(SegmentWriter segment, long checksumBefore, long txid, long commitMillis, int databasePages,
                       int pageCount, TransactionPages pages) throws IOException {
        segment.begin(txid, commitMillis, databasePages, pageCount);
        TransactionWindow.Recording recording = window.begin(txid, commitMillis, databasePages, pageCount,
                checksumBefore);
        long checksumAfter = recording == null ? pages.writeTo(segment::page)
                : pages.writeTo((pgno, buffer, offset) -> {
                    segment.page(pgno, buffer, offset);
                    recording.page(pgno, buffer, offset);
                });
        segment.end(checksumAfter);
        if (recording != null) {
            recording.end(checksumAfter);
        }
        return checksumAfter;
    }

    private void appended(long rawBytes, long checksumAfter) {
        checksumAtEnd = checksumAfter;
        pendingBytes += rawBytes;
    }

    /**
     * Wakes the flusher only when it has something to do now, or must start timing a new open
     * segment. In ASYNC mode most appends change nothing the flusher waits for, and waking it for
     * each one cost two futex calls and a context switch per transaction. Writers waiting for
     * capacity wait for pendingBytes to fall, which an append never does.
     */
    private void wakeIfDue() {
        if (!sealed.isEmpty() || open == null || open.transactionCount() == 1 || dueNow()) {
            lane.signal();
        }
    }

    private void seal() throws IOException {
        sealed.add(open.seal()); // compresses the last block and gives the scratch buffers back
        open = null;
    }

    /** No segment will hold both {@code txid} and {@code txid + 1}; call once {@code txid} was appended. */
    synchronized void cutAfter(long txid) throws IOException {
        if (open != null && open.lastTxid() == txid) {
            seal();
            lane.signal();
        }
    }

    /**
     * Uploads everything up to {@code txid} now, also in ASYNC mode: the open segment is sealed
     * as soon as it holds {@code txid}, however far the capture lane still is behind.
     */
    synchronized void requestFlush(long txid) {
        flushThrough = Math.max(flushThrough, txid);
        lane.signal();
    }

    /**
     * Whether a commit may wait a moment for capture: in ASYNC mode while nobody subscribes to
     * the live stream, nothing is owed a commit before the next upload (CaptureLoop's batches).
     */
    boolean captureMayWait() {
        return options.durability() == Durability.ASYNC && !window.hasSubscribers();
    }

    /** Blocks a writer while too much captured log waits for storage. */
    void awaitCapacity() throws InterruptedException {
        if (pendingBytes <= options.maxPendingBytes()) {
            return; // the common case takes no lock: the capture lane may hold it while compressing
        }
        synchronized (this) {
            while (pendingBytes > options.maxPendingBytes() && !stopped) {
                wait();
            }
        }
    }

    synchronized long pendingBytes() {
        return pendingBytes;
    }

    /** Stores what is pending, then ends. */
    synchronized void close() {
        closing = true;
        lane.signal();
    }

    /** Uploads from now on. */
    /**
     * Waits until the segment holding {@code txid} is stored and its peers were told (what they
     * scheduled then is queued); false when {@code deadlineNanos} (System.nanoTime) passed first
     * or the flusher stopped.
     */
    synchronized boolean awaitTold(long txid, long deadlineNanos) throws InterruptedException {
        while (toldTxid < txid && !stopped) {
            long left = deadlineNanos - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return toldTxid >= txid;
    }

    /** Starts uploading; {@code stored} hears of each stored segment from now on. */
    void start(Stored stored) {
        this.stored = stored;
        lane.signal();
    }

    /**
     * Gives up what is not stored yet (a failed primary, or a close that timed out): an upload in
     * progress is interrupted, nothing more is tried. The WAL keeps those transactions.
     */
    void abandon() {
        synchronized (this) {
            abandoned = true;
        }
        lane.interruptStep();
        lane.signal();
    }

    /** Waits until the flusher has ended (after {@link #close()} or {@link #abandon()}, or a failure). */
    synchronized void awaitFinished() throws InterruptedException {
        while (!finished) {
            wait();
        }
    }

    /**
     * One turn of the flusher's lane: uploads what is due, arms the alarm for what is not yet.
     * A failed upload does not sleep on the pool's thread: the step returns and the alarm brings
     * it back after the backoff, so a database whose storage fails holds no thread meanwhile.
     */
    private void step() {
        if (finished) {
            return;
        }
        boolean end = true;
        try {
            while (!abandoned()) {
                if (uploading == null) {
                    uploading = nextSegment();
                    if (uploading == null) {
                        break;
                    }
                    attempts = attempt(uploading);
                    uploadStartedNanos = System.nanoTime();
                } else if (attempts.retryDelayNanos() > 0) {
                    lane.signalAfter(attempts.retryDelayNanos()); // woken early by an append: not yet
                    end = false;
                    return;
                }
                Boolean ours = attempts.tryOnce();
                if (ours == null) {
                    lane.signalAfter(attempts.retryDelayNanos());
                    end = false;
                    return;
                }
                try {
                    uploaded(uploading, ours);
                } finally {
                    uploading.close();
                    uploading = null;
                }
            }
            end = ending();
        } catch (Throwable t) {
            lifecycle.stoppedBy("segment flusher", t);
        } finally {
            if (end) {
                synchronized (this) {
                    stopped = true;
                    finished = true;
                    lane.cancelAlarm();
                    notifyAll();
                    discardPending();
                }
            }
        }
    }

    private synchronized boolean abandoned() {
        return abandoned;
    }

    /** What was never stored stays in the WAL for the next open to ship: only its spill files go. */
    private void discardPending() {
        try {
            if (uploading != null) {
                uploading.close();
                uploading = null;
            }
            for (SealedSegment segment : sealed) {
                segment.close();
            }
            sealed.clear();
            if (open != null) {
                open.discard();
                open = null;
            }
        } catch (IOException e) {
            log.warn("spill file not removed db={} error={}", db, e.toString());
        }
    }

    /** Whether the flusher is done for good: stopped, abandoned, or closed with nothing left. */
    private synchronized boolean ending() {
        return stopped || abandoned || (closing && open == null && sealed.isEmpty());
    }

    /** The next segment to upload now, or null: then either {@link #ending()}, or the alarm is set. */
    private synchronized SealedSegment nextSegment() throws IOException {
        if (stopped || abandoned) {
            return null;
        }
        if (!sealed.isEmpty()) {
            return sealed.poll();
        }
        if (open != null && dueNow()) {
            long gatherLeft = gatherUntilNanos - System.nanoTime();
            if (open.transactionCount() < gatherTransactions && gatherLeft > 0 && !closing
                    && flushThrough < open.firstTxid() && pendingBytes < options.flushBytes()) {
                lane.signalAfter(gatherLeft);
                return null;
            }
            gatherTransactions = 0;
            seal();
            return sealed.poll();
        }
        if (open != null) {
            lane.signalAfter(openSinceNanos + options.flushInterval().toNanos() - System.nanoTime());
        }
        return null;
    }

    private boolean dueNow() {
        return options.durability() == Durability.DURABLE || closing
                || (open.firstTxid() <= flushThrough && open.lastTxid() >= flushThrough)
                || pendingBytes >= options.flushBytes()
                || System.nanoTime() - openSinceNanos >= options.flushInterval().toNanos();
    }

    /**
     * How long to hold the next segment open after an upload that took {@code uploadNanos} and
     * released {@code writers} waiting for their acks, so that they join the next one (see the note).
     */
    static long gatherNanos(PrimaryOptions options, int writers, long uploadNanos) {
        if (options.durability() != Durability.DURABLE || writers < 2 || uploadNanos < GATHER_MIN_UPLOAD_NANOS) {
            return 0;
        }
        return Math.min(uploadNanos / 5, options.groupCommitDelay().toNanos());
    }

    /** The attempts at uploading one segment (from memory, or from its spill file, streamed); create-only. */
    private StorageWriter.Attempts attempt(SealedSegment segment) {
        String key = ObjectKey.segment(segment.firstTxid());
        Storage storage = writer.storage();
        return writer.attempts(key, segment.length(), () -> segment.putIfAbsent(storage, key),
                () -> storage.open(key).map(stored -> sameContent(key, segment, stored)).orElse(false));
    }

    /** After the segment's upload ended: stored, or fenced by another primary's object under its key. */
    private void uploaded(SealedSegment segment, boolean ours) {
        String key = ObjectKey.segment(segment.firstTxid());
        if (!ours) {
            synchronized (this) {
                stopped = true;
                notifyAll();
            }
            lifecycle.fail(new FencedException(key, segment.firstTxid()));
            return;
        }
        long lastTxid = segment.lastTxid();
        long now = System.nanoTime();
        long openBefore;
        synchronized (this) {
            // captured bytes count against maxPendingBytes until they are stored
            pendingBytes -= segment.rawBodyBytes();
            // counted before the acks release anyone: a writer quick to commit again is one of those awaited
            openBefore = open == null ? 0 : open.transactionCount();
            notifyAll();
        }
        log.debug("segment stored db={} key={} firstTxid={} lastTxid={} bytes={} spilled={}", db, key,
                segment.firstTxid(), lastTxid, segment.length(), segment.file().isPresent());
        int released = acks.stored(lastTxid);
        long gather = gatherNanos(options, released, now - uploadStartedNanos);
        synchronized (this) {
            gatherUntilNanos = now + gather;
            gatherTransactions = gather > 0 ? openBefore + released : 0;
        }
        window.stored(lastTxid);
        stored.stored(lastTxid, segment.length());
        synchronized (this) {
            toldTxid = lastTxid;
            notifyAll();
        }
    }

    /** Whether the object storage holds is this segment; a local read error is retried, never taken as a rival's object. */
    private static boolean sameContent(String key, SealedSegment segment, java.io.InputStream stored) {
        try {
            return segment.sameContent(stored);
        } catch (IOException e) {
            throw new StorageException("compare", key, StorageException.Kind.IO, e.toString(), e);
        }
    }
}
