package io.walship;

/**
 * The txids {@code first..last}, both included: a range storage can restore (every txid in it,
 * from a snapshot and the log after it), or a hole between two such ranges.
 */
public record TxidRange(long first, long last) {
    public TxidRange {
        if (first > last) {
            throw new IllegalArgumentException("empty range: " + first + ".." + last);
        }
    }

    @Override
    public String toString() {
        return first + ".." + last;
    }
}
