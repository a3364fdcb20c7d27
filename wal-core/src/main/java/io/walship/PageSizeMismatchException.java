package io.walship;

/** A segment or snapshot has a page size different from the database it would be applied to. */
public final class PageSizeMismatchException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final int expected;
    private final int actual;

    public PageSizeMismatchException(String key, int expected, int actual) {
        super("page size mismatch: key=" + key + " expected=" + expected + " actual=" + actual
                + " (the object belongs to another database; check the storage prefix)");
        this.key = key;
        this.expected = expected;
        this.actual = actual;
    }

    public String key() {
        return key;
    }

    public int expected() {
        return expected;
    }

    public int actual() {
        return actual;
    }
}
