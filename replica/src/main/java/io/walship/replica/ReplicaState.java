package io.walship.replica;

import io.walship.BadObjectException;
import io.walship.WalshipException;
import io.walship.internal.ChannelIo;
import io.walship.internal.FileDurability;
import io.walship.internal.log.FormatLayout;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import net.jpountz.xxhash.XXHashFactory;

/**
 * What a replica's database file holds, persisted in {@code <replica>-walship.state}: the last
 * txid fully applied, its database checksum and the primary's page 1, the replica's change
 * counter and, while a batch of segments is being applied, the txids it spans (the apply intent).
 * Layout: {@code docs/FORMAT.md}, "Replica state".
 */
record ReplicaState(int pageSize, int pageCount, long txid, long checksum, long applyingTxid,
                    long applyingLastTxid, int changeCounter, int sequence, byte[] page1, int flags) {
    /*
     * Two slots, written in turn. Every apply writes the state twice (intent, then result; the
     * result is flushed with the next intent, ADR 0032); writing a slot in place and
     * fdatasync-ing it costs one flush, where temp file + fsync + rename + directory fsync cost
     * two, and on the disk this was measured on 2.3 ms against 0.5 ms (p50). A write torn by a
     * crash spoils only its own slot, whose checksum then fails: the reader takes the intact slot
     * with the later sequence number, which is the state before the torn write - exactly what a
     * crash before that write would have left.
     * Sequence numbers compare by serial-number arithmetic, so wrapping past 2^32 is harmless.
     */

    /** A state without the ahead and rolling-back flags. */
    ReplicaState(int pageSize, int pageCount, long txid, long checksum, long applyingTxid, long applyingLastTxid,
                 int changeCounter, int sequence, byte[] page1) {
        this(pageSize, pageCount, txid, checksum, applyingTxid, applyingLastTxid, changeCounter, sequence, page1, 0);
    }

    static Path pathFor(Path database) {
        return FileDurability.sibling(database, "-walship.state");
    }

    boolean applying() {
        return applyingTxid != 0;
    }

    /** The file may hold transactions storage has not confirmed (applied from a stream before they were stored). */
    boolean ahead() {
        return (flags & FormatLayout.REPLICA_FLAG_AHEAD) != 0;
    }

    /** Transactions applied ahead of storage were being taken back: the file may be torn, and is restored. */
    boolean rollingBack() {
        return (flags & FormatLayout.REPLICA_FLAG_ROLLING_BACK) != 0;
    }

    private int slotSize() {
        return slotSize(pageSize);
    }

    private static int slotSize(int pageSize) {
        return FormatLayout.REPLICA_STATE_HEADER_SIZE + pageSize + FormatLayout.TRAILER_SIZE;
    }

    private ByteBuffer encode() {
        int length = FormatLayout.REPLICA_STATE_HEADER_SIZE + page1.length;
        ByteBuffer buffer = ByteBuffer.allocate(length + FormatLayout.TRAILER_SIZE)
                .putInt(FormatLayout.MAGIC_OFFSET, FormatLayout.REPLICA_STATE_MAGIC)
                .putShort(FormatLayout.VERSION_OFFSET, (short) FormatLayout.FORMAT_VERSION)
                .putShort(FormatLayout.FLAGS_OFFSET, (short) (flags | (applying() ? FormatLayout.REPLICA_FLAG_APPLYING : 0)))
                .putInt(FormatLayout.PAGE_SIZE_OFFSET, pageSize)
                .putInt(FormatLayout.REPLICA_PAGE_COUNT_OFFSET, pageCount)
                .putLong(FormatLayout.REPLICA_TXID_OFFSET, txid)
                .putLong(FormatLayout.REPLICA_CHECKSUM_OFFSET, checksum)
                .putLong(FormatLayout.REPLICA_APPLYING_TXID_OFFSET, applyingTxid)
                .putLong(FormatLayout.REPLICA_APPLYING_LAST_TXID_OFFSET, applyingLastTxid)
                .putInt(FormatLayout.REPLICA_CHANGE_COUNTER_OFFSET, changeCounter)
                .putInt(FormatLayout.REPLICA_SEQUENCE_OFFSET, sequence);
        buffer.put(FormatLayout.REPLICA_STATE_HEADER_SIZE, page1);
        long hash = XXHashFactory.fastestInstance().hash64().hash(buffer.array(), 0, length,
                FormatLayout.OBJECT_HASH_SEED);
        buffer.putLong(length, hash);
        return buffer;
    }

    /**
     * Creates the state file afresh with this state in its slot and the other slot empty, atomically
     * and durably (temp file, fsync, rename, directory fsync): no slot of an earlier file survives.
     */
    void create(Path file) throws IOException {
        Path temp = FileDurability.sibling(file, ".tmp");
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ChannelIo.writeFully(channel, encode(), (long) (sequence & 1) * slotSize());
            ChannelIo.writeFully(channel, ByteBuffer.allocate(slotSize()), (long) ((sequence + 1) & 1) * slotSize());
            channel.force(true);
        }
        FileDurability.moveIntoPlace(temp, file, true);
    }

    /** Writes this state over the older slot of an existing state file and, when {@code flush}, flushes it (one fdatasync). */
    void update(Path file, boolean flush) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            if (channel.size() != 2L * slotSize()) {
                throw BadObjectException.corrupt(file.toString(), "replica state file is " + channel.size()
                        + " bytes, expected two slots of " + slotSize(), -1);
            }
            ChannelIo.writeFully(channel, encode(), (long) (sequence & 1) * slotSize());
            if (flush) {
                channel.force(false);
            }
        }
    }

    /** Flushes what {@link #update} wrote without a flush (one fdatasync of the state file). */
    static void flush(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(false);
        }
    }

    /** Reads the newer intact slot of the state file; empty when the file does not exist. */
    static Optional<ReplicaState> read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        String key = file.toString();
        int half = bytes.length / 2;
        if (bytes.length % 2 != 0 || half < slotSize(FormatLayout.MIN_PAGE_SIZE)
                || half > slotSize(FormatLayout.MAX_PAGE_SIZE)) {
            throw BadObjectException.corrupt(key, "replica state of " + bytes.length + " bytes is not two slots", -1);
        }
        ReplicaState newest = null;
        WalshipException firstError = null;
        for (int slot = 0; slot < 2; slot++) {
            try {
                ReplicaState state = decode(key, ByteBuffer.wrap(bytes, slot * half, half).slice(), slot * half);
                if (newest == null || state.sequence - newest.sequence > 0) {
                    newest = state;
                }
            } catch (BadObjectException e) {
                if (e.kind() != BadObjectException.Kind.CORRUPT) {
                    throw e; // written by a newer walship: never fall back to an older slot
                }
                firstError = firstError == null ? e : firstError;
            }
        }
        if (newest == null) {
            throw BadObjectException.corrupt(key, "neither slot of the replica state is intact: "
                    + firstError.getMessage(), -1);
        }
        return Optional.of(newest);
    }

    private static ReplicaState decode(String key, ByteBuffer buffer, int fileOffset) {
        if (buffer.getInt(FormatLayout.MAGIC_OFFSET) != FormatLayout.REPLICA_STATE_MAGIC) {
            throw BadObjectException.corrupt(key, "not a walship replica state", fileOffset);
        }
        int version = buffer.getShort(FormatLayout.VERSION_OFFSET) & 0xffff;
        if (version != FormatLayout.FORMAT_VERSION) {
            throw BadObjectException.unsupportedFormat(key, version, FormatLayout.FORMAT_VERSION);
        }
        int length = buffer.capacity() - FormatLayout.TRAILER_SIZE;
        long hash = XXHashFactory.fastestInstance().hash64().hash(buffer, 0, length, FormatLayout.OBJECT_HASH_SEED);
        if (hash != buffer.getLong(length)) {
            throw BadObjectException.corrupt(key, "replica state checksum mismatch", fileOffset + length);
        }
        int pageSize = buffer.getInt(FormatLayout.PAGE_SIZE_OFFSET);
        if (!FormatLayout.isValidPageSize(pageSize) || length != FormatLayout.REPLICA_STATE_HEADER_SIZE + pageSize) {
            throw BadObjectException.corrupt(key, "replica state page size " + pageSize + " does not fit", fileOffset);
        }
        byte[] page1 = new byte[pageSize];
        buffer.get(FormatLayout.REPLICA_STATE_HEADER_SIZE, page1);
        return new ReplicaState(pageSize, buffer.getInt(FormatLayout.REPLICA_PAGE_COUNT_OFFSET),
                buffer.getLong(FormatLayout.REPLICA_TXID_OFFSET), buffer.getLong(FormatLayout.REPLICA_CHECKSUM_OFFSET),
                buffer.getLong(FormatLayout.REPLICA_APPLYING_TXID_OFFSET),
                buffer.getLong(FormatLayout.REPLICA_APPLYING_LAST_TXID_OFFSET),
                buffer.getInt(FormatLayout.REPLICA_CHANGE_COUNTER_OFFSET),
                buffer.getInt(FormatLayout.REPLICA_SEQUENCE_OFFSET), page1,
                buffer.getShort(FormatLayout.FLAGS_OFFSET) & (FormatLayout.REPLICA_FLAG_AHEAD
                        | FormatLayout.REPLICA_FLAG_ROLLING_BACK));
    }
}
