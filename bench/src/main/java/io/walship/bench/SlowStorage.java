package io.walship.bench;

import io.walship.storage.ForwardingStorage;
import io.walship.storage.ObjectInfo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import java.io.InputStream;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Storage with a fixed delay added to every request, once {@link #latencyMillis} is set: a
 * round trip to S3 as the primary and the restore see it, on local disk.
 */
class SlowStorage extends ForwardingStorage {
    volatile long latencyMillis;

    SlowStorage(Storage delegate, long latencyMillis) {
        super(delegate);
        this.latencyMillis = latencyMillis;
    }

    void delay() {
        if (latencyMillis > 0) {
            try {
                Thread.sleep(latencyMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    protected PutResult put(String key, Supplier<PutResult> call) {
        delay();
        return call.get();
    }

    @Override
    public Optional<byte[]> get(String key) {
        delay();
        return super.get(key);
    }

    @Override
    public Optional<InputStream> open(String key) {
        delay();
        return super.open(key);
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        delay();
        return super.list(prefix);
    }

    @Override
    public void delete(String key) {
        delay();
        super.delete(key);
    }

    @Override
    public void deleteAll(Collection<String> keys) {
        delay();
        super.deleteAll(keys);
    }
}
