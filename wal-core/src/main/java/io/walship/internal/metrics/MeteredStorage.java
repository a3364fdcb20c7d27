package io.walship.internal.metrics;

import io.walship.metrics.WalshipMeter;
import io.walship.storage.ForwardingStorage;
import io.walship.storage.ObjectInfo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import java.io.InputStream;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Times every storage call into {@link WalshipMeter#STORAGE_REQUESTS}, tagged with the operation
 * and its outcome: {@code ok}, {@code exists} (a create-only put found the key taken),
 * {@code missing} (a read found nothing), the {@link StorageException.Kind} in lower case, or
 * {@code error} for anything else. A stream's reading is not timed, only its opening.
 */
public final class MeteredStorage extends ForwardingStorage {
    private final Metrics metrics;

    private MeteredStorage(Storage delegate, Metrics metrics) {
        super(delegate);
        this.metrics = metrics;
    }

    /** {@code storage} itself when nothing records, else a timing wrapper. */
    public static Storage wrap(Storage storage, Metrics metrics) {
        return metrics == Metrics.NONE ? storage : new MeteredStorage(storage, metrics);
    }

    @Override
    protected PutResult put(String key, Supplier<PutResult> call) {
        return timed("put", call, r -> r == PutResult.CREATED ? "ok" : "exists");
    }

    @Override
    public Optional<byte[]> get(String key) {
        return timed("get", () -> super.get(key), r -> r.isPresent() ? "ok" : "missing");
    }

    @Override
    public Optional<InputStream> open(String key) {
        return timed("open", () -> super.open(key), r -> r.isPresent() ? "ok" : "missing");
    }

    @Override
    public Optional<byte[]> getRange(String key, long offset, int length) {
        return timed("get_range", () -> super.getRange(key, offset, length), r -> r.isPresent() ? "ok" : "missing");
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        return timed("list", () -> super.list(prefix), r -> "ok");
    }

    @Override
    public void delete(String key) {
        timed("delete", () -> {
            super.delete(key);
            return null;
        }, r -> "ok");
    }

    @Override
    public void deleteAll(Collection<String> keys) {
        timed("delete_batch", () -> {
            super.deleteAll(keys);
            return null;
        }, r -> "ok");
    }

    private interface Outcome<T> {
        String of(T result);
    }

    private <T> T timed(String operation, Supplier<T> call, Outcome<T> outcome) {
        long started = System.nanoTime();
        String tag = "error";
        try {
            T result = call.get();
            tag = outcome.of(result);
            return result;
        } catch (StorageException e) {
            tag = e.kind().label();
            throw e;
        } finally {
            metrics.timer(WalshipMeter.STORAGE_REQUESTS, "operation", operation, "outcome", tag)
                    .recordSince(started);
        }
    }
}
