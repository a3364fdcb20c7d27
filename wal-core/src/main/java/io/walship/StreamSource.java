package io.walship;

/**
 * What a {@link StreamServer} needs of a primary, and nothing more: its transactions from a txid
 * on, its stored txid and word when that moves. The server depends on this, not on
 * {@link Primary}, so the arrow goes one way: the primary makes the server (issue #31).
 */
interface StreamSource {
    /** The database's name, for thread names and log lines. */
    String db();

    int pageSize();

    /** The newest txid in storage. */
    long storedTxid();

    /** As {@link Primary#subscribe}: every transaction from {@code fromTxid} on, on a thread of its own. */
    Subscription subscribe(long fromTxid, TransactionSubscriber subscriber);

    /** Runs {@code listener} whenever the stored txid moves, until removed. */
    void onStored(Runnable listener);

    void removeOnStored(Runnable listener);
}
