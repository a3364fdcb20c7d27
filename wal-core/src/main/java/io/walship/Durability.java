package io.walship;

/** When a primary uploads the transactions it captured. */
public enum Durability {
    /**
     * Upload as soon as the previous upload finished, packing every transaction that committed
     * meanwhile into one segment (group commit). An acknowledged write is in storage: zero loss.
     */
    DURABLE,
    /**
     * Upload every flush interval or once enough bytes are pending, whichever comes first.
     * Fewer, larger segments; a crash loses at most the transactions of one interval, which
     * were never acknowledged as durable. While nobody subscribes to the live stream, commits
     * are also captured from the WAL in batches, up to 1 ms after they commit.
     */
    ASYNC
}
