package io.walship.internal.log;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Storage keys of walship objects: {@code snapshots/<txid>}, {@code log/<first txid>} (a segment
 * as the primary stored it, level 0) and {@code log/<level>/<block start>} (a compacted object,
 * levels 1 to {@value #LEVELS}), each txid as 16 lowercase hex digits so that lexical order is
 * numeric order.
 *
 * <p><b>Levels are txid blocks, not time windows.</b> Level {@code k} cuts the txid line into
 * aligned blocks of {@code 16^k} txids; the level-{@code k} object of a block holds, in one
 * segment, every segment whose first txid lies in the block (so it may end past the block). A
 * reader that needs txid {@code x} therefore knows, by arithmetic alone, the only keys that can
 * hold it: {@code log/<x>} if a segment starts there, else {@code log/<k>/<blockStart(k, x)>}.
 * A follower finds its next transaction with GETs and no listing, even after the small segments
 * were compacted and deleted; and two compactors of one block read the same inputs and write
 * the same bytes. See ADR 0010.
 *
 * <p>A follower that has applied txid {@code t} reads {@code log/<t+1>}; a missing object means
 * it is caught up or, once the small segments are gone, that a compacted object holds it.
 */
public final class ObjectKey {
    private ObjectKey() {
    }

    /** Prefix of every snapshot key. */
    public static final String SNAPSHOT_PREFIX = "snapshots/";
    /** Prefix of every log key: segments and compacted objects. */
    public static final String LOG_PREFIX = "log/";
    private static final int TXID_DIGITS = 16;
    /** Compaction levels above the stored segments; level k blocks are 16^k txids wide. */
    public static final int LEVELS = 5;
    private static final int LEVEL_BITS = 4;

    /** Key of the snapshot at {@code txid}. */
    public static String snapshot(long txid) {
        return SNAPSHOT_PREFIX + hex(txid);
    }

    /** Key of the segment whose first transaction is {@code firstTxid}. */
    public static String segment(long firstTxid) {
        return LOG_PREFIX + hex(firstTxid);
    }

    /** The key of the level-{@code level} object of the block starting at {@code blockStart}. */
    public static String compacted(int level, long blockStart) {
        if (blockStart(level, blockStart) != blockStart) {
            throw new IllegalArgumentException("not a level-" + level + " block start: " + blockStart);
        }
        return LOG_PREFIX + level + "/" + hex(blockStart);
    }

    /** Width in txids of a level-{@code level} block (16^level; level 0 is one txid). */
    public static long blockSize(int level) {
        if (level < 0 || level > LEVELS) {
            throw new IllegalArgumentException("level must be 0.." + LEVELS + ": " + level);
        }
        return 1L << (LEVEL_BITS * level);
    }

    /** First txid of the level-{@code level} block that holds {@code txid}. */
    public static long blockStart(int level, long txid) {
        return txid & -blockSize(level);
    }

    /**
     * The only keys that can hold {@code txid} when it begins a segment (every position a reader
     * stands at does), in the order a reader tries them: the segment {@code log/<txid>}, then the
     * compacted block holding it at each level, highest first. Found by arithmetic, no listing.
     */
    public static List<LogKey> holders(long txid) {
        List<LogKey> keys = new ArrayList<>();
        keys.add(new LogKey(0, txid));
        for (int level = LEVELS; level >= 1; level--) {
            keys.add(new LogKey(level, blockStart(level, txid)));
        }
        return keys;
    }

    /**
     * A log key (segment or compacted object) as its level and start: the first txid for a
     * segment, the block start for a compacted object. Empty for any other key.
     */
    public static Optional<LogKey> parseLog(String key) {
        Optional<Long> segment = parseSegment(key);
        if (segment.isPresent()) {
            return Optional.of(new LogKey(0, segment.get()));
        }
        if (!key.startsWith(LOG_PREFIX) || key.length() != LOG_PREFIX.length() + 2 + TXID_DIGITS
                || key.charAt(LOG_PREFIX.length() + 1) != '/') {
            return Optional.empty();
        }
        int level = Character.digit(key.charAt(LOG_PREFIX.length()), 10);
        if (level < 1 || level > LEVELS) {
            return Optional.empty();
        }
        return parse(key, LOG_PREFIX + level + "/")
                .filter(start -> blockStart(level, start) == start)
                .map(start -> new LogKey(level, start));
    }

    /**
     * Where some log lives: level 0 is the segment starting at {@code start}; a higher level is
     * the compacted object of the block starting at {@code start}, holding every segment that
     * starts in {@code [start, start + blockSize(level))}.
     */
    public record LogKey(int level, long start) implements Comparable<LogKey> {
        public String key() {
            return level == 0 ? segment(start) : compacted(level, start);
        }

        /**
         * First txid after the block (for a segment, its first txid + 1): the object after this
         * one in a chain starts at or after it.
         */
        public long blockEnd() {
            return start + blockSize(level);
        }

        /**
         * The greatest key whose start lies in this block: with {@link #compareTo} order,
         * {@code (this, lastInBlock()]} are the lower-level objects this one holds.
         */
        public LogKey lastInBlock() {
            return new LogKey(0, blockEnd() - 1);
        }

        /** True when {@code txid} is inside this object's block (for level 0: is its first txid). */
        public boolean blockHolds(long txid) {
            return txid >= start && txid < blockEnd();
        }

        /** By start, and at one start the higher level first (it covers the lower). */
        @Override
        public int compareTo(LogKey other) {
            int byStart = Long.compare(start, other.start);
            return byStart != 0 ? byStart : Integer.compare(other.level, level);
        }

        @Override
        public String toString() {
            return key();
        }
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
