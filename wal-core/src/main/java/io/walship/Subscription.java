package io.walship;

/** A running {@link Primary#subscribe subscription}; close it to stop deliveries. */
public interface Subscription extends AutoCloseable {
    /** The txid the next delivery will carry (after the last one delivered). */
    long nextTxid();

    /** Whether deliveries go on. */
    boolean isOpen();

    /**
     * Stops deliveries: a delivery running finishes, then the subscriber's {@code onEnd} is
     * called with {@link SubscriptionEndedException.Reason#CANCELLED}. Waits for that.
     */
    @Override
    void close();
}
