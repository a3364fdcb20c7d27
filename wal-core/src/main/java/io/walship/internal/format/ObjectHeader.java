package io.walship.internal.format;

import io.walship.CorruptObjectException;
import io.walship.UnsupportedFormatException;
import io.walship.encryption.EncryptionException;
import io.walship.format.FormatLayout;
import io.walship.internal.encryption.EncryptingStorage;
import java.nio.ByteBuffer;

/**
 * The checks every stored object's first and last bytes get, whatever its kind: enough bytes
 * for magic and version, the kind's magic, a version this reader knows, and the whole-object
 * checksum in the trailer. One place, so segments and snapshots fail the same way and name the
 * same things.
 */
final class ObjectHeader {
    private ObjectHeader() {
    }

    /**
     * @param available bytes of the object that could be read, at least the header's if it is whole
     * @param kind      "segment" or "snapshot", for messages
     * @param newest    the newest version of this kind this build reads (every one from 1 up)
     * @throws CorruptObjectException     too short, or another magic
     * @throws UnsupportedFormatException a version this reader does not know
     */
    static void checkMagicAndVersion(String key, ByteBuffer header, long available, int magic, String kind,
                                    int newest) {
        if (available < FormatLayout.VERSION_OFFSET + Short.BYTES) {
            throw new CorruptObjectException(key, "object of " + available + " bytes is too short for a " + kind, -1);
        }
        int found = header.getInt(FormatLayout.MAGIC_OFFSET);
        if (found == FormatLayout.ENVELOPE_MAGIC && magic != FormatLayout.ENVELOPE_MAGIC) {
            throw new EncryptionException(EncryptionException.Kind.NO_KEY, key, keyIdOf(header));
        }
        if (found != magic) {
            throw new CorruptObjectException(key, "not a walship " + kind + ": magic=0x" + Integer.toHexString(found)
                    + " expected=0x" + Integer.toHexString(magic), FormatLayout.MAGIC_OFFSET);
        }
        int version = header.getShort(FormatLayout.VERSION_OFFSET) & 0xffff;
        if (version < 1 || version > newest) {
            throw new UnsupportedFormatException(key, version, newest);
        }
    }

    /** The key id an envelope's header names, when the bytes at hand reach it; else "unknown". */
    private static String keyIdOf(ByteBuffer header) {
        byte[] bytes = new byte[header.limit()];
        header.get(0, bytes);
        String keyId = EncryptingStorage.keyIdOf(bytes);
        return keyId == null ? "unknown" : keyId;
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

    /** @throws CorruptObjectException the stored whole-object checksum is not the computed one */
    static void checkTrailer(String key, long stored, long computed, long trailerOffset) {
        if (stored != computed) {
            throw new CorruptObjectException(key, "object checksum mismatch: stored=" + Long.toHexString(stored)
                    + " computed=" + Long.toHexString(computed) + " (truncated or damaged)", trailerOffset);
        }
    }
}
