package io.walship.restore;

import java.time.Instant;
import java.util.Objects;

/** Which state to restore: the latest, the state after a txid, or the state at a time. */
public final class RestoreTarget {
    private final long txid;
    private final Instant time;

    private RestoreTarget(long txid, Instant time) {
        this.txid = txid;
        this.time = time;
    }

    /** Everything storage holds. */
    public static RestoreTarget latest() {
        return new RestoreTarget(Long.MAX_VALUE, null);
    }

    /** The database right after transaction {@code txid} committed. */
    public static RestoreTarget txid(long txid) {
        if (txid < 0) {
            throw new IllegalArgumentException("txid must be >= 0: " + txid);
        }
        return new RestoreTarget(txid, null);
    }

    /** The database with every transaction committed at or before {@code time}. */
    public static RestoreTarget time(Instant time) {
        return new RestoreTarget(Long.MAX_VALUE, Objects.requireNonNull(time, "time"));
    }

    /** Whether this target is the newest state storage holds. */
    public boolean isLatest() {
        return txid == Long.MAX_VALUE && time == null;
    }

    /** The highest txid to apply; {@code Long.MAX_VALUE} for latest or time targets. */
    public long txid() {
        return txid;
    }

    /** The time bound, or null. */
    public Instant time() {
        return time;
    }

    @Override
    public String toString() {
        return time != null ? "time=" + time : isLatest() ? "latest" : "txid=" + txid;
    }
}
