package io.walship;

import io.walship.internal.ChannelIo;
import io.walship.internal.FileDurability;
import io.walship.internal.capture.WalReader;
import io.walship.internal.log.DatabaseChecksum;
import io.walship.internal.log.FormatLayout;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.BitSet;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import net.jpountz.xxhash.XXHash64;
import net.jpountz.xxhash.XXHashFactory;

/**
 * What the primary's database file holds, kept next to it in {@code <db>-walship.checkpoint}:
 * the stored txid the file is at since walship's last checkpoint, that state's database checksum
 * and the hash of each of its pages, and the file's size, times and inode right after that
 * checkpoint. Layout: {@code docs/FORMAT.md}, "Checkpoint record".
 *
 * <p>Not thread-safe: the primary updates it with its gate held.
 */
final class CheckpointRecord implements Closeable {
    /*
     * Why it exists. A restart must know what the database file holds without reading it: open
     * time should follow the WAL, not the database size. walship folds the WAL into the file only
     * up to transactions already stored (LocalWal), so after each of its checkpoints the file
     * alone is one stored state. This record names that state (txid), proves it (the database
     * checksum and the hash of every page, from which capture continues) and says when it may be
     * trusted without reading the file: SQLite writes the database file of a WAL database only
     * when it checkpoints, walship runs every checkpoint, so a file whose size, mtime, ctime and
     * inode are the ones recorded right after walship's last checkpoint still holds that state.
     *
     * Crash safety. Before walship lets SQLite write the file (a checkpoint, the resync after
     * outside interference, a catch-up at open) the header is rewritten DIRTY and flushed. A
     * DIRTY record says "the file may hold anything from this state to a later stored one": the
     * next open reads the whole file instead of trusting it. After the write, the hashes of the
     * pages that changed are written in place, then a clean header with the file's fingerprint,
     * with one fdatasync for both: the page hashes must XOR to the header's checksum, so hashes
     * torn or reordered by a crash (a header on disk before its hashes) are detected, not used.
     * The header lives in two slots 4 KiB apart, written in turn, each with its own checksum and
     * a sequence number, as the replica state does (ADR 0005): a torn header spoils one slot.
     *
     * [1] docs/adr/0006-restart-resumes-from-the-local-file.md
     * [2] https://www.sqlite.org/wal.html (the database file changes only at a checkpoint)
     */
    private static final XXHash64 HASH = XXHashFactory.fastestInstance().hash64();
    private static final int SLOT_BYTES = FormatLayout.CHECKPOINT_HEADER_SIZE + FormatLayout.TRAILER_SIZE;

    /** Size, mtime, ctime and inode of a file: what changes whenever its bytes change. */
    record FileFingerprint(long size, long mtimeNanos, long ctimeNanos, long inode) {
        /** For a file system without a unix attribute view: never matches, so the file is always read. */
        static final FileFingerprint UNKNOWN = new FileFingerprint(-1, 0, 0, 0);

        static FileFingerprint of(Path file) throws IOException {
            Map<String, Object> attributes;
            try {
                attributes = Files.readAttributes(file, "unix:size,lastModifiedTime,ctime,ino");
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                return UNKNOWN;
            }
            return new FileFingerprint((Long) attributes.get("size"),
                    ((FileTime) attributes.get("lastModifiedTime")).to(TimeUnit.NANOSECONDS),
                    ((FileTime) attributes.get("ctime")).to(TimeUnit.NANOSECONDS), (Long) attributes.get("ino"));
        }

        boolean matches(FileFingerprint other) {
            return size >= 0 && equals(other);
        }
    }

    /**
     * One header slot: the state (txid, page count, checksum) the file holds, whether SQLite may
     * have written the file since ({@code dirty}), the txid a catch-up was bringing the file to
     * ({@code applyingLastTxid}, 0 for none), the file's fingerprint when the header was clean
     * and the WAL generation the last checkpoint folded ({@code folded}, null when unknown) with
     * how many of its frames the file holds ({@code foldedFrames}, -1 when not recorded): a WAL
     * of that generation holds new commits only after those frames.
     */
    record Header(int pageSize, int pageCount, long txid, long checksum, long applyingLastTxid, boolean dirty,
                  FileFingerprint fingerprint, WalReader.Generation folded, long foldedFrames, int sequence) {
    }

    /** What {@link #read} found: the newer intact header and, when they add up to its checksum, the page hashes. */
    record Contents(Header header, DatabaseChecksum pages) {
        /** True when the page hashes on disk are exactly those of the header's state. */
        boolean intact() {
            return pages != null;
        }
    }

    private final Path file;
    private final Path database;
    private final FileChannel channel;
    private Header header;

    private CheckpointRecord(Path database, FileChannel channel, Header header) {
        this.file = pathFor(database);
        this.database = database;
        this.channel = channel;
        this.header = header;
    }

    static Path pathFor(Path database) {
        return FileDurability.sibling(database, "-walship.checkpoint");
    }

    Header header() {
        return header;
    }

    /**
     * Reads the record of {@code database}; empty when there is none.
     *
     * @throws BadObjectException CORRUPT: neither header slot is intact
     * @throws BadObjectException UNSUPPORTED_FORMAT: a newer walship wrote it
     */
    static Optional<Contents> read(Path database) throws IOException {
        Path file = pathFor(database);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            String key = file.toString();
            if (channel.size() < FormatLayout.CHECKPOINT_PAGE_HASHES_OFFSET) {
                throw BadObjectException.corrupt(key, "checkpoint record of " + channel.size()
                        + " bytes is shorter than its two header slots", -1);
            }
            ByteBuffer slots = ByteBuffer.allocate(FormatLayout.CHECKPOINT_PAGE_HASHES_OFFSET);
            ChannelIo.readFully(channel, slots, 0);
            Header newest = null;
            BadObjectException firstError = null;
            for (int slot = 0; slot < 2; slot++) {
                int offset = slot * FormatLayout.CHECKPOINT_SLOT_STRIDE;
                try {
                    Header h = decode(key, slots.slice(offset, SLOT_BYTES), offset);
                    if (newest == null || h.sequence() - newest.sequence() > 0) {
                        newest = h;
                    }
                } catch (BadObjectException e) {
                    if (e.kind() != BadObjectException.Kind.CORRUPT) {
                        throw e; // written by a newer walship: never fall back to the other slot
                    }
                    firstError = firstError == null ? e : firstError;
                }
            }
            if (newest == null) {
                throw BadObjectException.corrupt(key, "neither header slot of the checkpoint record is intact: "
                        + firstError.reason(), -1);
            }
            long hashBytes = (long) newest.pageCount() * Long.BYTES;
            if (channel.size() < FormatLayout.CHECKPOINT_PAGE_HASHES_OFFSET + hashBytes) {
                return Optional.of(new Contents(newest, null));
            }
            ByteBuffer bytes = ByteBuffer.allocate(Math.toIntExact(hashBytes));
            ChannelIo.readFully(channel, bytes, FormatLayout.CHECKPOINT_PAGE_HASHES_OFFSET);
            long[] hashes = new long[newest.pageCount()];
            bytes.flip().asLongBuffer().get(hashes);
            DatabaseChecksum pages = DatabaseChecksum.ofPageHashes(newest.pageSize(), hashes, hashes.length);
            return Optional.of(new Contents(newest, pages.value() == newest.checksum() ? pages : null));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    /**
     * Writes a new record of {@code database} holding {@code pages} at {@code txid}, atomically
     * (temp file, fsync, rename, directory fsync), and keeps it open for updates. Clean, with the
     * file's fingerprint now, when {@code applyingLastTxid} is 0; otherwise DIRTY: a catch-up to
     * that txid is about to write the file.
     */
    static CheckpointRecord create(Path database, long txid, DatabaseChecksum pages, long applyingLastTxid)
            throws IOException {
        boolean dirty = applyingLastTxid != 0;
        Header header = new Header(pages.pageSize(), pages.pageCount(), txid, pages.value(), applyingLastTxid,
                dirty, dirty ? FileFingerprint.UNKNOWN : FileFingerprint.of(database), null, -1, 0);
        Path file = pathFor(database);
        Path temp = FileDurability.sibling(file, ".tmp");
        try (FileChannel out = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ChannelIo.writeFully(out, encode(header), 0);
            ChannelIo.writeFully(out, ByteBuffer.allocate(SLOT_BYTES), FormatLayout.CHECKPOINT_SLOT_STRIDE);
            writeHashes(out, pages, 1, pages.pageCount());
            out.force(true);
        }
        FileDurability.moveIntoPlace(temp, file, true);
        return new CheckpointRecord(database, FileChannel.open(file, StandardOpenOption.READ,
                StandardOpenOption.WRITE), header);
    }

    /** Opens the record {@link #read} found for updates; its page hashes on disk must be intact. */
    static CheckpointRecord open(Path database, Header header) throws IOException {
        return new CheckpointRecord(database, FileChannel.open(pathFor(database), StandardOpenOption.READ,
                StandardOpenOption.WRITE), header);
    }

    /** Marks the record DIRTY before SQLite may write the database file (one fdatasync); once is enough. */
    void markDirty() throws IOException {
        if (header.dirty()) {
            return;
        }
        writeHeader(new Header(header.pageSize(), header.pageCount(), header.txid(), header.checksum(), 0, true,
                header.fingerprint(), header.folded(), header.foldedFrames(), header.sequence() + 1));
        channel.force(false);
    }

    /**
     * Records that the database file alone now holds {@code pages} at the stored {@code txid},
     * the first {@code foldedFrames} frames of the WAL generation {@code folded} folded into it:
     * writes the hashes of the pages in {@code changed} (those that changed since this record's
     * state) and of any page past its old end, then a clean header with the file's fingerprint.
     */
    void checkpointed(long txid, DatabaseChecksum pages, BitSet changed, WalReader.Generation folded,
                      long foldedFrames) throws IOException {
        int oldCount = header.pageCount();
        int newCount = pages.pageCount();
        for (int pgno = changed.nextSetBit(1); pgno > 0 && pgno <= Math.min(oldCount, newCount);
             pgno = changed.nextSetBit(pgno + 1)) {
            int end = Math.min(changed.nextClearBit(pgno) - 1, Math.min(oldCount, newCount));
            writeHashes(channel, pages, pgno, end);
            pgno = end;
        }
        if (newCount > oldCount) {
            writeHashes(channel, pages, oldCount + 1, newCount);
        } else if (newCount < oldCount) {
            channel.truncate(FormatLayout.CHECKPOINT_PAGE_HASHES_OFFSET + (long) newCount * Long.BYTES);
        }
        writeHeader(new Header(pages.pageSize(), newCount, txid, pages.value(), 0, false,
                FileFingerprint.of(database), folded, folded != null ? foldedFrames : -1, header.sequence() + 1));
        channel.force(false);
    }

    private void writeHeader(Header next) throws IOException {
        ChannelIo.writeFully(channel, encode(next), (long) (next.sequence() & 1) * FormatLayout.CHECKPOINT_SLOT_STRIDE);
        header = next;
    }

    /** Writes the hashes of pages {@code first..last} at their places in the hash array. */
    private static void writeHashes(FileChannel out, DatabaseChecksum pages, int first, int last) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        long position = FormatLayout.CHECKPOINT_PAGE_HASHES_OFFSET + (long) (first - 1) * Long.BYTES;
        for (int pgno = first; pgno <= last; pgno++) {
            buffer.putLong(pages.pageHash(pgno));
            if (!buffer.hasRemaining() || pgno == last) {
                buffer.flip();
                position += ChannelIo.writeFully(out, buffer, position);
                buffer.clear();
            }
        }
    }

    private static ByteBuffer encode(Header h) {
        int flags = (h.dirty() ? FormatLayout.CHECKPOINT_FLAG_DIRTY : 0)
                | (h.folded() != null ? FormatLayout.CHECKPOINT_FLAG_FOLDED_SALTS : 0)
                | FormatLayout.CHECKPOINT_FLAG_FOLDED_FRAMES;
        ByteBuffer buffer = ByteBuffer.allocate(SLOT_BYTES)
                .putInt(FormatLayout.MAGIC_OFFSET, FormatLayout.CHECKPOINT_RECORD_MAGIC)
                .putShort(FormatLayout.VERSION_OFFSET, (short) FormatLayout.FORMAT_VERSION)
                .putShort(FormatLayout.FLAGS_OFFSET, (short) flags)
                .putInt(FormatLayout.PAGE_SIZE_OFFSET, h.pageSize())
                .putInt(FormatLayout.CHECKPOINT_PAGE_COUNT_OFFSET, h.pageCount())
                .putLong(FormatLayout.CHECKPOINT_TXID_OFFSET, h.txid())
                .putLong(FormatLayout.CHECKPOINT_CHECKSUM_OFFSET, h.checksum())
                .putLong(FormatLayout.CHECKPOINT_APPLYING_LAST_TXID_OFFSET, h.applyingLastTxid())
                .putLong(FormatLayout.CHECKPOINT_FILE_SIZE_OFFSET, h.fingerprint().size())
                .putLong(FormatLayout.CHECKPOINT_FILE_MTIME_NANOS_OFFSET, h.fingerprint().mtimeNanos())
                .putLong(FormatLayout.CHECKPOINT_FILE_CTIME_NANOS_OFFSET, h.fingerprint().ctimeNanos())
                .putLong(FormatLayout.CHECKPOINT_FILE_INODE_OFFSET, h.fingerprint().inode())
                .putInt(FormatLayout.CHECKPOINT_FOLDED_SALT1_OFFSET, h.folded() != null ? h.folded().salt1() : 0)
                .putInt(FormatLayout.CHECKPOINT_FOLDED_SALT2_OFFSET, h.folded() != null ? h.folded().salt2() : 0)
                .putInt(FormatLayout.CHECKPOINT_SEQUENCE_OFFSET, h.sequence())
                .putInt(FormatLayout.CHECKPOINT_FOLDED_FRAMES_OFFSET, Math.toIntExact(Math.max(-1, h.foldedFrames())));
        buffer.putLong(FormatLayout.CHECKPOINT_HEADER_SIZE, HASH.hash(buffer.array(), 0,
                FormatLayout.CHECKPOINT_HEADER_SIZE, FormatLayout.OBJECT_HASH_SEED));
        return buffer;
    }

    private static Header decode(String key, ByteBuffer slot, int fileOffset) {
        if (slot.getInt(FormatLayout.MAGIC_OFFSET) != FormatLayout.CHECKPOINT_RECORD_MAGIC) {
            throw BadObjectException.corrupt(key, "not a walship checkpoint record", fileOffset);
        }
        int version = slot.getShort(FormatLayout.VERSION_OFFSET) & 0xffff;
        if (version != FormatLayout.FORMAT_VERSION) {
            throw BadObjectException.unsupportedFormat(key, version, FormatLayout.FORMAT_VERSION);
        }
        int flags = slot.getShort(FormatLayout.FLAGS_OFFSET);
        boolean hasFoldedFrames = (flags & FormatLayout.CHECKPOINT_FLAG_FOLDED_FRAMES) != 0;
        int headerSize = hasFoldedFrames ? FormatLayout.CHECKPOINT_HEADER_SIZE
                : FormatLayout.CHECKPOINT_HEADER_SIZE_NO_FOLDED_FRAMES;
        long hash = HASH.hash(slot, 0, headerSize, FormatLayout.OBJECT_HASH_SEED);
        if (hash != slot.getLong(headerSize)) {
            throw BadObjectException.corrupt(key, "checkpoint record header checksum mismatch", fileOffset + headerSize);
        }
        int pageSize = slot.getInt(FormatLayout.PAGE_SIZE_OFFSET);
        int pageCount = slot.getInt(FormatLayout.CHECKPOINT_PAGE_COUNT_OFFSET);
        if (!FormatLayout.isValidPageSize(pageSize) || pageCount < 0) {
            throw BadObjectException.corrupt(key, "checkpoint record page size " + pageSize + " or page count "
                    + pageCount + " out of range", fileOffset);
        }
        WalReader.Generation folded = (flags & FormatLayout.CHECKPOINT_FLAG_FOLDED_SALTS) == 0 ? null
                : new WalReader.Generation(slot.getInt(FormatLayout.CHECKPOINT_FOLDED_SALT1_OFFSET),
                        slot.getInt(FormatLayout.CHECKPOINT_FOLDED_SALT2_OFFSET));
        return new Header(pageSize, pageCount, slot.getLong(FormatLayout.CHECKPOINT_TXID_OFFSET),
                slot.getLong(FormatLayout.CHECKPOINT_CHECKSUM_OFFSET),
                slot.getLong(FormatLayout.CHECKPOINT_APPLYING_LAST_TXID_OFFSET),
                (flags & FormatLayout.CHECKPOINT_FLAG_DIRTY) != 0,
                new FileFingerprint(slot.getLong(FormatLayout.CHECKPOINT_FILE_SIZE_OFFSET),
                        slot.getLong(FormatLayout.CHECKPOINT_FILE_MTIME_NANOS_OFFSET),
                        slot.getLong(FormatLayout.CHECKPOINT_FILE_CTIME_NANOS_OFFSET),
                        slot.getLong(FormatLayout.CHECKPOINT_FILE_INODE_OFFSET)),
                folded, folded != null && hasFoldedFrames ? slot.getInt(FormatLayout.CHECKPOINT_FOLDED_FRAMES_OFFSET) : -1,
                slot.getInt(FormatLayout.CHECKPOINT_SEQUENCE_OFFSET));
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "CheckpointRecord[" + file + ", " + header + "]";
    }
}
