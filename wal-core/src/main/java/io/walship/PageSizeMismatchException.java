package io.walship;

/** A segment or snapshot has a page size different from the database it would be applied to. */
public final class PageSizeMismatchException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final int expected;
    private final int actual;

    /** Thrown when the object at {@code key} has pages of {@code actual} bytes where {@code expected} was required. */
    public PageSizeMismatchException(String key, int expected, int actual) {
        super("page size mismatch: key=" + key + " expected=" + expected + " actual=" + actual
                + " (the object belongs to another database; check the storage prefix)");
        this.key = key;
        this.expected = expected;
        this.actual = actual;
    }

    /** Storage key (or local path) whose page size differs. */
    public String key() {
        return key;
    }

    /** Page size required: the database's or the history's. */
    public int expected() {
        return expected;
    }

    /** Page size found. */
    public int actual() {
        return actual;
    }
}
