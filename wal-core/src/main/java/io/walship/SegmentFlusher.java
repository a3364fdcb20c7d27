package io.walship;

import io.walship.format.CompressionBuffers;
import io.walship.format.ObjectKey;
import io.walship.format.SegmentWriter;
import io.walship.capture.WalTransaction;
import io.walship.format.Transaction;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Packs captured transactions into segments and stores them, in txid order, on its own thread.
 */
final class SegmentFlusher implements Runnable {
    /*
     * Group commit. In DURABLE mode the flusher uploads whatever is pending the moment the
     * previous upload returns, so under load one PUT acknowledges every transaction that
     * committed during the previous PUT: throughput grows with concurrency, latency is about
     * two storage writes at worst. In ASYNC mode it waits for flushInterval or flushBytes.
     *
     * Segments never cross a "cut": a txid where a snapshot is being taken, so that every
     * snapshot sits on a segment boundary and a follower at the snapshot's txid finds the next
     * segment under log/<txid+1>.
     *
     * Storage writes are create-only (StorageWriter). ALREADY_EXISTS is ours only when the
     * stored bytes equal the segment (an earlier attempt that timed out but landed); any other
     * content means another primary wrote there: fenced, and the flusher stops.
     */
    private static final Logger log = LoggerFactory.getLogger(SegmentFlusher.class);

    interface Events {
        /** A segment is stored; runs on the flusher thread. */
        void stored(long lastTxid, long segmentBytes);

        /** Storage belongs to another primary now; the flusher has stopped. */
        void fenced(FencedException e);
    }

    private final StorageWriter writer;
    private final PrimaryOptions options;
    private final String db;
    private final int pageSize;
    private final AckRegistry acks;
    private final Events events;
    /** Segments ready to upload, in txid order. */
    private final ArrayDeque<SegmentWriter> sealed = new ArrayDeque<>();
    /** The segment transactions are being added to; null when nothing is pending beyond `sealed`. */
    private SegmentWriter open;
    /** Lent to the open segment; free again once it is sealed (sealing compresses the last block). */
    private final CompressionBuffers buffers = new CompressionBuffers();
    private long openSinceNanos;
    private long checksumAtEnd;
    /** Written under the monitor; read without it on the writers' path. */
    private volatile long pendingBytes;
    /** Upload now, in ASYNC mode too, the open segment once it holds this txid (0: nothing asked). */
    private long flushThrough;
    private boolean closing;
    private boolean stopped;

    SegmentFlusher(StorageWriter writer, PrimaryOptions options, String db, int pageSize, long checksumAtStored,
                   AckRegistry acks, Events events) {
        this.writer = writer;
        this.options = options;
        this.db = db;
        this.pageSize = pageSize;
        this.checksumAtEnd = checksumAtStored;
        this.acks = acks;
        this.events = events;
    }

    /**
     * Compresses one captured transaction into the open segment, straight from the WAL reader's
     * buffer: nothing but compressed bytes is kept until the upload.
     */
    synchronized void append(long txid, long commitMillis, WalTransaction wal, long checksumAfter) {
        SegmentWriter segment = openSegment();
        int[] pgnos = wal.pgnos();
        segment.begin(txid, commitMillis, wal.databasePages(), pgnos.length);
        for (int i = 0; i < pgnos.length; i++) {
            segment.page(pgnos[i], wal.frames(), wal.imageOffsets()[i]);
        }
        segment.end(checksumAfter);
        appended(SegmentWriter.encodedBytes(pgnos.length, pageSize), checksumAfter);
    }

    /** Adds a whole transaction (the difference shipped after outside interference). */
    synchronized void append(Transaction txn) {
        openSegment().add(txn);
        appended(txn.encodedBytes(), txn.checksumAfter());
    }

    private SegmentWriter openSegment() {
        if (open == null) {
            open = new SegmentWriter(pageSize, checksumAtEnd, buffers);
            openSinceNanos = System.nanoTime();
        }
        return open;
    }

    private void appended(long rawBytes, long checksumAfter) {
        checksumAtEnd = checksumAfter;
        pendingBytes += rawBytes;
        if (open.rawBodyBytes() >= options.maxSegmentBytes()) {
            seal();
        }
        notifyAll();
    }

    private void seal() {
        open.toByteArray(); // compress the last block now, while the buffers are ours
        sealed.add(open);
        open = null;
    }

    /** No segment will hold both {@code txid} and {@code txid + 1}; call once {@code txid} was appended. */
    synchronized void cutAfter(long txid) {
        if (open != null && open.lastTxid() == txid) {
            seal();
        }
    }

    /**
     * Uploads everything up to {@code txid} now, also in ASYNC mode: the open segment is sealed
     * as soon as it holds {@code txid}, however far the capture thread still is behind.
     */
    synchronized void requestFlush(long txid) {
        flushThrough = Math.max(flushThrough, txid);
        notifyAll();
    }

    /** Blocks a writer while too much captured log waits for storage. */
    void awaitCapacity() throws InterruptedException {
        if (pendingBytes <= options.maxPendingBytes()) {
            return; // the common case takes no lock: the capture thread may hold it while compressing
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

    /** Stores what is pending, then ends the thread. */
    synchronized void close() {
        closing = true;
        notifyAll();
    }

    @Override
    public void run() {
        try {
            SegmentWriter segment;
            while ((segment = nextSegment()) != null) {
                store(segment);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            synchronized (this) {
                stopped = true;
                notifyAll();
            }
        }
    }

    private synchronized SegmentWriter nextSegment() throws InterruptedException {
        while (true) {
            if (stopped) {
                return null;
            }
            if (!sealed.isEmpty()) {
                return sealed.poll();
            }
            if (open != null && dueNow()) {
                seal();
                return sealed.poll();
            }
            if (open == null && closing) {
                return null;
            }
            if (open == null) {
                wait();
            } else {
                long waitNanos = openSinceNanos + options.flushInterval().toNanos() - System.nanoTime();
                if (waitNanos > 0) {
                    TimeUnit.NANOSECONDS.timedWait(this, waitNanos);
                }
            }
        }
    }

    private boolean dueNow() {
        return options.durability() == Durability.DURABLE || closing
                || (open.firstTxid() <= flushThrough && open.lastTxid() >= flushThrough)
                || pendingBytes >= options.flushBytes()
                || System.nanoTime() - openSinceNanos >= options.flushInterval().toNanos();
    }

    private void store(SegmentWriter segment) throws InterruptedException {
        String key = ObjectKey.segment(segment.firstTxid());
        byte[] bytes = segment.toByteArray();
        long started = System.nanoTime();
        boolean ours = writer.store(key, () -> writer.storage().putIfAbsent(key, bytes),
                () -> writer.storage().get(key).map(existing -> Arrays.equals(existing, bytes)).orElse(false));
        if (!ours) {
            synchronized (this) {
                stopped = true;
                notifyAll();
            }
            events.fenced(new FencedException(key, segment.firstTxid()));
            return;
        }
        long lastTxid = segment.lastTxid();
        synchronized (this) {
            // captured bytes count against maxPendingBytes until they are stored
            pendingBytes -= segment.rawBodyBytes();
            notifyAll();
        }
        log.debug("segment stored db={} key={} firstTxid={} lastTxid={} bytes={} ms={}", db, key,
                segment.firstTxid(), lastTxid, bytes.length, (System.nanoTime() - started) / 1_000_000);
        acks.stored(lastTxid);
        events.stored(lastTxid, bytes.length);
    }
}
