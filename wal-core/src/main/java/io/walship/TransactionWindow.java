package io.walship;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * The recent transactions subscribers read from memory: page images copied as the capture
 * thread packs them into segments, only while a subscriber exists. Thread-safe.
 */
final class TransactionWindow {
    /*
     * The capture lane records each transaction (begin, page, end) into a Held and adds it
     * under the monitor; that is all it ever does for subscribers, so a slow one cannot slow
     * capture or writers. Subscribers pull: each asks for its next txid and gets the Held, or is
     * told to read storage (the txid is older than the window and stored), or waits. The window
     * keeps at most maxBytes of images, dropping the oldest; a subscriber that was reading from
     * the window and finds its next txid dropped is too slow and is cut off (TOO_SLOW); one
     * catching up from storage is not. A transaction larger than half the window is held without
     * its pages: subscribers read it from storage once it is stored. Recording starts afresh when
     * the first subscriber arrives, so the window is always a run of consecutive txids; those
     * captured before it are read from storage once stored (at most a flush interval later).
     */
    private final long maxBytes;
    private final int pageSize;
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private long heldBytes;
    /** The highest txid dropped from the window since recording started; 0: none. */
    private long droppedThrough;
    private long storedTxid;
    private volatile int subscribers;
    private SubscriptionEndedException.Reason ended;
    /** When add() last woke the subscribers (System.nanoTime()); see COALESCE_NANOS. */
    private long lastWakeNanos;
    private long lastAddNanos;
    /** Told when the stored txid moves (stream connections send it on). */
    private final List<Runnable> storedListeners = new CopyOnWriteArrayList<>();

    /**
     * Under load, add() wakes the subscribers at most once per this interval, and subscribers that
     * saw an add within the last ACTIVE_NANOS look again after at most this long without being
     * woken: four subscribers woken per commit at 30,000 commits a second cost the writer a sixth
     * of its throughput on two cores; this bounds the wake-ups and adds at most this much delay.
     */
    private static final long COALESCE_NANOS = 200_000;
    private static final long ACTIVE_NANOS = 2_000_000;

    /** A recorded transaction; {@code images} null when it was too large to hold. */
    record Held(long txid, long commitMillis, int databasePages, int pageCount, long checksumBefore,
                long checksumAfter, int[] pgnos, byte[] images) {
        long bytes() {
            return images == null ? 64 : images.length + 4L * pgnos.length + 64;
        }
    }

    /** What a subscriber does next. */
    enum Next { HELD, STORAGE, WAIT, TOO_SLOW, ENDED }

    TransactionWindow(long maxBytes, int pageSize, long storedTxid) {
        this.maxBytes = maxBytes;
        this.pageSize = pageSize;
        this.storedTxid = storedTxid;
    }

    // ---------------------------------------------------------------- capture lane

    /** Whether anyone subscribes now; read without the monitor. */
    boolean hasSubscribers() {
        return subscribers != 0;
    }

    /** Starts recording a transaction; null (nothing to do) while nobody subscribes. */
    Recording begin(long txid, long commitMillis, int databasePages, int pageCount, long checksumBefore) {
        if (!hasSubscribers()) {
            return null;
        }
        boolean fits = (long) pageCount * pageSize <= maxBytes / 2;
        return new Recording(txid, commitMillis, databasePages, pageCount, checksumBefore, fits);
    }

    /** One transaction being recorded. */
    final class Recording {
        private final long txid;
        private final long commitMillis;
        private final int databasePages;
        private final long checksumBefore;
        private final int[] pgnos;
        private final byte[] images;
        private int count;

        private Recording(long txid, long commitMillis, int databasePages, int pageCount, long checksumBefore,
                          boolean fits) {
            this.txid = txid;
            this.commitMillis = commitMillis;
            this.databasePages = databasePages;
            this.checksumBefore = checksumBefore;
            this.pgnos = fits ? new int[pageCount] : null;
            this.images = fits ? new byte[pageCount * pageSize] : null;
        }

        void page(int pgno, ByteBuffer buffer, int offset) {
            if (images != null) {
                pgnos[count] = pgno;
                buffer.get(offset, images, count * pageSize, pageSize);
            }
            count++;
        }

        void end(long checksumAfter) {
            add(new Held(txid, commitMillis, databasePages, count, checksumBefore, checksumAfter, pgnos, images));
        }
    }

    private synchronized void add(Held transaction) {
        Held last = held.peekLast();
        if (last != null && transaction.txid() != last.txid() + 1) {
            clear(); // recording paused (no subscriber) in between: start a new run
        }
        held.addLast(transaction);
        heldBytes += transaction.bytes();
        while (heldBytes > maxBytes && held.size() > 1) {
            Held dropped = held.removeFirst();
            heldBytes -= dropped.bytes();
            droppedThrough = dropped.txid();
        }
        long now = System.nanoTime();
        lastAddNanos = now;
        if (now - lastWakeNanos >= COALESCE_NANOS) {
            lastWakeNanos = now;
            notifyAll();
        }
    }

    private void clear() {
        held.clear();
        heldBytes = 0;
        droppedThrough = 0;
    }

    // ---------------------------------------------------------------- flusher, primary

    void stored(long txid) {
        synchronized (this) {
            storedTxid = Math.max(storedTxid, txid);
            notifyAll();
        }
        storedListeners.forEach(Runnable::run);
    }

    void addStoredListener(Runnable listener) {
        storedListeners.add(listener);
    }

    void removeStoredListener(Runnable listener) {
        storedListeners.remove(listener);
    }

    synchronized long storedTxid() {
        return storedTxid;
    }

    /** No more transactions: subscribers end with {@code reason} at their next step. */
    synchronized void end(SubscriptionEndedException.Reason reason) {
        if (ended == null) {
            ended = reason;
        }
        notifyAll();
    }

    synchronized SubscriptionEndedException.Reason ended() {
        return ended;
    }

    synchronized void subscribed() {
        if (subscribers++ == 0) {
            clear();
        }
    }

    synchronized void unsubscribed() {
        if (--subscribers == 0) {
            clear();
        }
    }

    // ---------------------------------------------------------------- subscriber threads

    /**
     * Where {@code txid} is to be read from now, waiting up to {@code waitNanos} when nowhere yet.
     *
     * @param live the subscriber read its previous transaction from the window
     * @param out  receives the Held when the answer is HELD
     */
    synchronized Next next(long txid, boolean live, long waitNanos, Held[] out) throws InterruptedException {
        long deadline = System.nanoTime() + waitNanos;
        while (true) {
            if (ended != null) {
                return Next.ENDED;
            }
            Held found = find(txid);
            if (found != null && found.images() != null) {
                out[0] = found;
                return Next.HELD;
            }
            if (live && found == null && txid <= droppedThrough) {
                return Next.TOO_SLOW;
            }
            if (txid <= storedTxid) {
                return Next.STORAGE; // older than the window, or too large to hold: stored now
            }
            long now = System.nanoTime();
            long left = deadline - now;
            if (left <= 0) {
                return Next.WAIT;
            }
            boolean active = now - lastAddNanos < ACTIVE_NANOS; // adds may come without a wake-up
            TimeUnit.NANOSECONDS.timedWait(this, active ? Math.min(left, COALESCE_NANOS) : left);
        }
    }

    private Held find(long txid) {
        Held first = held.peekFirst();
        if (first == null || txid < first.txid() || txid > held.peekLast().txid()) {
            return null;
        }
        for (Iterator<Held> it = held.descendingIterator(); it.hasNext(); ) {
            Held h = it.next();
            if (h.txid() == txid) {
                return h;
            }
        }
        return null;
    }

    /** Wakes waiting subscribers (one was closed). */
    synchronized void wake() {
        notifyAll();
    }
}
