package io.walship;

import io.walship.internal.metrics.Metrics;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongFunction;

/**
 * Futures of transactions waiting to be stored, completed in txid order as segments are stored.
 * Once failed (fenced, closed), every waiting and every later future fails the same way. Times
 * each from the moment it was first asked for (write returning its Ack) to its completion.
 */
final class AckRegistry {
    private record Waiting(CompletableFuture<Long> future, long sinceNanos) {
    }

    private final TreeMap<Long, Waiting> waiting = new TreeMap<>();
    private final Metrics.Timer latency;
    private long storedTxid;
    private LongFunction<RuntimeException> failure;

    AckRegistry(long storedTxid, Metrics.Timer latency) {
        this.storedTxid = storedTxid;
        this.latency = latency;
    }

    synchronized CompletableFuture<Long> futureFor(long txid) {
        if (txid <= storedTxid) {
            return CompletableFuture.completedFuture(txid);
        }
        if (failure != null) {
            return CompletableFuture.failedFuture(failure.apply(txid));
        }
        return waiting.computeIfAbsent(txid, t -> new Waiting(new CompletableFuture<>(), System.nanoTime())).future();
    }

    /**
     * Completes the futures up to {@code txid}; returns how many of them somebody was waiting on
     * (a thread blocked in {@link Ack#get()}, or a stage chained to {@link Ack#stored()}): the
     * writers this ack releases, for the flusher's group commit.
     */
    int stored(long txid) {
        Map<Long, Waiting> done;
        synchronized (this) {
            storedTxid = Math.max(storedTxid, txid);
            Map<Long, Waiting> head = waiting.headMap(txid, true);
            done = new TreeMap<>(head);
            head.clear();
        }
        long now = System.nanoTime();
        int awaited = 0;
        for (Map.Entry<Long, Waiting> e : done.entrySet()) {
            CompletableFuture<Long> future = e.getValue().future();
            if (future.getNumberOfDependents() > 0) {
                awaited++;
            }
            latency.record(now - e.getValue().sinceNanos());
            future.complete(e.getKey());
        }
        return awaited;
    }

    /** Fails every waiting future, and every later one, with the exception made for its txid. */
    void fail(LongFunction<RuntimeException> cause) {
        Map<Long, Waiting> failed;
        synchronized (this) {
            if (failure == null) {
                failure = cause;
            }
            failed = new TreeMap<>(waiting);
            waiting.clear();
        }
        failed.forEach((t, w) -> w.future().completeExceptionally(cause.apply(t)));
    }

    synchronized long storedTxid() {
        return storedTxid;
    }

    /** How long the oldest waiting future has waited, in nanoseconds; 0 when none waits. */
    synchronized long oldestWaitNanos() {
        return waiting.isEmpty() ? 0 : System.nanoTime() - waiting.firstEntry().getValue().sinceNanos();
    }
}
