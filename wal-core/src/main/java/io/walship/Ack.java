package io.walship;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The answer to {@link Primary#write}: the txid the write committed as, the value the work
 * returned, and a future that completes once the segment holding that transaction is stored.
 *
 * <p>{@link #peek()} is available at once: the transaction is committed locally and visible to
 * the primary's readers. {@link #get()} blocks until it is durable in storage. A write that
 * changed nothing gets the txid of the last transaction before it, so waiting on it still means
 * "everything I could see is stored". Thread-safe.
 */
public final class Ack<T> {
    private final long txid;
    private final T value;
    private final CompletableFuture<Long> stored;

    Ack(long txid, T value, CompletableFuture<Long> stored) {
        this.txid = txid;
        this.value = value;
        this.stored = stored;
    }

    /** The txid of the write's last commit. */
    public long txid() {
        return txid;
    }

    /** What the work returned; available before the write is durable. */
    public T peek() {
        return value;
    }

    /** True once the transaction is stored. */
    public boolean isStored() {
        return stored.isDone() && !stored.isCompletedExceptionally();
    }

    /** Completes with the txid when stored, or exceptionally with a {@link WalshipException}. */
    public CompletableFuture<Long> stored() {
        return stored.thenApply(t -> txid);
    }

    /**
     * Waits until the transaction is stored and returns its txid.
     *
     * @throws FencedException    another primary took over storage; the transaction is not stored
     * @throws NotStoredException the primary stopped before storing it
     */
    public long get() throws InterruptedException {
        try {
            stored.get();
            return txid;
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        }
    }

    /** As {@link #get()}, giving up after {@code timeout}. */
    public long get(Duration timeout) throws InterruptedException, TimeoutException {
        try {
            stored.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return txid;
        } catch (ExecutionException e) {
            throw unwrap(e.getCause());
        }
    }

    private static RuntimeException unwrap(Throwable cause) {
        if (cause instanceof CompletionException && cause.getCause() != null) {
            cause = cause.getCause();
        }
        if (cause instanceof RuntimeException) {
            return (RuntimeException) cause;
        }
        return new CompletionException(cause);
    }

    @Override
    public String toString() {
        return "Ack[txid=" + txid + ", stored=" + isStored() + "]";
    }
}
