package io.walship.internal.log;

import io.walship.BadObjectException;
import io.walship.encryption.EncryptionException;
import io.walship.encryption.KeyProvider;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The checks every stored object's first and last bytes get, whatever its kind: enough bytes
 * for magic and version, the kind's magic, a version this reader knows, and the whole-object
 * checksum in the trailer. One place, so segments and snapshots fail the same way and name the
 * same things.
 */
public final class ObjectHeader {
    private ObjectHeader() {
    }

    /**
     * @param available bytes of the object that could be read, at least the header's if it is whole
     * @param kind      "segment" or "snapshot", for messages
     * @param newest    the newest version of this kind this build reads (every one from 1 up)
     * @throws BadObjectException CORRUPT: too short, or another magic
     * @throws BadObjectException UNSUPPORTED_FORMAT: a version this reader does not know
     */
    static void checkMagicAndVersion(String key, ByteBuffer header, long available, int magic, String kind,
                                    int newest) {
        if (available < FormatLayout.VERSION_OFFSET + Short.BYTES) {
            throw BadObjectException.corrupt(key, "object of " + available + " bytes is too short for a " + kind, -1);
        }
        int found = header.getInt(FormatLayout.MAGIC_OFFSET);
        if (found == FormatLayout.ENVELOPE_MAGIC && magic != FormatLayout.ENVELOPE_MAGIC) {
            throw new EncryptionException(EncryptionException.Kind.NO_KEY, key, keyIdOf(header));
        }
        if (found != magic) {
            throw BadObjectException.corrupt(key, "not a walship " + kind + ": magic=0x" + Integer.toHexString(found)
                    + " expected=0x" + Integer.toHexString(magic), FormatLayout.MAGIC_OFFSET);
        }
        int version = header.getShort(FormatLayout.VERSION_OFFSET) & 0xffff;
        if (version < 1 || version > newest) {
            throw BadObjectException.unsupportedFormat(key, version, newest);
        }
    }

    /** The key id an envelope's header names, when the bytes at hand reach it; else "unknown". */
    private static String keyIdOf(ByteBuffer header) {
        byte[] bytes = new byte[header.limit()];
        header.get(0, bytes);
        String keyId = envelopeKeyId(bytes);
        return keyId == null ? "unknown" : keyId;
    }

    /**
     * The key id an encrypted object's header names (for a reader without keys to say which key it
     * lacks, and for the envelope to find its key), or null when the bytes do not reach it or name
     * none that could be valid.
     */
    public static String envelopeKeyId(byte[] header) {
        if (header.length < FormatLayout.ENVELOPE_KEY_ID_OFFSET) {
            return null;
        }
        int length = header[FormatLayout.ENVELOPE_KEY_ID_LENGTH_OFFSET] & 0xff;
        if (length < 1 || length > FormatLayout.ENVELOPE_KEY_ID_BYTES
                || header.length < FormatLayout.ENVELOPE_KEY_ID_OFFSET + length) {
            return null;
        }
        String id = new String(header, FormatLayout.ENVELOPE_KEY_ID_OFFSET, length, StandardCharsets.UTF_8);
        return KeyProvider.KEY_ID.matcher(id).matches() ? id : null;
    }

    /**
     * A header of {@code size} bytes with the prefix every object shares filled in (magic,
     * version, flags 0, page size): the writers' side of {@link #checkMagicAndVersion}.
     */
    static ByteBuffer prefix(int size, int magic, int version, int pageSize) {
        return ByteBuffer.allocate(size)
                .putInt(FormatLayout.MAGIC_OFFSET, magic)
                .putShort(FormatLayout.VERSION_OFFSET, (short) version)
                .putShort(FormatLayout.FLAGS_OFFSET, (short) 0)
                .putInt(FormatLayout.PAGE_SIZE_OFFSET, pageSize);
    }

    /** @throws BadObjectException CORRUPT: the stored whole-object checksum is not the computed one */
    static void checkTrailer(String key, long stored, long computed, long trailerOffset) {
        if (stored != computed) {
            throw BadObjectException.corrupt(key, "object checksum mismatch: stored=" + Long.toHexString(stored)
                    + " computed=" + Long.toHexString(computed) + " (truncated or damaged)", trailerOffset);
        }
    }
}
