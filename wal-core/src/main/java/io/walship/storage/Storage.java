package io.walship.storage;

import java.io.Closeable;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Durable object storage: a flat namespace of immutable objects under string keys.
 *
 * <p>Storage is walship's source of truth. An implementation must make every write
 * <b>create-only and atomic</b>: {@code putIfAbsent} either creates the whole object or leaves
 * storage unchanged, and of several concurrent creators of one key exactly one gets
 * {@link PutResult#CREATED}. This is what fences a second primary. Once {@code putIfAbsent}
 * returns {@code CREATED}, the object must survive a crash of this process and of the machine.
 *
 * <p>Keys use {@code /} as separator and contain only {@code [a-z0-9/._-]}. Implementations are
 * thread-safe. Failures are reported as {@link StorageException}; a missing object is
 * {@link Optional#empty()}, not an error.
 */
public interface Storage extends Closeable {

    /** Creates {@code key} with {@code content} unless it exists. */
    PutResult putIfAbsent(String key, byte[] content);

    /** Creates {@code key} with the bytes of {@code file}, streamed, unless it exists. */
    PutResult putIfAbsent(String key, Path file);

    /** Reads a whole object; meant for objects that fit in memory (segments). */
    Optional<byte[]> get(String key);

    /** Opens an object for streaming (snapshots). The caller closes the stream. */
    Optional<InputStream> open(String key);

    /** Every object whose key starts with {@code prefix}, ordered by key. Reads all pages. */
    List<ObjectInfo> list(String prefix);

    /** Deletes an object; deleting a missing key is not an error. */
    void delete(String key);

    /** Where this storage points, safe to log (no credentials). */
    @Override
    String toString();

    @Override
    default void close() {
    }
}
