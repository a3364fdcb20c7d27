package io.walship;

import java.time.InstantSource;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether one primary works: running, closed, or failed and why. Every stage asks it (before
 * work: {@link #checkUsable()}; during long work: {@link #closing()}) and reports to it what
 * stops the primary ({@link #fail}, {@link #stoppedBy}), instead of calling back up into the
 * {@link Primary}.
 *
 * <p>The first failure wins and is kept: it fails every waiting and every later ack (a fence as
 * itself, anything else as {@link NotStoredException} naming it), ends the subscriptions, and is
 * what {@link #checkUsable()} throws from then on. Its lines log under {@code io.walship.Primary},
 * as they did when the primary held this state itself.
 */
final class Lifecycle {
    private static final Logger log = LoggerFactory.getLogger(Primary.class);

    private final String db;
    private final InstantSource clock;
    private final AckRegistry acks;
    private final TransactionWindow window;
    /** The newest txid committed; set once the WAL is open (nothing can fail before, no stage runs). */
    private volatile LongSupplier newestTxid = () -> -1;
    private volatile RuntimeException failure;
    private volatile Problem problem;
    private volatile boolean closed;

    Lifecycle(String db, InstantSource clock, AckRegistry acks, TransactionWindow window) {
        this.db = db;
        this.clock = clock;
        this.acks = acks;
        this.window = window;
    }

    /** Where failures read the newest committed txid from, to name it in their exception. */
    void newestTxidFrom(LongSupplier txid) {
        this.newestTxid = txid;
    }

    /** Throws what keeps the primary from working: its failure, or that it is closed. */
    void checkUsable() {
        RuntimeException failed = failure;
        if (failed != null) {
            throw failed;
        }
        if (closed) {
            throw new IllegalStateException("primary is closed: db=" + db);
        }
    }

    /** The primary is closing or closed: work under way stops at its next check. */
    boolean closing() {
        return closed;
    }

    /** Marks the primary closed; false when it was already. Called with the gate held. */
    boolean close() {
        if (closed) {
            return false;
        }
        closed = true;
        return true;
    }

    /** The failure that stopped the primary, or null. */
    RuntimeException failure() {
        return failure;
    }

    /** The failure as a status shows it, or null. */
    Problem problem() {
        return problem;
    }

    /** Stops the primary with {@code cause} (the first cause is kept); fails acks and subscriptions. */
    void fail(RuntimeException cause) {
        synchronized (acks) {
            if (failure == null) {
                problem = Problem.of(cause instanceof NotStoredException && cause.getCause() != null
                        ? cause.getCause() : cause, clock.instant());
                failure = cause;
                if (cause instanceof FencedException fenced) {
                    log.error("primary fenced, stopping db={} key={} txid={}", db, fenced.key(), fenced.txid());
                }
            }
        }
        Problem why = problem;
        acks.fail(txid -> cause instanceof FencedException ? cause : new NotStoredException(txid,
                "primary stopped by " + why.kind() + ": " + why.message(), cause));
        window.end(SubscriptionEndedException.Reason.PRIMARY_FAILED);
    }

    /** A stage ({@code what}: capture, maintenance, segment flusher) could not go on: says so once, stops the primary. */
    void stoppedBy(String what, Throwable cause) {
        long txid = newestTxid.getAsLong();
        log.error("{} failed, primary stops db={} txid={}", what, db, txid, cause);
        fail(new NotStoredException(txid, what + " failed: " + cause, cause));
    }
}
