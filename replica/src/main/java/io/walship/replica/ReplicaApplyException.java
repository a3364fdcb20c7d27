package io.walship.replica;

import io.walship.WalshipException;

/** Applying a segment failed for a local reason (disk, lock); the replica keeps its state and retries. */
public final class ReplicaApplyException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final long txid;

    /** Thrown when the transaction {@code txid} could not be written into the replica {@code db}. */
    public ReplicaApplyException(String db, long txid, Throwable cause) {
        super("replica apply failed: db=" + db + " txid=" + txid + " error=" + cause, cause);
        this.txid = txid;
    }

    /** The first txid that could not be applied. */
    public long txid() {
        return txid;
    }
}
