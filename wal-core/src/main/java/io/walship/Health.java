package io.walship;

/** What a primary or replica is doing, for a health check: the first word of its status. */
public enum Health {
    /** Working: shipping (primary) or following (replica) without an error outstanding. */
    RUNNING,
    /**
     * Working but held up by an error it retries: storage refusing writes (acks wait, nothing is
     * lost) or, on a replica, the last apply attempt failed (readers see the last good state).
     */
    RETRYING,
    /** Stopped by an error it cannot retry; writes (or a replica's reads) are refused. See the status' error. */
    FAILED,
    /** Closed by its owner. */
    CLOSED
}
