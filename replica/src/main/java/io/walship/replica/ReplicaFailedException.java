package io.walship.replica;

import io.walship.WalshipException;

/**
 * The replica could not finish writing a batch, even after rewriting it from memory: its file is
 * torn between two states, so it refuses reads instead of showing part of a batch. Close it and
 * open it again: {@link Replica#open} finishes the interrupted apply from storage (or restores
 * afresh) and checks the result against the primary's checksum. Usually a full or failing disk:
 * free space first.
 */
public final class ReplicaFailedException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final long firstTxid;
    private final long lastTxid;

    /** Thrown when the replica {@code db} stopped while applying {@code firstTxid..lastTxid}. */
    public ReplicaFailedException(String db, long firstTxid, long lastTxid, Throwable cause) {
        super("replica failed while writing a batch and refuses reads until reopened: db=" + db + " txid="
                + firstTxid + ".." + lastTxid + " error=" + cause
                + " (free the disk if it is full, then close the replica and open it again; open repairs the file)",
                cause);
        this.firstTxid = firstTxid;
        this.lastTxid = lastTxid;
    }

    /** The first txid of the batch that was being written. */
    public long firstTxid() {
        return firstTxid;
    }

    /** The last txid of the batch that was being written. */
    public long lastTxid() {
        return lastTxid;
    }
}
