package io.walship.testing;

import io.walship.storage.ForwardingStorage;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Wraps a real {@link Storage} and, per instance, fails or delays a share of its calls. Failed
 * puts may be "lost" (nothing stored) or "landed" (stored, then reported as failed), which is
 * what a timed-out request to S3 looks like.
 */
public final class FaultyStorage extends ForwardingStorage {
    private final Random random;
    private volatile double putFailureRate;
    private volatile double getFailureRate;
    private volatile double landedShare;
    private volatile long maxDelayMillis;
    private final AtomicInteger failNextPuts = new AtomicInteger();
    private final AtomicLong faultsInjected = new AtomicLong();
    private final AtomicLong puts = new AtomicLong();
    private volatile String throwOnPutPrefix;
    private volatile RuntimeException throwOnPut;

    public FaultyStorage(Storage delegate, long seed) {
        super(delegate);
        this.random = new Random(seed);
    }

    /** Fail this share of puts; {@code landedShare} of those failures store the object anyway. */
    public FaultyStorage failPuts(double rate, double landedShare) {
        this.putFailureRate = rate;
        this.landedShare = landedShare;
        return this;
    }

    public FaultyStorage failGets(double rate) {
        this.getFailureRate = rate;
        return this;
    }

    public FaultyStorage delayUpTo(long millis) {
        this.maxDelayMillis = millis;
        return this;
    }

    public FaultyStorage failNextPuts(int count) {
        failNextPuts.set(count);
        return this;
    }

    /**
     * The next put of a key starting with {@code keyPrefix} throws {@code error} as it is: not a
     * StorageException, as a buggy or unmapped storage client would.
     */
    public FaultyStorage throwOnNextPut(String keyPrefix, RuntimeException error) {
        this.throwOnPut = error;
        this.throwOnPutPrefix = keyPrefix;
        return this;
    }

    /** Stops injecting faults. */
    public FaultyStorage heal() {
        putFailureRate = 0;
        getFailureRate = 0;
        maxDelayMillis = 0;
        failNextPuts.set(0);
        return this;
    }

    public long faultsInjected() {
        return faultsInjected.get();
    }

    public long puts() {
        return puts.get();
    }

    private synchronized double nextDouble() {
        return random.nextDouble();
    }

    private void delay() {
        long max = maxDelayMillis;
        if (max > 0) {
            try {
                Thread.sleep((long) (nextDouble() * max));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StorageException("put", "?", true, "interrupted", e);
            }
        }
    }

    @Override
    protected PutResult put(String key, Supplier<PutResult> call) {
        puts.incrementAndGet();
        RuntimeException error = throwOnPut;
        if (error != null && key.startsWith(throwOnPutPrefix)) {
            throwOnPut = null;
            faultsInjected.incrementAndGet();
            throw error;
        }
        delay();
        boolean fail = failNextPuts.getAndUpdate(n -> Math.max(0, n - 1)) > 0 || nextDouble() < putFailureRate;
        if (!fail) {
            return call.get();
        }
        faultsInjected.incrementAndGet();
        if (nextDouble() < landedShare) {
            call.get();
            throw new StorageException("put", key, true, "injected timeout after the object landed", null);
        }
        throw new StorageException("put", key, true, "injected failure", null);
    }

    @Override
    public Optional<byte[]> get(String key) {
        delay();
        if (nextDouble() < getFailureRate) {
            faultsInjected.incrementAndGet();
            throw new StorageException("get", key, true, "injected failure", null);
        }
        return super.get(key);
    }

    @Override
    public String toString() {
        return "faulty:" + delegate();
    }
}
