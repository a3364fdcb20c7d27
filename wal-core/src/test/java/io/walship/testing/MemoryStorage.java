package io.walship.testing;

import io.walship.storage.ObjectInfo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

/** A complete in-memory {@link Storage} for tests: create-only, thread-safe, ordered listing. */
public final class MemoryStorage implements Storage {
    private record Entry(byte[] bytes, Instant created) {
    }

    private final ConcurrentSkipListMap<String, Entry> objects = new ConcurrentSkipListMap<>();
    private final InstantSource clock;

    public MemoryStorage() {
        this(InstantSource.system());
    }

    /** Storage whose objects are stamped by {@code clock}: for simulated weeks with a {@link ManualClock}. */
    public MemoryStorage(InstantSource clock) {
        this.clock = clock;
    }

    @Override
    public PutResult putIfAbsent(String key, byte[] content) {
        Storage.checkKey(key);
        return objects.putIfAbsent(key, new Entry(content.clone(), clock.instant())) == null
                ? PutResult.CREATED : PutResult.ALREADY_EXISTS;
    }

    @Override
    public PutResult putIfAbsent(String key, Path file) {
        try {
            return putIfAbsent(key, Files.readAllBytes(file));
        } catch (IOException e) {
            throw new StorageException("put", key, true, e.toString(), e);
        }
    }

    @Override
    public Optional<byte[]> get(String key) {
        Entry e = objects.get(Storage.checkKey(key));
        return e == null ? Optional.empty() : Optional.of(e.bytes.clone());
    }

    @Override
    public Optional<InputStream> open(String key) {
        return get(key).map(ByteArrayInputStream::new);
    }

    @Override
    public List<ObjectInfo> list(String prefix) {
        List<ObjectInfo> result = new ArrayList<>();
        for (Map.Entry<String, Entry> e : objects.tailMap(prefix).entrySet()) {
            if (!e.getKey().startsWith(prefix)) {
                break;
            }
            result.add(new ObjectInfo(e.getKey(), e.getValue().bytes.length, e.getValue().created));
        }
        return result;
    }

    @Override
    public void delete(String key) {
        objects.remove(key);
    }

    /** Replaces an object's bytes, bypassing create-only: for corruption tests. */
    public void overwrite(String key, byte[] bytes) {
        objects.put(key, new Entry(bytes.clone(), clock.instant()));
    }

    public int size() {
        return objects.size();
    }

    @Override
    public String toString() {
        return "memory:" + Integer.toHexString(System.identityHashCode(this));
    }
}
