package io.walship;

/**
 * The primary stopped (closed, or failed) before a transaction reached storage. The
 * transaction is in the local database file but was never acknowledged as durable; reopening
 * the primary rebuilds the local file from storage, without it.
 */
public final class NotStoredException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final long txid;

    /**
     * Thrown when {@code txid}, committed locally, can no longer reach storage (through its {@link Ack} or the next
     * write).
     */
    public NotStoredException(long txid, String why, Throwable cause) {
        super("transaction not stored: txid=" + txid + " reason=" + why, cause);
        this.txid = txid;
    }

    /** The committed transaction that is not in storage. */
    public long txid() {
        return txid;
    }
}
