package io.walship.encryption;

import io.walship.WalshipException;

/**
 * An encrypted storage and the keys at hand do not go together. Nothing was read from the
 * object or applied. Never holds key material. (An object that fails authentication, tampered
 * or damaged, is a {@link io.walship.BadObjectException} (CORRUPT).)
 */
public final class EncryptionException extends WalshipException {
    private static final long serialVersionUID = 1L;

    /** What does not go together. */
    public enum Kind {
        /** The object is encrypted under a key id the key provider does not hold. */
        UNKNOWN_KEY,
        /** The object is encrypted, and no encryption was configured to read it. */
        NO_KEY,
        /** The object is plaintext in a storage configured for encryption (allowed only for a migration). */
        PLAINTEXT
    }

    private final Kind kind;
    private final String key;
    private final String keyId;

    public EncryptionException(Kind kind, String key, String keyId) {
        super(message(kind, key, keyId));
        this.kind = kind;
        this.key = key;
        this.keyId = keyId;
    }

    private static String message(Kind kind, String key, String keyId) {
        return switch (kind) {
            case UNKNOWN_KEY -> "object encrypted under a key not given: key=" + key + " keyId=" + keyId
                    + " (add that key to the key provider; rotation keeps old keys readable)";
            case NO_KEY -> "object is encrypted and no key was given: key=" + key + " keyId=" + keyId
                    + " (open with encryption: PrimaryOptions/ReplicaOptions.encryption, or --keys-env/--keys-file)";
            case PLAINTEXT -> "plaintext object in a storage configured for encryption: key=" + key
                    + " (refused; Encryption.allowingPlaintext() reads it during a migration)";
        };
    }

    public Kind kind() {
        return kind;
    }

    /** Storage key of the object. */
    public String key() {
        return key;
    }

    /** The key id the object names, or null for a plaintext object. */
    public String keyId() {
        return keyId;
    }
}
