package io.walship;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongFunction;

/**
 * Futures of transactions waiting to be stored, completed in txid order as segments are stored.
 * Once failed (fenced, closed), every waiting and every later future fails the same way.
 */
final class AckRegistry {
    private final TreeMap<Long, CompletableFuture<Long>> waiting = new TreeMap<>();
    private long storedTxid;
    private LongFunction<RuntimeException> failure;

    AckRegistry(long storedTxid) {
        this.storedTxid = storedTxid;
    }

    synchronized CompletableFuture<Long> futureFor(long txid) {
        if (txid <= storedTxid) {
            return CompletableFuture.completedFuture(txid);
        }
        if (failure != null) {
            return CompletableFuture.failedFuture(failure.apply(txid));
        }
        return waiting.computeIfAbsent(txid, t -> new CompletableFuture<>());
    }

    void stored(long txid) {
        Map<Long, CompletableFuture<Long>> done;
        synchronized (this) {
            storedTxid = Math.max(storedTxid, txid);
            Map<Long, CompletableFuture<Long>> head = waiting.headMap(txid, true);
            done = new TreeMap<>(head);
            head.clear();
        }
        done.forEach((t, future) -> future.complete(t));
    }

    /** Fails every waiting future, and every later one, with the exception made for its txid. */
    void fail(LongFunction<RuntimeException> cause) {
        Map<Long, CompletableFuture<Long>> failed;
        synchronized (this) {
            if (failure == null) {
                failure = cause;
            }
            failed = new TreeMap<>(waiting);
            waiting.clear();
        }
        failed.forEach((t, future) -> future.completeExceptionally(cause.apply(t)));
    }

    synchronized long storedTxid() {
        return storedTxid;
    }
}
