package io.walship.testing;

import io.walship.storage.ForwardingStorage;
import io.walship.storage.ObjectInfo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import java.io.InputStream;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/** Counts every request made to a storage, and fails the puts under one prefix while asked to. */
public final class CountingStorage extends ForwardingStorage {
    public final AtomicLong requests = new AtomicLong();
    public volatile String failPutsUnder = "";

    public CountingStorage(Storage delegate) {
        super(delegate);
    }

    /** Writes past the counting and the faults: another process's object. */
    public void rawPut(String key, byte[] content) {
        delegate().putIfAbsent(key, content);
    }

    @Override
    protected PutResult put(String key, Supplier<PutResult> call) {
        requests.incrementAndGet();
        if (!failPutsUnder.isEmpty() && key.startsWith(failPutsUnder)) {
            throw new StorageException("put", key, StorageException.Kind.IO, "injected: storage down", null);
        }
        return call.get();
    }

    @Override
    public Optional<byte[]> get(String key) {
        requests.incrementAndGet();
        return super.get(key);
    }

    @Override
    public Optional<InputStream> open(String key) {
        requests.incrementAndGet();
        return super.open(key);
    }

    @Override
    public Optional<byte[]> getRange(String key, long offset, int length) {
        requests.incrementAndGet();
        return super.getRange(key, offset, length);
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        requests.incrementAndGet();
        return super.list(prefix);
    }

    @Override
    public void delete(String key) {
        requests.incrementAndGet();
        super.delete(key);
    }
}
