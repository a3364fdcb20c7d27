package io.walship.replica;

import io.walship.WalshipException;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.work.Lane;
import io.walship.internal.work.Workers;
import io.walship.storage.Storage;
import java.io.Closeable;
import java.io.IOException;
import java.sql.SQLException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replica's follower: turns on a lane of the runtime's IO pool that apply what storage (or the
 * stream) holds, each followed by the alarm for the next look. Owns when to look and how long to
 * back off; the replica owns what a look applies ({@link Turns}).
 */
final class Follower {
    /*
     * Cadence. The wait is the poll interval right after something new was found, doubling while
     * nothing is, up to maxIdlePollInterval; while batches applied ahead of storage wait for it,
     * at most AheadOfStorage.RECHECK_NANOS. A storage watch or the stream (storageChanged) cuts the
     * wait short, except after a failure, whose backoff (poll interval, doubling to
     * maxErrorBackoff) is waited out whatever storage says: a failing store is not hammered
     * because objects keep arriving.
     *
     * Failure. A WalshipException (storage, a bad segment) or any other exception of an apply is
     * reported to the replica (status RETRYING) and logged once per distinct message until a turn
     * succeeds; an Error (OutOfMemoryError most likely) too, with its stack, so the follower never
     * ends without a word while awaitTxid callers wait. A torn file (ReplicaFailedException) ends
     * the following: the replica has said so and refuses reads.
     *
     * Lock. This object's monitor guards the cadence and the end; it is a leaf like the replica's
     * progress lock: held, it takes only the lane's alarm and the storage watch's close, never
     * an apply (a turn runs without it).
     */
    private static final Logger log = LoggerFactory.getLogger(Follower.class);

    /** What a turn does, on the replica's side. */
    interface Turns {
        /** Applies what is available now; throws what stopped it. */
        void applyAvailable() throws IOException, SQLException;

        /** The replica's txid. */
        long txid();

        /** Batches applied ahead of storage wait for storage to confirm them. */
        boolean aheadWaiting();

        /** The replica is closing: the follower ends. */
        boolean closed();

        /** A turn succeeded: the last error is cleared. */
        void succeeded();

        /** A turn failed with {@code e} and is retried after the backoff. */
        void failed(WalshipException e);
    }

    private final String db;
    private final ReplicaOptions options;
    private final Storage storage;
    private final Turns turns;
    private final Lane lane;
    // guarded by this, or the lane's alone
    private long idleWaitNanos;
    private long errorBackoffNanos;
    private long nextPollNanos;
    private boolean inErrorBackoff;
    private boolean ended;
    /** Set by the storage watch or the stream: a new object may be there. */
    private boolean storageChanged;
    private Optional<Closeable> watch = Optional.empty();
    /** The lane's alone. */
    private String lastLoggedError;

    Follower(String db, ReplicaOptions options, Workers workers, Storage storage, Turns turns) {
        this.db = db;
        this.options = options;
        this.storage = storage;
        this.turns = turns;
        this.idleWaitNanos = options.pollInterval().toNanos();
        this.errorBackoffNanos = options.pollInterval().toNanos();
        this.lane = workers.lane(Workers.Pool.IO, "follower-" + db, this::step);
    }

    /** Watches storage where it can and takes the first turn. */
    void start() {
        Optional<Closeable> watching = storage.watch(ObjectKey.LOG_PREFIX, this::storageChanged);
        synchronized (this) {
            watch = watching;
        }
        log.debug("replica follows db={} watched={} pollMillis={} maxIdlePollMillis={}", db, watching.isPresent(),
                options.pollInterval().toMillis(), options.maxIdlePollInterval().toMillis());
        lane.signal();
    }

    /** Storage saw a new object under log/ (file storage's watch, the stream, a stale read): look now. */
    void storageChanged() {
        synchronized (this) {
            storageChanged = true;
        }
        lane.signal();
    }

    /** After the replica was marked closed: the next turn ends the following; waits for that. */
    void awaitEnd() {
        lane.signal();
        synchronized (this) {
            try {
                while (!ended) {
                    wait();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** One turn: applies what storage holds, then sets the alarm for the next. */
    private void step() {
        synchronized (this) {
            if (ended) {
                return; // torn or closed: a late signal (watch, stream, stale read) runs nothing
            }
            if (turns.closed()) {
                end();
                return;
            }
            long early = nextPollNanos - System.nanoTime();
            if (early > 0 && (inErrorBackoff || !storageChanged)) {
                lane.signalAfter(early);
                return;
            }
            storageChanged = false;
        }
        long before = turns.txid();
        long waitNanos;
        boolean failedNow = true;
        try {
            turns.applyAvailable();
            turns.succeeded();
            lastLoggedError = null;
            errorBackoffNanos = options.pollInterval().toNanos();
            idleWaitNanos = turns.txid() > before ? options.pollInterval().toNanos()
                    : Math.min(idleWaitNanos * 2, options.maxIdlePollInterval().toNanos());
            waitNanos = turns.aheadWaiting() ? Math.min(AheadOfStorage.RECHECK_NANOS, idleWaitNanos) : idleWaitNanos;
            failedNow = false;
        } catch (ReplicaFailedException e) {
            synchronized (this) {
                end(); // the replica said it
            }
            return;
        } catch (WalshipException e) {
            turns.failed(e);
            logOnce(e.getMessage());
            waitNanos = nextErrorBackoff();
        } catch (IOException | SQLException | RuntimeException e) {
            if (turns.closed()) {
                lane.signal();
                return;
            }
            turns.failed(new ReplicaApplyException(db, turns.txid() + 1, e));
            logOnce(e.toString());
            waitNanos = nextErrorBackoff();
        } catch (Error e) {
            turns.failed(new ReplicaApplyException(db, turns.txid() + 1, e));
            if (!e.toString().equals(lastLoggedError)) {
                lastLoggedError = e.toString();
                log.error("replica keeps txid {} and retries db={} error={}", turns.txid(), db, e, e);
            }
            waitNanos = nextErrorBackoff();
        }
        synchronized (this) {
            inErrorBackoff = failedNow;
            nextPollNanos = System.nanoTime() + waitNanos;
        }
        lane.signalAfter(waitNanos);
    }

    private long nextErrorBackoff() {
        long wait = errorBackoffNanos;
        errorBackoffNanos = Math.min(errorBackoffNanos * 2, options.maxErrorBackoff().toNanos());
        idleWaitNanos = options.pollInterval().toNanos();
        return wait;
    }

    /** Under this: the following stops for good (closed or failed); awaitEnd returns. */
    private void end() {
        if (ended) {
            return;
        }
        ended = true;
        lane.cancelAlarm();
        watch.ifPresent(w -> {
            try {
                w.close();
            } catch (IOException e) {
                log.debug("storage watch not closed db={} error={}", db, e.toString());
            }
        });
        notifyAll();
    }

    private void logOnce(String message) {
        if (!message.equals(lastLoggedError)) {
            lastLoggedError = message;
            log.warn("replica keeps txid {} and retries db={} error={}", turns.txid(), db, message);
        }
    }
}
