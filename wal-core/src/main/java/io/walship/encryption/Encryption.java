package io.walship.encryption;

import io.walship.internal.encryption.EncryptingStorage;
import io.walship.storage.Storage;
import java.util.Objects;

/**
 * Client-side encryption of everything walship stores: each object (segment, snapshot, compacted
 * segment) is compressed first, then sealed with AES-256-GCM under the key provider's current
 * key, in chunks so that a header can still be read with a range request. The object's name and
 * the envelope header are authenticated, so an object cannot be swapped for another, renamed or
 * truncated without the reader noticing. See docs/SECURITY.md and the envelope in docs/FORMAT.md.
 *
 * <pre>{@code
 * Encryption encryption = Encryption.with(KeyProvider.fromEnvironment("WALSHIP_KEYS"));
 * Primary primary = Primary.open(storage, path, PrimaryOptions.durable().toBuilder().encryption(encryption).build());
 * Restore.run(encryption.wrap(storage), target, RestoreTarget.latest());
 * }</pre>
 *
 * Immutable and thread-safe.
 */
public final class Encryption {
    private final KeyProvider keys;
    private final boolean allowPlaintext;

    private Encryption(KeyProvider keys, boolean allowPlaintext) {
        this.keys = keys;
        this.allowPlaintext = allowPlaintext;
    }

    /** Encrypts with the provider's current key and reads what any of its keys encrypted. */
    public static Encryption with(KeyProvider keys) {
        KeyProvider provider = Objects.requireNonNull(keys, "keys");
        String current = provider.currentKeyId();
        if (current == null || !KeyProvider.KEY_ID.matcher(current).matches() || provider.key(current).isEmpty()) {
            throw new IllegalArgumentException("the key provider's current key id " + current
                    + " is not a valid id, or has no key");
        }
        return new Encryption(provider, false);
    }

    /**
     * As this, also reading plaintext objects: only to move an existing storage to encryption
     * (the primary writes encrypted objects from then on, and compaction re-writes history).
     * Everything written is encrypted either way.
     */
    public Encryption allowingPlaintext() {
        return new Encryption(keys, true);
    }

    public KeyProvider keys() {
        return keys;
    }

    /** Whether plaintext objects are read (a migration) instead of refused. */
    public boolean allowsPlaintext() {
        return allowPlaintext;
    }

    /**
     * {@code storage} seen through this encryption: what is put is encrypted, what is read decrypted.
     *
     * @throws IllegalArgumentException {@code storage} is already encrypted: give the encryption once,
     *     by wrapping the storage or in the primary's or replica's options, not both (sealed twice,
     *     objects would open only through two layers, never for a reader given the keys once)
     */
    public Storage wrap(Storage storage) {
        if (storage instanceof EncryptingStorage) {
            throw new IllegalArgumentException("storage " + storage + " is already encrypted: give the encryption"
                    + " once, either Encryption.wrap(storage) or PrimaryOptions/ReplicaOptions.encryption, not both");
        }
        return new EncryptingStorage(storage, keys, allowPlaintext);
    }

    @Override
    public String toString() {
        return "Encryption[AES-256-GCM, " + keys + (allowPlaintext ? ", plaintext readable" : "") + "]";
    }
}
