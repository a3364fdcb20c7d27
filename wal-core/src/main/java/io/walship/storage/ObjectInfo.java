package io.walship.storage;

import java.time.Instant;
import java.util.Objects;

/** A listed object: its key (relative to the storage's root or prefix), size and time of creation. */
public record ObjectInfo(String key, long size, Instant lastModified) {
    public ObjectInfo {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(lastModified, "lastModified");
    }
}
