package io.walship.bench;

import io.walship.storage.ForwardingStorage;
import io.walship.storage.ObjectInfo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/** Counts the requests a primary or replica makes, by kind: what an S3 bill is made of. */
final class CountingStorage extends ForwardingStorage {
    final AtomicLong puts = new AtomicLong();
    final AtomicLong gets = new AtomicLong();
    final AtomicLong lists = new AtomicLong();

    CountingStorage(Storage delegate) {
        super(delegate);
    }

    void reset() {
        puts.set(0);
        gets.set(0);
        lists.set(0);
    }

    @Override
    protected PutResult put(String key, Supplier<PutResult> call) {
        puts.incrementAndGet();
        return call.get();
    }

    @Override
    public Optional<byte[]> get(String key) {
        gets.incrementAndGet();
        return super.get(key);
    }

    @Override
    public Optional<InputStream> open(String key) {
        gets.incrementAndGet();
        return super.open(key);
    }

    @Override
    public Optional<byte[]> getRange(String key, long offset, int length) {
        gets.incrementAndGet();
        return super.getRange(key, offset, length);
    }

    /** Every request counted so far. */
    long requests() {
        return puts.get() + gets.get() + lists.get();
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        lists.incrementAndGet();
        return super.list(prefix);
    }
}
