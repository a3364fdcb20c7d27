package io.walship;

/** The log does not continue where it should: the next object starts at a different txid. */
public final class TxidGapException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final long expected;
    private final long found;

    /** Thrown when the object at {@code key} starts at {@code found} where {@code expected} was due. */
    public TxidGapException(String key, long expected, long found) {
        super("txid gap in log: key=" + key + " expected=" + expected + " found=" + found
                + " (a segment is missing or belongs to another history; restore to txid " + (expected - 1)
                + " or from a newer snapshot)");
        this.key = key;
        this.expected = expected;
        this.found = found;
    }

    /** Storage key of the object that does not continue the history. */
    public String key() {
        return key;
    }

    /** Txid that had to come next. */
    public long expected() {
        return expected;
    }

    /** Txid the object starts at. */
    public long found() {
        return found;
    }
}
