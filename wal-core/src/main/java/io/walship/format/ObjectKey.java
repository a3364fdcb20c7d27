package io.walship.format;

import java.util.Optional;

/**
 * Storage keys of walship objects: {@code snapshots/<txid>} and {@code log/<first txid>}, each
 * txid as 16 lowercase hex digits so that lexical order is numeric order.
 *
 * <p>A follower that has applied txid {@code t} reads {@code log/<t+1>}; a missing object means
 * it is caught up. No listing is needed on that path.
 */
public final class ObjectKey {
    private ObjectKey() {
    }

    public static final String SNAPSHOT_PREFIX = "snapshots/";
    public static final String LOG_PREFIX = "log/";
    private static final int TXID_DIGITS = 16;

    public static String snapshot(long txid) {
        return SNAPSHOT_PREFIX + hex(txid);
    }

    public static String segment(long firstTxid) {
        return LOG_PREFIX + hex(firstTxid);
    }

    /** The txid of a snapshot key, or empty when the key is not a well-formed snapshot key. */
    public static Optional<Long> parseSnapshot(String key) {
        return parse(key, SNAPSHOT_PREFIX);
    }

    /** The first txid of a segment key, or empty when the key is not a well-formed segment key. */
    public static Optional<Long> parseSegment(String key) {
        return parse(key, LOG_PREFIX);
    }

    private static String hex(long txid) {
        if (txid < 0) {
            throw new IllegalArgumentException("txid must be >= 0: " + txid);
        }
        String digits = Long.toHexString(txid);
        return "0".repeat(TXID_DIGITS - digits.length()) + digits;
    }

    private static Optional<Long> parse(String key, String prefix) {
        if (!key.startsWith(prefix) || key.length() != prefix.length() + TXID_DIGITS) {
            return Optional.empty();
        }
        long value = 0;
        for (int i = prefix.length(); i < key.length(); i++) {
            int digit = Character.digit(key.charAt(i), 16);
            if (digit < 0 || Character.isUpperCase(key.charAt(i))) {
                return Optional.empty();
            }
            value = (value << 4) | digit;
        }
        return value < 0 ? Optional.empty() : Optional.of(value);
    }
}
