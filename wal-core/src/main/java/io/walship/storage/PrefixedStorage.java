package io.walship.storage;

import java.io.Closeable;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The part of a storage under one prefix, seen as a storage of its own: {@link Storage#under}.
 * Keys are relative to the prefix both ways; closing the view leaves the storage open.
 */
final class PrefixedStorage implements Storage {
    private final Storage root;
    /** Ends with '/'. */
    private final String prefix;

    PrefixedStorage(Storage root, String prefix) {
        this.root = root;
        this.prefix = Storage.checkKey(prefix) + "/";
    }

    private String full(String key) {
        return prefix + Storage.checkKey(key);
    }

    @Override
    public PutResult putIfAbsent(String key, byte[] content) {
        return root.putIfAbsent(full(key), content);
    }

    @Override
    public PutResult putIfAbsent(String key, Path file) {
        return root.putIfAbsent(full(key), file);
    }

    @Override
    public Optional<byte[]> get(String key) {
        return root.get(full(key));
    }

    @Override
    public Optional<InputStream> open(String key) {
        return root.open(full(key));
    }

    @Override
    public Optional<byte[]> getRange(String key, long offset, int length) {
        return root.getRange(full(key), offset, length);
    }

    @Override
    public List<ObjectInfo> list(String listPrefix) {
        return root.list(prefix + listPrefix).stream()
                .map(o -> new ObjectInfo(o.key().substring(prefix.length()), o.size(), o.lastModified()))
                .toList();
    }

    @Override
    public void delete(String key) {
        root.delete(full(key));
    }

    @Override
    public void deleteAll(Collection<String> keys) {
        root.deleteAll(keys.stream().map(this::full).toList());
    }

    @Override
    public Optional<Closeable> watch(String watchPrefix, Runnable onChange) {
        return root.watch(prefix + watchPrefix, onChange);
    }

    @Override
    public String toString() {
        return root + " under " + prefix;
    }
}
