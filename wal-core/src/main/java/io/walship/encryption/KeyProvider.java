package io.walship.encryption;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Where the keys of an encrypted storage come from: one key to write with, any number to read
 * with, each known by an id written in the clear in every object it encrypted. Rotation adds a
 * key and makes it current; objects under the older ones stay readable while they are listed
 * here, and compaction and new snapshots re-encrypt history under the current key over time.
 *
 * <p>A service implements this over its KMS or Vault (unwrapping data keys once, at start); the
 * CLI reads {@link #parse keys} from an environment variable or a file. Implementations must be
 * thread-safe and must never log or print key bytes.
 */
public interface KeyProvider {
    /** Key ids: 1 to 64 characters of {@code [A-Za-z0-9._-]}, stored in the clear. */
    Pattern KEY_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    /** The id of the key new objects are encrypted with; {@link #key} must return it. */
    String currentKeyId();

    /** The 32-byte AES-256 key of {@code keyId}, or empty when this provider does not hold it. */
    Optional<byte[]> key(String keyId);

    /**
     * Keys given as text: {@code id:base64,id:base64,...}, the first one current. Each key is 32
     * random bytes in base64 (e.g. {@code head -c 32 /dev/urandom | base64}).
     *
     * @throws IllegalArgumentException the text is not in that form; the message never holds key material
     */
    static KeyProvider parse(String keys) {
        Map<String, byte[]> byId = new LinkedHashMap<>();
        for (String entry : keys.strip().split("\\s*,\\s*")) {
            int colon = entry.indexOf(':');
            String id = colon < 0 ? "" : entry.substring(0, colon);
            if (!KEY_ID.matcher(id).matches()) {
                throw new IllegalArgumentException("keys are id:base64 pairs separated by commas, the first current;"
                        + " an id is 1-64 of [A-Za-z0-9._-] (entry " + (byId.size() + 1) + " has none)");
            }
            byte[] key;
            try {
                key = Base64.getDecoder().decode(entry.substring(colon + 1).strip());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("key " + id + " is not base64");
            }
            if (key.length != 32) {
                throw new IllegalArgumentException("key " + id + " has " + key.length + " bytes; AES-256 needs 32"
                        + " (head -c 32 /dev/urandom | base64)");
            }
            if (byId.put(id, key) != null) {
                throw new IllegalArgumentException("key id " + id + " is given twice");
            }
        }
        return of(byId);
    }

    /** As {@link #parse}, from a file holding that text (trailing newlines ignored). */
    static KeyProvider fromFile(Path file) {
        try {
            return parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the key file " + file, e);
        }
    }

    /** As {@link #parse}, from the environment variable {@code name}. */
    static KeyProvider fromEnvironment(String name) {
        String value = System.getenv(name);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("the environment variable " + name + " holding the keys is not set");
        }
        return parse(value);
    }

    /** Fixed keys by id, the first in iteration order current (a LinkedHashMap keeps the order given). */
    static KeyProvider of(Map<String, byte[]> keys) {
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("no key given");
        }
        Map<String, byte[]> copy = new LinkedHashMap<>();
        keys.forEach((id, key) -> {
            if (!KEY_ID.matcher(id).matches() || key.length != 32) {
                throw new IllegalArgumentException("key " + id + ": ids are 1-64 of [A-Za-z0-9._-], keys 32 bytes");
            }
            copy.put(id, key.clone());
        });
        String current = copy.keySet().iterator().next();
        return new KeyProvider() {
            @Override
            public String currentKeyId() {
                return current;
            }

            @Override
            public Optional<byte[]> key(String keyId) {
                byte[] key = copy.get(keyId);
                return key == null ? Optional.empty() : Optional.of(key.clone());
            }

            @Override
            public String toString() {
                return "KeyProvider[current=" + current + ", ids=" + copy.keySet() + "]"; // ids only, never keys
            }
        };
    }
}
