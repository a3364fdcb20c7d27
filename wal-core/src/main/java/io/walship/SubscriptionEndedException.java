package io.walship;

/**
 * Why a {@link Primary#subscribe subscription} ended, and where to resume: a new subscription
 * from {@link #nextTxid()} continues without a gap (older transactions come from storage).
 */
public final class SubscriptionEndedException extends WalshipException {
    private static final long serialVersionUID = 1L;

    /** Why it ended. */
    public enum Reason {
        /** The subscriber fell further behind than the primary's stream window while reading from it. */
        TOO_SLOW("the subscriber fell behind the in-memory window (streamWindowBytes); subscribe again from"
                + " nextTxid to catch up from storage"),
        /** The subscriber's onTransaction threw. */
        SUBSCRIBER_FAILED("the subscriber threw; fix it and subscribe again from nextTxid"),
        /** Storage cannot provide the next txid (retention removed it, or it is damaged). */
        NOT_IN_STORAGE("storage does not hold the next txid any more; restore a snapshot instead"),
        /** The subscription was closed. */
        CANCELLED("closed by its owner"),
        /** The primary closed. */
        PRIMARY_CLOSED("the primary closed; subscribe again from nextTxid once it is open"),
        /** The primary failed or was fenced. */
        PRIMARY_FAILED("the primary failed or was fenced; read the rest from storage");

        private final String hint;

        Reason(String hint) {
            this.hint = hint;
        }
    }

    private final Reason reason;
    private final long nextTxid;

    SubscriptionEndedException(String db, Reason reason, long nextTxid, Throwable cause) {
        super("subscription ended: db=" + db + " reason=" + reason + " nextTxid=" + nextTxid
                + (cause == null ? "" : " error=" + cause) + " (" + reason.hint + ")", cause);
        this.reason = reason;
        this.nextTxid = nextTxid;
    }

    /** Why it ended. */
    public Reason reason() {
        return reason;
    }

    /** The first txid not delivered: subscribe from here to go on. */
    public long nextTxid() {
        return nextTxid;
    }
}
