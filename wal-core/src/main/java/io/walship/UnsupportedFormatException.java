package io.walship;

/** A stored object carries a format version this build cannot read. */
public final class UnsupportedFormatException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final int found;
    private final int supported;

    /** Thrown when the object at {@code key} has format version {@code found}, newer than {@code supported}. */
    public UnsupportedFormatException(String key, int found, int supported) {
        super("unsupported format version: key=" + key + " found=" + found + " supported=" + supported
                + " (written by a newer walship? upgrade this reader)");
        this.key = key;
        this.found = found;
        this.supported = supported;
    }

    /** Storage key of the object. */
    public String key() {
        return key;
    }

    /** Format version stored in the object. */
    public int found() {
        return found;
    }

    /** Newest format version this build reads. */
    public int supported() {
        return supported;
    }
}
