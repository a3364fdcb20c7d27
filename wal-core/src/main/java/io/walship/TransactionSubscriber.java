package io.walship;

/**
 * Receives a primary's transactions in txid order, each once, on the subscription's own thread:
 * see {@link Primary#subscribe}.
 */
public interface TransactionSubscriber {
    /**
     * One transaction. Throwing ends the subscription ({@link SubscriptionEndedException.Reason#SUBSCRIBER_FAILED},
     * next txid this one).
     */
    void onTransaction(StreamedTransaction transaction) throws Exception;

    /** The subscription ended: why, and the txid to subscribe from again. Called once, last. */
    default void onEnd(SubscriptionEndedException end) {
    }
}
