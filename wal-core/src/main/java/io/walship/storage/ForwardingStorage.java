package io.walship.storage;

import java.io.Closeable;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A {@link Storage} that hands every call to another one: extend it and override the calls to
 * observe or change (count requests, trace them, inject faults in a test). Both
 * {@code putIfAbsent} variants pass through {@link #put}, so one override sees every write.
 * {@code toString} and {@code close} forward too.
 */
public abstract class ForwardingStorage implements Storage {
    private final Storage delegate;

    /** Forwards every call to {@code delegate} until a subclass overrides it. */
    protected ForwardingStorage(Storage delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** The storage calls are handed to. */
    protected final Storage delegate() {
        return delegate;
    }

    /** Every put, of bytes or of a file, runs through here; {@code call} performs it on the delegate. */
    protected PutResult put(String key, Supplier<PutResult> call) {
        return call.get();
    }

    @Override
    public PutResult putIfAbsent(String key, byte[] content) {
        return put(key, () -> delegate.putIfAbsent(key, content));
    }

    @Override
    public PutResult putIfAbsent(String key, Path file) {
        return put(key, () -> delegate.putIfAbsent(key, file));
    }

    @Override
    public Optional<byte[]> get(String key) {
        return delegate.get(key);
    }

    @Override
    public Optional<InputStream> open(String key) {
        return delegate.open(key);
    }

    @Override
    public Optional<byte[]> getRange(String key, long offset, int length) {
        return delegate.getRange(key, offset, length);
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        return delegate.list(prefix);
    }

    @Override
    public void delete(String key) {
        delegate.delete(key);
    }

    @Override
    public void deleteAll(Collection<String> keys) {
        delegate.deleteAll(keys);
    }

    @Override
    public Optional<Closeable> watch(String prefix, Runnable onChange) {
        return delegate.watch(prefix, onChange);
    }

    @Override
    public void close() {
        delegate.close();
    }

    @Override
    public String toString() {
        return delegate.toString();
    }
}
