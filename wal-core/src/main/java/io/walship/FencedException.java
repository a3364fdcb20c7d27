package io.walship;

/**
 * Another primary wrote the object this primary was about to write: this primary has been
 * fenced off and stops. Acknowledged writes are safe; writes that were not acknowledged are
 * not in storage and never will be.
 */
public final class FencedException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final long txid;

    /** Thrown when {@code key}, holding {@code txid}, was already written by someone else. */
    public FencedException(String key, long txid) {
        super("fenced by another primary: key=" + key + " txid=" + txid
                + " (another process writes to this storage; close this primary and open it again"
                + " to rebuild from storage, or point it at its own prefix)");
        this.key = key;
        this.txid = txid;
    }

    /** Storage key another primary wrote first. */
    public String key() {
        return key;
    }

    /** First txid this primary could not store. */
    public long txid() {
        return txid;
    }
}
