package io.walship.internal.encryption;

import io.walship.BadObjectException;
import io.walship.encryption.EncryptionException;
import io.walship.encryption.KeyProvider;
import io.walship.internal.log.FormatLayout;
import io.walship.internal.log.ObjectHeader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The encrypted envelope of one stored object (layout in {@link FormatLayout}, ENVELOPE_*): its
 * header, its own key, and the sealing and opening of its chunks. Not thread-safe: one object.
 */
final class Envelope {
    /*
     * Each object gets its own AES key, derived with HKDF-SHA256 from the named key, a random
     * 32-byte salt and the object's storage key: the nonces of its chunks can then simply count
     * (prefix | index | last), with no birthday bound across the millions of objects one key
     * seals over the years, and an object copied under another name does not open. The whole
     * header is each chunk's associated data, so key id, chunk size, salt and version cannot be
     * changed either. The last chunk says so in its nonce: an object cut at a chunk boundary, or
     * given an extra chunk, fails authentication like a flipped bit.
     */
    static final int HEADER = FormatLayout.ENVELOPE_HEADER_SIZE;
    static final int TAG = FormatLayout.ENVELOPE_TAG_BYTES;
    /** The JCA name of AES-GCM, no padding (the chunks are a stream cipher's). */
    static final String TRANSFORMATION = "AES/GCM/NoPadding";
    private static final SecureRandom RANDOM = new SecureRandom();

    final String objectKey;
    final byte[] header;
    final int chunkSize;
    private final SecretKeySpec key;
    private final Cipher cipher;

    private Envelope(String objectKey, byte[] header, int chunkSize, byte[] masterKey) {
        this.objectKey = objectKey;
        this.header = header;
        this.chunkSize = chunkSize;
        byte[] salt = Arrays.copyOfRange(header, FormatLayout.ENVELOPE_SALT_OFFSET,
                FormatLayout.ENVELOPE_SALT_OFFSET + FormatLayout.ENVELOPE_SALT_BYTES);
        this.key = new SecretKeySpec(hkdf(masterKey, salt,
                (FormatLayout.ENVELOPE_KEY_INFO + objectKey).getBytes(StandardCharsets.UTF_8)), "AES");
        Arrays.fill(masterKey, (byte) 0);
        try {
            this.cipher = Cipher.getInstance(TRANSFORMATION);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no AES/GCM", e);
        }
    }

    /** A new envelope for {@code objectKey} under the provider's current key: fresh salt and nonce prefix. */
    static Envelope seal(String objectKey, KeyProvider keys) {
        String keyId = keys.currentKeyId();
        byte[] id = keyId.getBytes(StandardCharsets.UTF_8);
        byte[] header = new byte[HEADER];
        ByteBuffer b = ByteBuffer.wrap(header);
        b.putInt(FormatLayout.ENVELOPE_MAGIC_OFFSET, FormatLayout.ENVELOPE_MAGIC)
                .putShort(FormatLayout.ENVELOPE_VERSION_OFFSET, (short) FormatLayout.ENVELOPE_VERSION)
                .putInt(FormatLayout.ENVELOPE_CHUNK_SIZE_OFFSET, FormatLayout.ENVELOPE_CHUNK_SIZE)
                .put(FormatLayout.ENVELOPE_KEY_ID_LENGTH_OFFSET, (byte) id.length);
        System.arraycopy(id, 0, header, FormatLayout.ENVELOPE_KEY_ID_OFFSET, id.length);
        byte[] random = new byte[FormatLayout.ENVELOPE_SALT_BYTES + FormatLayout.ENVELOPE_NONCE_PREFIX_BYTES];
        RANDOM.nextBytes(random);
        System.arraycopy(random, 0, header, FormatLayout.ENVELOPE_SALT_OFFSET, random.length); // salt, then prefix
        byte[] master = keys.key(keyId).orElseThrow(() ->
                new IllegalStateException("the key provider has no key for its current id " + keyId));
        return new Envelope(objectKey, header, FormatLayout.ENVELOPE_CHUNK_SIZE, master);
    }

    /** True when {@code prefix} (an object's first bytes, at least 4) starts an envelope. */
    static boolean isEnvelope(byte[] prefix) {
        return prefix.length >= Integer.BYTES
                && ByteBuffer.wrap(prefix).getInt(FormatLayout.ENVELOPE_MAGIC_OFFSET) == FormatLayout.ENVELOPE_MAGIC;
    }

    /**
     * The envelope whose header is {@code header} (at least HEADER bytes, magic checked).
     *
     * @throws EncryptionException        its key id is not in {@code keys}
     * @throws BadObjectException UNSUPPORTED_FORMAT: an envelope version this build does not read
     * @throws BadObjectException CORRUPT: a header that cannot be one
     */
    static Envelope open(String objectKey, byte[] header, KeyProvider keys) {
        if (header.length < HEADER) {
            throw BadObjectException.corrupt(objectKey, "encrypted object of " + header.length
                    + " bytes is shorter than its header", -1);
        }
        ByteBuffer b = ByteBuffer.wrap(header);
        int version = b.getShort(FormatLayout.ENVELOPE_VERSION_OFFSET) & 0xffff;
        if (version != FormatLayout.ENVELOPE_VERSION) {
            throw BadObjectException.unsupportedFormat(objectKey, version, FormatLayout.ENVELOPE_VERSION);
        }
        int chunkSize = b.getInt(FormatLayout.ENVELOPE_CHUNK_SIZE_OFFSET);
        String keyId = ObjectHeader.envelopeKeyId(header);
        if (chunkSize < 1 || chunkSize > (16 << 20) || keyId == null) {
            throw BadObjectException.corrupt(objectKey, "encrypted object with an impossible header (chunk size "
                    + chunkSize + ")", FormatLayout.ENVELOPE_CHUNK_SIZE_OFFSET);
        }
        byte[] master = keys.key(keyId).orElseThrow(() ->
                new EncryptionException(EncryptionException.Kind.UNKNOWN_KEY, objectKey, keyId));
        return new Envelope(objectKey, Arrays.copyOf(header, HEADER), chunkSize, master);
    }

    /** Encrypted size of {@code plaintext} bytes, header included. */
    long sealedSize(long plaintext) {
        return HEADER + plaintext + (long) TAG * chunks(plaintext);
    }

    /** Chunks of {@code plaintext} bytes: at least one (an empty object is one empty chunk). */
    long chunks(long plaintext) {
        return Math.max(1, (plaintext + chunkSize - 1) / chunkSize);
    }

    /** Plaintext size of an encrypted object of {@code sealed} bytes with this chunk size; -1 if none fits. */
    static long plaintextSize(long sealed, int chunkSize) {
        long body = sealed - HEADER;
        long full = (long) chunkSize + TAG;
        long chunks = body / full + (body % full > 0 ? 1 : 0);
        long plaintext = body - TAG * chunks;
        return chunks < 1 || plaintext < 0 || body % full > 0 && body % full < TAG ? -1 : plaintext;
    }

    /** Offset of chunk {@code index} in the encrypted object. */
    long chunkOffset(long index) {
        return HEADER + index * (chunkSize + (long) TAG);
    }

    /** Seals {@code length} plaintext bytes as chunk {@code index} into {@code out} at {@code at}; returns bytes written. */
    int sealChunk(long index, boolean last, byte[] plain, int offset, int length, byte[] out, int at) {
        try {
            return run(Cipher.ENCRYPT_MODE, index, last, plain, offset, length, out, at);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM sealing failed", e);
        }
    }

    /**
     * Opens chunk {@code index} ({@code length} bytes at {@code offset} of {@code sealed}: ciphertext
     * and tag) into {@code out} at {@code at}; returns the plaintext bytes.
     *
     * @throws BadObjectException CORRUPT: it fails authentication: tampered, truncated, renamed or damaged
     */
    int openChunk(long index, boolean last, byte[] sealed, int offset, int length, byte[] out, int at) {
        try {
            return run(Cipher.DECRYPT_MODE, index, last, sealed, offset, length, out, at);
        } catch (AEADBadTagException e) {
            throw BadObjectException.corrupt(objectKey, "chunk " + index + " failed authentication (tampered,"
                    + " truncated, damaged, or stored under another name)", chunkOffset(index));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM opening failed", e);
        }
    }

    /**
     * As {@link #openChunk}, for a chunk not known to be the last or not (a range read): a short
     * one is the last; a full one opens as either, and only as the one it was sealed as.
     */
    int openChunk(long index, byte[] sealed, int offset, int length, byte[] out, int at) {
        if (length < chunkSize + TAG) {
            return openChunk(index, true, sealed, offset, length, out, at);
        }
        try {
            return run(Cipher.DECRYPT_MODE, index, false, sealed, offset, length, out, at);
        } catch (AEADBadTagException e) {
            return openChunk(index, true, sealed, offset, length, out, at); // a full last chunk, or damage
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM opening failed", e);
        }
    }

    /** One chunk through the cipher in {@code mode}, the header as its associated data. */
    private int run(int mode, long index, boolean last, byte[] in, int offset, int length, byte[] out, int at)
            throws GeneralSecurityException {
        cipher.init(mode, key, nonce(index, last));
        cipher.updateAAD(header);
        return cipher.doFinal(in, offset, length, out, at);
    }

    private GCMParameterSpec nonce(long index, boolean last) {
        if (index < 0 || index > 0xffffffffL) {
            throw new IllegalArgumentException("an envelope holds at most 2^32 chunks: " + index);
        }
        byte[] nonce = new byte[12];
        System.arraycopy(header, FormatLayout.ENVELOPE_NONCE_PREFIX_OFFSET, nonce, 0,
                FormatLayout.ENVELOPE_NONCE_PREFIX_BYTES);
        ByteBuffer.wrap(nonce).putInt(FormatLayout.ENVELOPE_NONCE_PREFIX_BYTES, (int) index).put(11, (byte) (last ? 1 : 0));
        return new GCMParameterSpec(TAG * 8, nonce);
    }

    /** HKDF-SHA256 (RFC 5869), extract then expand to 32 bytes. */
    private static byte[] hkdf(byte[] ikm, byte[] salt, byte[] info) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(salt, "HmacSHA256"));
            byte[] prk = mac.doFinal(ikm);
            mac.init(new SecretKeySpec(prk, "HmacSHA256"));
            mac.update(info);
            mac.update((byte) 1);
            byte[] okm = mac.doFinal(); // one block of 32 bytes is the whole output
            Arrays.fill(prk, (byte) 0);
            return okm;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM has no HmacSHA256", e);
        }
    }
}
