package io.walship;

import java.util.Locale;

/**
 * A stored object (segment, snapshot, or a local record walship wrote) that walship cannot use,
 * and why: {@link #kind()}. Nothing from such an object is ever applied, and the message says
 * what an operator can do.
 *
 * <p>One type with a kind, like {@link io.walship.storage.StorageException}, so that a caller
 * handles "the data is bad" in one place and tells the cases apart by {@link Kind} rather than by
 * class or message text:
 * <pre>{@code
 * try {
 *     Restore.run(storage, path, RestoreTarget.latest());
 * } catch (BadObjectException e) {
 *     switch (e.kind()) {
 *         case UNSUPPORTED_FORMAT -> upgradeWalship();           // written by a newer walship
 *         case TXID_GAP -> restoreTo(e.expected() - 1);           // the last whole state
 *         default -> alert(e.key(), e.getMessage());              // damaged or foreign
 *     }
 * }
 * }</pre>
 */
public final class BadObjectException extends WalshipException {
    private static final long serialVersionUID = 1L;

    /** Why the object cannot be used. */
    public enum Kind {
        /**
         * Damaged: truncated, bit rot, another magic, lengths out of bounds, or a database
         * checksum that does not match after applying it.
         */
        CORRUPT,
        /** Written in a format version this build does not read (by a newer walship). */
        UNSUPPORTED_FORMAT,
        /** Pages of another size than the database or history it would join: another database's object. */
        PAGE_SIZE_MISMATCH,
        /**
         * The object does not start where the log must continue: a segment is missing, or belongs
         * to another history.
         */
        TXID_GAP;

        /** The name in lower case ({@code txid_gap}), as statuses show it. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Kind kind;
    private final String key;
    private final String reason;
    private final long offset;
    private final long expected;
    private final long found;

    private BadObjectException(Kind kind, String key, String reason, long offset, long expected, long found,
                               String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.key = key;
        this.reason = reason;
        this.offset = offset;
        this.expected = expected;
        this.found = found;
    }

    /** A damaged object ({@link Kind#CORRUPT}); {@code offset} is -1 when the problem concerns the whole object. */
    public static BadObjectException corrupt(String key, String reason, long offset) {
        return corrupt(key, reason, offset, null);
    }

    /** As {@link #corrupt(String, String, long)}, with the failure that revealed it. */
    public static BadObjectException corrupt(String key, String reason, long offset, Throwable cause) {
        return new BadObjectException(Kind.CORRUPT, key, reason, offset, -1, -1,
                "corrupt object: key=" + key + " reason=" + reason + (offset >= 0 ? " offset=" + offset : "")
                        + " (nothing from it was applied; restore from an older snapshot or re-create the object"
                        + " from the primary)", cause);
    }

    /** The object at {@code key} has format version {@code found}, newer than the {@code supported} one. */
    public static BadObjectException unsupportedFormat(String key, int found, int supported) {
        return new BadObjectException(Kind.UNSUPPORTED_FORMAT, key,
                "format version " + found + ", this build reads up to " + supported, -1, supported, found,
                "unsupported format version: key=" + key + " found=" + found + " supported=" + supported
                        + " (written by a newer walship? upgrade this reader)", null);
    }

    /** The object at {@code key} has pages of {@code found} bytes where {@code expected} were required. */
    public static BadObjectException pageSizeMismatch(String key, int expected, int found) {
        return new BadObjectException(Kind.PAGE_SIZE_MISMATCH, key,
                "pages of " + found + " bytes where " + expected + " are required", -1, expected, found,
                "page size mismatch: key=" + key + " expected=" + expected + " actual=" + found
                        + " (the object belongs to another database; check the storage prefix)", null);
    }

    /** The object at {@code key} starts at txid {@code found} where {@code expected} was due. */
    public static BadObjectException txidGap(String key, long expected, long found) {
        return new BadObjectException(Kind.TXID_GAP, key,
                "starts at txid " + found + " where " + expected + " was due", -1, expected, found,
                "txid gap in log: key=" + key + " expected=" + expected + " found=" + found
                        + " (a segment is missing or belongs to another history; restore to txid " + (expected - 1)
                        + " or from a newer snapshot)", null);
    }

    /** Why the object cannot be used. */
    public Kind kind() {
        return kind;
    }

    /** Storage key of the object (or the local path, for a record walship keeps beside a database). */
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

    /**
     * What was required, or -1 for {@link Kind#CORRUPT}: the txid due ({@link Kind#TXID_GAP}), the
     * page size ({@link Kind#PAGE_SIZE_MISMATCH}), or the newest version this build reads
     * ({@link Kind#UNSUPPORTED_FORMAT}).
     */
    public long expected() {
        return expected;
    }

    /** What the object holds instead (txid, page size or format version), or -1 for {@link Kind#CORRUPT}. */
    public long found() {
        return found;
    }
}
