package io.walship.replica;

import io.walship.WalshipException;
import java.time.Duration;
import java.util.Optional;

/**
 * A bounded read could not be served within its bound: {@link Replica#readAtLeast} did not see
 * its txid applied within the timeout, or {@link Replica#read(Duration, io.walship.SqlFunction)}
 * could not confirm that the replica holds everything storage held {@code maxStaleness} ago
 * (storage unreachable, or a batch failing to apply: see the cause and {@link Replica#status()}).
 * Nothing was read. Retry later, read on the primary, or allow more staleness.
 */
public final class StaleReadException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final long txid;
    private final long wantedTxid;
    private final transient Duration bound;

    private StaleReadException(String message, long txid, long wantedTxid, Duration bound, Throwable cause) {
        super(message, cause);
        this.txid = txid;
        this.wantedTxid = wantedTxid;
        this.bound = bound;
    }

    /** {@code db} stayed at {@code txid}, below {@code wantedTxid}, for {@code timeout}. */
    static StaleReadException notReached(String db, long txid, long wantedTxid, Duration timeout) {
        return new StaleReadException("replica did not reach the txid within the timeout: db=" + db + " txid=" + txid
                + " wanted=" + wantedTxid + " timeout=" + timeout + " (the primary has not stored it yet, or the"
                + " replica is behind or failing: see status(); retry, or read on the primary)", txid, wantedTxid,
                timeout, null);
    }

    /** {@code db} could not confirm being within {@code maxStaleness} of storage; {@code cause} may be null. */
    static StaleReadException tooStale(String db, long txid, Duration maxStaleness, Throwable cause) {
        return new StaleReadException("replica could not confirm it is within the staleness bound: db=" + db
                + " txid=" + txid + " maxStaleness=" + maxStaleness + (cause == null ? "" : " error=" + cause)
                + " (storage unreachable or a batch failing to apply: see status(); retry, read on the primary,"
                + " or allow more staleness)", txid, -1, maxStaleness, cause);
    }

    /** The replica's txid when the read gave up. */
    public long txid() {
        return txid;
    }

    /** The txid {@link Replica#readAtLeast} waited for; empty for a staleness bound. */
    public Optional<Long> wantedTxid() {
        return wantedTxid < 0 ? Optional.empty() : Optional.of(wantedTxid);
    }

    /**
     * The timeout of {@link Replica#readAtLeast}, or the staleness bound of {@link Replica#read(Duration,
     * io.walship.SqlFunction)}.
     */
    public Duration bound() {
        return bound;
    }
}
