package io.walship;

/**
 * A stored object (segment or snapshot) failed validation: truncated, bit rot, bad magic,
 * lengths out of bounds, or a database checksum that does not match after applying it.
 *
 * <p>Nothing from such an object is ever applied. The hint tells an operator what to do.
 */
public final class CorruptObjectException extends WalshipException {
    private static final long serialVersionUID = 1L;

    private final String key;
    private final String reason;
    private final long offset;

    /** Thrown by walship's readers; {@code offset} is -1 when the problem concerns the whole object. */
    public CorruptObjectException(String key, String reason, long offset) {
        this(key, reason, offset, null);
    }

    /** As {@link #CorruptObjectException(String, String, long)}, with the failure that revealed it. */
    public CorruptObjectException(String key, String reason, long offset, Throwable cause) {
        super("corrupt object: key=" + key + " reason=" + reason + (offset >= 0 ? " offset=" + offset : "")
                + " (nothing from it was applied; restore from an older snapshot or re-create the object"
                + " from the primary)", cause);
        this.key = key;
        this.reason = reason;
        this.offset = offset;
    }

    /** Storage key of the object. */
    public String key() {
        return key;
    }

    /** What was wrong, in a few words. */
    public String reason() {
        return reason;
    }

    /** Byte offset in the object where the problem was found, or -1 when it concerns the whole object. */
    public long offset() {
        return offset;
    }
}
