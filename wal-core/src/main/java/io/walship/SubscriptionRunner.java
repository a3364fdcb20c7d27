package io.walship;

import io.walship.internal.log.FetchedSegment;
import io.walship.internal.log.LogLookup;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.SegmentReader;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscription: a thread that hands the subscriber each transaction from {@code next} on,
 * from the window or from storage (TransactionWindow's note says which).
 */
final class SubscriptionRunner implements Subscription, Runnable {
    /*
     * Reading storage: the object holding the next txid is fetched (a segment start: one GET,
     * else the catalog's candidates), its transactions before the next txid skipped and the rest
     * delivered as stored; then the next object, until the window has the next txid. A storage
     * error that may pass is retried with backoff, logged once; a gap ends the subscription
     * (NOT_IN_STORAGE), as does a damaged object.
     */
    private static final Logger log = LoggerFactory.getLogger(SubscriptionRunner.class);
    private static final long WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long MAX_BACKOFF_MILLIS = 5_000;

    private final String db;
    private final TransactionWindow window;
    private final Storage storage;
    private final Path spillDirectory;
    private final TransactionSubscriber subscriber;
    private final Thread thread;
    private volatile long next;
    private volatile boolean cancelled;
    private volatile boolean running = true;

    SubscriptionRunner(String db, TransactionWindow window, Storage storage, Path spillDirectory, long from,
                       TransactionSubscriber subscriber, int number) {
        this.db = db;
        this.window = window;
        this.storage = storage;
        this.spillDirectory = spillDirectory;
        this.subscriber = subscriber;
        this.next = from;
        this.thread = new Thread(this, "walship-subscription-" + db + "-" + number);
        thread.setDaemon(true);
    }

    void start() {
        window.subscribed();
        thread.start();
    }

    @Override
    public long nextTxid() {
        return next;
    }

    @Override
    public boolean isOpen() {
        return running;
    }

    /** Waits up to {@code nanos} for the subscription to end; whether it did. */
    boolean awaitEnd(long nanos) {
        try {
            thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }

    @Override
    public void close() {
        cancelled = true;
        window.wake();
        if (Thread.currentThread() != thread) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    public void run() {
        SubscriptionEndedException.Reason reason = SubscriptionEndedException.Reason.CANCELLED;
        Throwable cause = null;
        try {
            reason = deliver();
        } catch (SubscriberFailed e) {
            reason = SubscriptionEndedException.Reason.SUBSCRIBER_FAILED;
            cause = e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) { // a gap, a damaged object, storage refusing for good
            reason = SubscriptionEndedException.Reason.NOT_IN_STORAGE;
            cause = e;
        } finally {
            running = false;
            window.unsubscribed();
        }
        SubscriptionEndedException end = new SubscriptionEndedException(db, reason, next, cause);
        log.info("subscription ended db={} reason={} nextTxid={}{}", db, reason, next,
                cause == null ? "" : " error=" + cause);
        try {
            subscriber.onEnd(end);
        } catch (RuntimeException e) {
            log.warn("subscriber's onEnd failed db={} error={}", db, e.toString());
        }
    }

    /** Delivers until something ends the subscription; returns why. */
    private SubscriptionEndedException.Reason deliver() throws IOException, InterruptedException {
        boolean live = false;
        long backoffMillis = 50;
        TransactionWindow.Held[] held = new TransactionWindow.Held[1];
        while (!cancelled) {
            switch (window.next(next, live, WAIT_NANOS, held)) {
                case HELD:
                    deliverHeld(held[0]);
                    live = true;
                    break;
                case STORAGE:
                    try {
                        readStorage();
                        backoffMillis = 50;
                    } catch (StorageException e) {
                        if (!e.isRetryable()) {
                            throw e;
                        }
                        log.warn("subscription reading storage failed, retrying db={} txid={} error={}", db, next,
                                e.getMessage());
                        Thread.sleep(backoffMillis);
                        backoffMillis = Math.min(backoffMillis * 2, MAX_BACKOFF_MILLIS);
                    }
                    live = false;
                    break;
                case TOO_SLOW:
                    return SubscriptionEndedException.Reason.TOO_SLOW;
                case ENDED:
                    return window.ended();
                case WAIT:
                default:
                    break;
            }
        }
        return SubscriptionEndedException.Reason.CANCELLED;
    }

    private void deliverHeld(TransactionWindow.Held h) throws IOException {
        int pageSize = h.pageCount() == 0 ? 0 : h.images().length / h.pageCount();
        boolean stored = h.txid() <= window.storedTxid();
        hand(new StreamedTransaction(h.txid(), h.commitMillis(), h.databasePages(), h.pageCount(), h.checksumBefore(),
                stored,
                visitor -> {
                    ByteBuffer images = ByteBuffer.wrap(h.images()).asReadOnlyBuffer();
                    for (int i = 0; i < h.pageCount(); i++) {
                        visitor.page(h.pgnos()[i], images.slice(i * pageSize, pageSize));
                    }
                    return h.checksumAfter();
                }));
    }

    /** Delivers the stored object holding {@code next}, from {@code next} on. */
    private void readStorage() throws IOException {
        try (LogLookup.Opened opened = openAt(next)) {
            SegmentReader segment = opened.reader();
            for (SegmentReader.TransactionHeader txn = segment.nextTransaction(); txn != null && !cancelled;
                 txn = segment.nextTransaction()) {
                hand(new StreamedTransaction(txn.txid(), txn.commitMillis(), txn.databasePages(), txn.pageCount(),
                        segment.checksumAfter(), true, visitor -> segment.readPages((pgno, image) ->
                        visitor.page(pgno, ByteBuffer.wrap(image).asReadOnlyBuffer()))));
            }
        }
    }

    /** The object holding {@code txid}, positioned there; a txid storage lacks is a gap. */
    private LogLookup.Opened openAt(long txid) throws IOException {
        return LogLookup.openHolding(storage, txid, spillDirectory, FetchedSegment.DEFAULT_MEMORY_BYTES)
                .orElseThrow(() -> BadObjectException.txidGap(ObjectKey.segment(txid), txid, -1)); // retention, or never stored
    }

    /** Hands one transaction over; the subscriber's failure ends the subscription. */
    private void hand(StreamedTransaction transaction) throws IOException {
        try {
            subscriber.onTransaction(transaction);
        } catch (Exception e) {
            throw new SubscriberFailed(e);
        }
        transaction.finish();
        next = transaction.txid() + 1;
    }

    /** The subscriber threw: carried out of the delivery loop. */
    private static final class SubscriberFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        SubscriberFailed(Throwable cause) {
            super(cause);
        }
    }
}
