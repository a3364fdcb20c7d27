package io.walship;

/** A stored object carries a format version this build cannot read. */
public final class UnsupportedFormatException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final int found;
    private final int supported;

    public UnsupportedFormatException(String key, int found, int supported) {
        super("unsupported format version: key=" + key + " found=" + found + " supported=" + supported
                + " (written by a newer walship? upgrade this reader)");
        this.key = key;
        this.found = found;
        this.supported = supported;
    }

    public String key() {
        return key;
    }

    public int found() {
        return found;
    }

    public int supported() {
        return supported;
    }
}
