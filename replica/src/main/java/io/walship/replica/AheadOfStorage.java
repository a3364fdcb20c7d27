package io.walship.replica;

import io.walship.storage.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger of what a replica applied before its primary stored it (applyUnstored, ADR 0017):
 * which stream connection sent it, and the decision, before anything else is applied, to
 * confirm it, wait for storage, or take it back. The undo itself is ReplicaFile's; telling
 * readers, listeners and the stream is the replica's. Not thread-safe: used under the replica's
 * applyLock, except {@link #waiting()}.
 */
final class AheadOfStorage {
    /*
     * Confirmed when the connection that sent it reports it stored, or when storage holds the
     * replica's txid with the replica's checksum. Taken back when storage holds that txid with
     * another checksum (another history won), or does not hold it unstoredTimeout after that
     * connection went: the primary lost it. Meanwhile the follower looks again every
     * RECHECK_NANOS, whatever its poll interval.
     */
    private static final Logger log = LoggerFactory.getLogger(AheadOfStorage.class);
    /** How often a follower waiting for storage to confirm what it applied ahead looks again. */
    static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** What {@link #settle} decided. */
    enum Verdict {
        /** Confirmed (or nothing was ahead): applying goes on. */
        CONFIRMED,
        /** Storage does not hold it yet and the timeout has not passed: nothing can follow it yet. */
        WAIT,
        /** The primary lost it: take it back, then apply on. */
        TAKE_BACK
    }

    /** A decision, with why for {@link Verdict#TAKE_BACK}. */
    record Settled(Verdict verdict, String reason) {
        static final Settled CONFIRMED = new Settled(Verdict.CONFIRMED, "");
        static final Settled WAIT = new Settled(Verdict.WAIT, "");
    }

    private final Storage storage;
    private final Path path;
    private final String db;
    private final Duration unstoredTimeout;
    /** Told each time storage was asked: the replica's poll age. */
    private final Runnable looked;
    /** The stream connection whose stored txid confirms what was applied ahead; -1: none. */
    private long connection = -1;
    /** When that connection was first found gone while something was unconfirmed (System.nanoTime()); 0: not. */
    private long lostNanos;
    /** Unconfirmed transactions wait for storage. */
    private volatile boolean waiting;

    AheadOfStorage(Storage storage, Path path, String db, Duration unstoredTimeout, Runnable looked) {
        this.storage = storage;
        this.path = path;
        this.db = db;
        this.unstoredTimeout = unstoredTimeout;
        this.looked = looked;
    }

    /** The connection the batches ahead came from; -1 when none is known. */
    long connection() {
        return connection;
    }

    /** A batch from {@code connection} was applied ahead of storage. */
    void applied(long connection) {
        this.connection = connection;
    }

    /** Whether unconfirmed transactions wait for storage (the follower then looks again soon). */
    boolean waiting() {
        return waiting;
    }

    /** What was ahead was taken back: nothing is ahead any more. */
    void takenBack() {
        connection = -1;
        lostNanos = 0;
    }

    /**
     * Decides about what {@code file} holds ahead of storage; confirms it in the file when the
     * stream or storage vouches for it.
     *
     * @param feed the stream, or null
     */
    Settled settle(StreamFeed feed, ReplicaFile file) throws IOException {
        long stored = feed == null ? -1 : feed.storedOn(connection);
        waiting = false;
        if (stored >= 0) {
            file.confirm(stored);
            lostNanos = 0;
            return Settled.CONFIRMED;
        }
        long now = System.nanoTime();
        if (lostNanos == 0) {
            lostNanos = now;
        }
        long txid = file.txid();
        Optional<Long> recorded = ReplicaOpening.storedChecksumAfter(storage, txid, path);
        looked.run();
        if (recorded.isPresent() && recorded.get() == file.checksum()) {
            log.info("transactions applied before they were stored are confirmed by storage db={} txid={}..{}",
                    db, file.aheadFrom(), txid);
            file.confirm(txid);
            lostNanos = 0;
            return Settled.CONFIRMED;
        }
        if (recorded.isEmpty() && now - lostNanos < unstoredTimeout.toNanos()) {
            waiting = true;
            return Settled.WAIT;
        }
        return new Settled(Verdict.TAKE_BACK, recorded.isPresent()
                ? "storage holds txid " + txid + " with another checksum"
                : "storage does not hold txid " + txid + " " + unstoredTimeout + " after the stream went");
    }
}
