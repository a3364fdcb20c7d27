package io.walship.bench;

import io.walship.storage.ForwardingStorage;
import io.walship.storage.ObjectInfo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

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
    public PutResult putIfAbsent(String key, byte[] content) {
        puts.incrementAndGet();
        return super.putIfAbsent(key, content);
    }

    @Override
    public PutResult putIfAbsent(String key, Path file) {
        puts.incrementAndGet();
        return super.putIfAbsent(key, file);
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
    public List<ObjectInfo> list(String prefix) {
        lists.incrementAndGet();
        return super.list(prefix);
    }
}
