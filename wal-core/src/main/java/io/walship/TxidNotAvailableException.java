package io.walship;

/** A restore target lies outside what storage holds. */
public final class TxidNotAvailableException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final String requested;
    private final long earliest;
    private final long latest;

    /** Thrown when {@code requested} lies outside {@code earliest..latest} (both -1 when storage holds nothing). */
    public TxidNotAvailableException(String requested, long earliest, long latest) {
        super("restore target not available: requested=" + requested + " earliest=" + earliest + " latest=" + latest
                + (latest < 0 ? " (storage holds no snapshot: is the URL or prefix right?)"
                        : " (choose a target between earliest and latest; history before earliest was"
                        + " removed by retention or never stored)"));
        this.requested = requested;
        this.earliest = earliest;
        this.latest = latest;
    }

    /** The target as given: a txid or a time. */
    public String requested() {
        return requested;
    }

    /** Earliest txid storage can restore, or -1 when it holds nothing. */
    public long earliest() {
        return earliest;
    }

    /** Latest txid storage can restore, or -1 when it holds nothing. */
    public long latest() {
        return latest;
    }
}
