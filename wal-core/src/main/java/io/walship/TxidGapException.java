package io.walship;

/** The log does not continue where it should: the next object starts at a different txid. */
public final class TxidGapException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final long expected;
    private final long found;

    public TxidGapException(String key, long expected, long found) {
        super("txid gap in log: key=" + key + " expected=" + expected + " found=" + found
                + " (a segment is missing or belongs to another history; restore to txid " + (expected - 1)
                + " or from a newer snapshot)");
        this.key = key;
        this.expected = expected;
        this.found = found;
    }

    public String key() {
        return key;
    }

    public long expected() {
        return expected;
    }

    public long found() {
        return found;
    }
}
