package io.walship.storage;

import java.io.Closeable;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Durable object storage: a flat namespace of immutable objects under string keys.
 *
 * <p>Storage is walship's source of truth. An implementation must make every write
 * <b>create-only and atomic</b>: {@code putIfAbsent} either creates the whole object or leaves
 * storage unchanged, and of several concurrent creators of one key exactly one gets
 * {@link PutResult#CREATED}. This is what fences a second primary. Once {@code putIfAbsent}
 * returns {@code CREATED}, the object must survive a crash of this process and of the machine.
 *
 * <p>Keys follow {@link #KEY}; implementations check them with {@link #checkKey}. Implementations are
 * thread-safe. Failures are reported as {@link StorageException}; a missing object is
 * {@link Optional#empty()}, not an error.
 */
public interface Storage extends Closeable {
    /** What a key may look like: lowercase segments of {@code [a-z0-9._-]} joined by {@code /}. */
    Pattern KEY = Pattern.compile("[a-z0-9_-][a-z0-9._-]*(/[a-z0-9_-][a-z0-9._-]*)*");

    /**
     * Returns {@code key} if it is a valid key, else throws {@link IllegalArgumentException}.
     * Implementations call it on every key they receive.
     */
    static String checkKey(String key) {
        if (key == null || !KEY.matcher(key).matches()) {
            throw new IllegalArgumentException("invalid storage key: " + key
                    + " (expected lowercase segments of [a-z0-9._-] separated by '/', none starting with '.')");
        }
        return key;
    }

    /** Creates {@code key} with {@code content} unless it exists. */
    PutResult putIfAbsent(String key, byte[] content);

    /** Creates {@code key} with the bytes of {@code file}, streamed, unless it exists. */
    PutResult putIfAbsent(String key, Path file);

    /** Reads a whole object; meant for objects that fit in memory (segments). */
    Optional<byte[]> get(String key);

    /** Opens an object for streaming (snapshots). The caller closes the stream. */
    Optional<InputStream> open(String key);

    /**
     * Reads up to {@code length} bytes of an object from {@code offset}: fewer when it ends first,
     * none when {@code offset} is at or past its end; empty when the object does not exist. What
     * planners use to read many objects' headers: stores with ranged reads override it with one
     * small request (S3: a ranged GET); the default opens the object and reads the bytes asked for.
     */
    default Optional<byte[]> getRange(String key, long offset, int length) {
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("offset and length must be >= 0: " + offset + ", " + length);
        }
        Optional<InputStream> stream = open(key);
        if (stream.isEmpty()) {
            return Optional.empty();
        }
        try (InputStream in = stream.get()) {
            in.skipNBytes(Math.min(offset, Long.MAX_VALUE));
            return Optional.of(in.readNBytes(length));
        } catch (java.io.EOFException e) {
            return Optional.of(new byte[0]);
        } catch (java.io.IOException e) {
            throw new StorageException("get", key, true, e.toString(), e);
        }
    }

    /** Every object whose key starts with {@code prefix}, ordered by key. Reads all pages. */
    List<ObjectInfo> list(String prefix);

    /** Deletes an object; deleting a missing key is not an error. */
    void delete(String key);

    /**
     * Deletes several objects; missing keys are not an error. Not atomic: after a failure some
     * may be gone. Stores with a batch call override it (S3: DeleteObjects, 1,000 keys a request).
     */
    default void deleteAll(Collection<String> keys) {
        for (String key : keys) {
            delete(key);
        }
    }

    /**
     * Asks to be told when objects under {@code prefix} may have been created, sooner than
     * polling would notice: {@code onChange} runs on a thread of the storage's, possibly for
     * changes that turn out to be nothing new, and never instead of polling (a missed event costs
     * one poll interval, nothing more). Storage that cannot tell returns empty, the default; file
     * storage watches its directories. Close the returned handle to stop.
     */
    default Optional<Closeable> watch(String prefix, Runnable onChange) {
        return Optional.empty();
    }

    /**
     * The objects under {@code prefix} (a key: {@code tenant-42}, {@code eu/tenant-42}) as a
     * storage of their own, sharing this one's client and connections: keys are relative to the
     * prefix, and closing the view leaves this storage open. How one storage root holds many
     * databases ({@link io.walship.Walship}).
     */
    default Storage under(String prefix) {
        return new PrefixedStorage(this, prefix);
    }

    /** Where this storage points, safe to log (no credentials). */
    @Override
    String toString();

    @Override
    default void close() {
    }
}
