package io.walship;

import io.walship.format.ObjectKey;
import io.walship.format.SegmentWriter;
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
    private final ArrayDeque<Transaction> pending = new ArrayDeque<>();
    private final ArrayDeque<Long> cuts = new ArrayDeque<>();
    private long pendingBytes;
    private long checksumBefore;
    private long oldestPendingNanos;
    private boolean flushRequested;
    private boolean closing;
    private boolean stopped;
    private long storedTxid;

    SegmentFlusher(StorageWriter writer, PrimaryOptions options, String db, int pageSize, long storedTxid,
                   long checksumAtStored, AckRegistry acks, Events events) {
        this.writer = writer;
        this.options = options;
        this.db = db;
        this.pageSize = pageSize;
        this.storedTxid = storedTxid;
        this.checksumBefore = checksumAtStored;
        this.acks = acks;
        this.events = events;
    }

    synchronized void append(Transaction txn) {
        if (pending.isEmpty()) {
            oldestPendingNanos = System.nanoTime();
        }
        pending.add(txn);
        pendingBytes += txn.encodedBytes();
        notifyAll();
    }

    /** No segment will hold both {@code txid} and {@code txid + 1}. */
    synchronized void cutAfter(long txid) {
        cuts.add(txid);
    }

    /** Uploads what is pending now, also in ASYNC mode. */
    synchronized void requestFlush() {
        flushRequested = true;
        notifyAll();
    }

    /** Blocks a writer while too much captured log waits for storage. */
    synchronized void awaitCapacity() throws InterruptedException {
        while (pendingBytes > options.maxPendingBytes() && !stopped) {
            wait();
        }
    }

    synchronized long pendingBytes() {
        return pendingBytes;
    }

    synchronized long storedTxid() {
        return storedTxid;
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
            if (!pending.isEmpty() && dueNow()) {
                break;
            }
            if (pending.isEmpty() && closing) {
                return null;
            }
            if (pending.isEmpty()) {
                wait();
            } else {
                long waitNanos = oldestPendingNanos + options.flushInterval().toNanos() - System.nanoTime();
                if (waitNanos > 0) {
                    TimeUnit.NANOSECONDS.timedWait(this, waitNanos);
                }
            }
        }
        SegmentWriter segment = new SegmentWriter(pageSize, checksumBefore);
        while (!pending.isEmpty()) {
            Transaction next = pending.peek();
            if (!segment.isEmpty() && segment.rawBodyBytes() + next.encodedBytes() > options.maxSegmentBytes()) {
                break;
            }
            segment.add(pending.poll());
            while (!cuts.isEmpty() && cuts.peek() < next.txid()) {
                cuts.poll();
            }
            if (!cuts.isEmpty() && cuts.peek() == next.txid()) {
                cuts.poll();
                break;
            }
        }
        checksumBefore = segment.lastChecksumAfter();
        if (pending.isEmpty()) {
            flushRequested = false;
        } else {
            oldestPendingNanos = System.nanoTime();
        }
        return segment;
    }

    private boolean dueNow() {
        return options.durability() == Durability.DURABLE || flushRequested || closing
                || pendingBytes >= options.flushBytes()
                || System.nanoTime() - oldestPendingNanos >= options.flushInterval().toNanos();
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
            // the segment's transactions left `pending` when it was built; they count until stored
            pendingBytes -= segment.rawBodyBytes();
            storedTxid = lastTxid;
            notifyAll();
        }
        log.debug("segment stored db={} key={} firstTxid={} lastTxid={} bytes={} ms={}", db, key,
                segment.firstTxid(), lastTxid, bytes.length, (System.nanoTime() - started) / 1_000_000);
        acks.stored(lastTxid);
        events.stored(lastTxid, bytes.length);
    }
}
