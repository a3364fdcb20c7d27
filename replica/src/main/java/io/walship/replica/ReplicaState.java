package io.walship.replica;

import io.walship.CorruptObjectException;
import io.walship.UnsupportedFormatException;
import io.walship.format.FormatLayout;
import io.walship.restore.Restore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
                    long applyingLastTxid, int changeCounter, byte[] page1) {

    static Path pathFor(Path database) {
        return Restore.sibling(database, "-walship.state");
    }

    boolean applying() {
        return applyingTxid != 0;
    }

    /** Writes the state atomically and durably: temp file, fsync, rename, directory fsync. */
    void write(Path file) throws IOException {
        int length = FormatLayout.REPLICA_STATE_HEADER_SIZE + page1.length;
        ByteBuffer buffer = ByteBuffer.allocate(length + FormatLayout.TRAILER_SIZE)
                .putInt(FormatLayout.MAGIC_OFFSET, FormatLayout.REPLICA_STATE_MAGIC)
                .putShort(FormatLayout.VERSION_OFFSET, (short) FormatLayout.FORMAT_VERSION)
                .putShort(FormatLayout.FLAGS_OFFSET, (short) (applying() ? FormatLayout.REPLICA_FLAG_APPLYING : 0))
                .putInt(FormatLayout.PAGE_SIZE_OFFSET, pageSize)
                .putInt(FormatLayout.REPLICA_PAGE_COUNT_OFFSET, pageCount)
                .putLong(FormatLayout.REPLICA_TXID_OFFSET, txid)
                .putLong(FormatLayout.REPLICA_CHECKSUM_OFFSET, checksum)
                .putLong(FormatLayout.REPLICA_APPLYING_TXID_OFFSET, applyingTxid)
                .putLong(FormatLayout.REPLICA_APPLYING_LAST_TXID_OFFSET, applyingLastTxid)
                .putInt(FormatLayout.REPLICA_CHANGE_COUNTER_OFFSET, changeCounter)
                .putInt(FormatLayout.REPLICA_RESERVED_OFFSET, 0);
        buffer.put(FormatLayout.REPLICA_STATE_HEADER_SIZE, page1);
        long hash = XXHashFactory.fastestInstance().hash64().hash(buffer.array(), 0, length,
                FormatLayout.OBJECT_HASH_SEED);
        buffer.putLong(length, hash);
        Path temp = Restore.sibling(file, ".tmp");
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            buffer.clear();
            while (buffer.hasRemaining()) {
                channel.write(buffer);
            }
            channel.force(true);
        }
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Restore.fsyncDirectory(file.toAbsolutePath().getParent());
    }

    /** Reads and checks the state file; empty when it does not exist. */
    static Optional<ReplicaState> read(Path file) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
        String key = file.toString();
        int minimum = FormatLayout.REPLICA_STATE_HEADER_SIZE + FormatLayout.MIN_PAGE_SIZE + FormatLayout.TRAILER_SIZE;
        if (bytes.length < minimum) {
            throw new CorruptObjectException(key, "replica state of " + bytes.length + " bytes is too short", -1);
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        if (buffer.getInt(FormatLayout.MAGIC_OFFSET) != FormatLayout.REPLICA_STATE_MAGIC) {
            throw new CorruptObjectException(key, "not a walship replica state", FormatLayout.MAGIC_OFFSET);
        }
        int version = buffer.getShort(FormatLayout.VERSION_OFFSET) & 0xffff;
        if (version != FormatLayout.FORMAT_VERSION) {
            throw new UnsupportedFormatException(key, version, FormatLayout.FORMAT_VERSION);
        }
        int length = bytes.length - FormatLayout.TRAILER_SIZE;
        long hash = XXHashFactory.fastestInstance().hash64().hash(bytes, 0, length, FormatLayout.OBJECT_HASH_SEED);
        if (hash != buffer.getLong(length)) {
            throw new CorruptObjectException(key, "replica state checksum mismatch", length);
        }
        int pageSize = buffer.getInt(FormatLayout.PAGE_SIZE_OFFSET);
        if (!FormatLayout.isValidPageSize(pageSize) || length != FormatLayout.REPLICA_STATE_HEADER_SIZE + pageSize) {
            throw new CorruptObjectException(key, "replica state page size " + pageSize + " does not fit", -1);
        }
        byte[] page1 = new byte[pageSize];
        buffer.get(FormatLayout.REPLICA_STATE_HEADER_SIZE, page1);
        return Optional.of(new ReplicaState(pageSize, buffer.getInt(FormatLayout.REPLICA_PAGE_COUNT_OFFSET),
                buffer.getLong(FormatLayout.REPLICA_TXID_OFFSET), buffer.getLong(FormatLayout.REPLICA_CHECKSUM_OFFSET),
                buffer.getLong(FormatLayout.REPLICA_APPLYING_TXID_OFFSET),
                buffer.getLong(FormatLayout.REPLICA_APPLYING_LAST_TXID_OFFSET),
                buffer.getInt(FormatLayout.REPLICA_CHANGE_COUNTER_OFFSET), page1));
    }
}
