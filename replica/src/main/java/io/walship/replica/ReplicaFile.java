package io.walship.replica;

import io.walship.CorruptObjectException;
import io.walship.format.DatabaseChecksum;
import io.walship.format.SegmentReader;
import io.walship.format.SqliteHeader;
import io.walship.format.Transaction;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A replica's database file and its state: applies whole segments so that readers see either
 * the state before or after it, never part of a transaction, and a crash at any point leaves
 * something a reopen can repair.
 */
final class ReplicaFile implements Closeable {
    /*
     * Applying a segment, in order:
     *
     * Segments are applied in batches (everything storage holds after the replica's txid, up to
     * a bound), so a replica that fell behind catches up with one lock and three fsyncs per
     * batch rather than per segment.
     *
     *  1. Decode every transaction and check it against a copy of the page hashes: the
     *     database checksum after each transaction must equal the one the primary recorded.
     *     Nothing has touched the file yet; a bad segment is rejected, with the batch.
     *  2. Persist the apply intent (the batch's first and last txid, into the older slot of the
     *     state file, fdatasync; see ReplicaState).
     *  3. Take SQLite's EXCLUSIVE lock through a connection (BEGIN EXCLUSIVE): readers finish
     *     their statements and new ones wait. Truncate to the smallest size the segment passes
     *     through, write the last image of each page, write page 1 with the replica header
     *     (rollback-journal mode, bumped change counter, page count), set the final size,
     *     fsync. COMMIT releases the lock; readers see the change counter moved and drop their
     *     page caches.
     *  4. Persist the new state (txid, checksum, the primary's page 1) into the other slot,
     *     fdatasync.
     *
     * A crash before 2 changes nothing. A crash between 2 and 4 leaves the intent: reopening
     * re-applies the same segments over the torn file (full page images, so re-applying is
     * idempotent) and checks the final checksum. Pages are written through one long-lived
     * channel, opened before any SQLite connection and closed after the last, because closing
     * any descriptor of the file would drop SQLite's POSIX locks in this process.
     *
     * [1] DESIGN.md "Replicas"; [2] https://www.sqlite.org/fileformat2.html#database_header
     */
    private final Path path;
    private final Path statePath;
    private final FileChannel channel;
    private final int pageSize;
    private DatabaseChecksum checksum;
    private byte[] page1;
    private int changeCounter;
    private int stateSequence;
    private long txid;
    private long commitMillis = -1;

    private ReplicaFile(Path path, FileChannel channel, ReplicaState state, DatabaseChecksum checksum) {
        this.path = path;
        this.statePath = ReplicaState.pathFor(path);
        this.channel = channel;
        this.pageSize = state.pageSize();
        this.checksum = checksum;
        this.page1 = state.page1();
        this.changeCounter = state.changeCounter();
        this.stateSequence = state.sequence();
        this.txid = state.txid();
    }

    /**
     * Turns a freshly restored file (the primary's exact pages) into a replica file: writes the
     * replica header into page 1 and the first state. The file must not be open elsewhere.
     */
    static void convertRestored(Path file, Path statePathOwner, long txid, long expectedChecksum) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            int pageSize = SqliteHeader.pageSize(channel);
            DatabaseChecksum checksum = DatabaseChecksum.of(channel, pageSize);
            if (checksum.value() != expectedChecksum) {
                throw new IOException("restored file checksum " + Long.toHexString(checksum.value())
                        + " != " + Long.toHexString(expectedChecksum));
            }
            byte[] page1 = new byte[pageSize];
            readFully(channel, ByteBuffer.wrap(page1), 0);
            int counter = 1;
            writeFully(channel, ByteBuffer.wrap(replicaPage1(page1, counter, checksum.pageCount())), 0);
            channel.force(true);
            new ReplicaState(pageSize, checksum.pageCount(), txid, checksum.value(), 0, 0, counter, 0, page1)
                    .create(ReplicaState.pathFor(statePathOwner));
        }
    }

    /** Opens an existing replica file whose state is {@code state}; checks it unless an apply was interrupted. */
    static ReplicaFile open(Path path, ReplicaState state) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            int pageSize = SqliteHeader.pageSize(channel);
            if (pageSize != state.pageSize()) {
                throw new CorruptObjectException(path.toString(), "replica file page size " + pageSize
                        + " != state page size " + state.pageSize(), -1);
            }
            DatabaseChecksum checksum = DatabaseChecksum.of(channel, state.pageSize());
            if (checksum.pageCount() >= 1) {
                checksum.setPage(1, state.page1(), 0);
            }
            if (!state.applying() && (checksum.value() != state.checksum() || checksum.pageCount() != state.pageCount())) {
                throw new CorruptObjectException(path.toString(), "replica file does not match its state at txid "
                        + state.txid() + " (changed by someone else?)", -1);
            }
            return new ReplicaFile(path, channel, state, checksum);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    long txid() {
        return txid;
    }

    long commitMillis() {
        return commitMillis;
    }

    int pageSize() {
        return pageSize;
    }

    long checksum() {
        return checksum.value();
    }

    /**
     * Applies consecutive segments as one unit, as described above: readers see the state before
     * the first or after the last, nothing in between.
     *
     * @param recovering the file may be torn by an interrupted apply of these very segments: check
     *                   only the final checksum, since intermediate ones start from a torn baseline
     * @param lock       connection whose BEGIN EXCLUSIVE keeps readers out while pages are written
     */
    void apply(List<SegmentReader> segments, boolean recovering, Connection lock) throws IOException, SQLException {
        DatabaseChecksum next = checksum.copy();
        TreeMap<Integer, Page> finals = new TreeMap<>();
        int smallest = next.pageCount();
        long expectedTxid = txid;
        Transaction last = null;
        for (SegmentReader segment : segments) {
            // recovering: the baseline checksum is torn, so only page size and txid can be checked here
            segment.checkContinues(pageSize, expectedTxid,
                    recovering || last != null ? segment.checksumBefore() : checksum.value());
            if (last != null && segment.checksumBefore() != last.checksumAfter()) {
                throw new CorruptObjectException(segment.key(), "segment does not continue the previous one's"
                        + " checksum (another history)", -1);
            }
            for (Transaction txn = segment.next(); txn != null; txn = segment.next()) {
                next.resize(txn.databasePages());
                smallest = Math.min(smallest, txn.databasePages());
                finals.tailMap(txn.databasePages(), false).clear();
                for (int i = 0; i < txn.pageCount(); i++) {
                    next.setPage(txn.pgno(i), txn.pageImages(), i * pageSize);
                    finals.put(txn.pgno(i), new Page(txn, i));
                }
                boolean lastOfAll = segment == segments.get(segments.size() - 1) && txn.txid() == segment.lastTxid();
                if ((!recovering || lastOfAll) && next.value() != txn.checksumAfter()) {
                    throw new CorruptObjectException(segment.key(), "database checksum after txid " + txn.txid()
                            + " is " + Long.toHexString(next.value()) + ", the primary recorded "
                            + Long.toHexString(txn.checksumAfter()) + (recovering ? " (replica file damaged)" : ""), -1);
                }
                last = txn;
            }
            expectedTxid = segment.lastTxid();
        }
        int finalCount = last.databasePages();
        byte[] newPage1 = finals.containsKey(1) ? finals.get(1).copy(pageSize) : page1;

        writeState(checksum.pageCount(), segments.get(0).firstTxid(), last.txid());
        int counter = changeCounter + 1;
        try (Statement s = lock.createStatement()) {
            s.execute("BEGIN EXCLUSIVE");
            try {
                if ((long) smallest * pageSize < channel.size()) {
                    channel.truncate((long) smallest * pageSize);
                }
                for (Map.Entry<Integer, Page> e : finals.entrySet()) {
                    if (e.getKey() != 1) {
                        Page page = e.getValue();
                        writeFully(channel, ByteBuffer.wrap(page.txn.pageImages(), page.index * pageSize, pageSize),
                                (long) (e.getKey() - 1) * pageSize);
                    }
                }
                writeFully(channel, ByteBuffer.wrap(replicaPage1(newPage1, counter, finalCount)), 0);
                long size = (long) finalCount * pageSize;
                if (channel.size() > size) {
                    channel.truncate(size);
                } else if (channel.size() < size) {
                    writeFully(channel, ByteBuffer.allocate(1), size - 1);
                }
                channel.force(false);
            } finally {
                s.execute("COMMIT");
            }
        }
        checksum = next;
        page1 = newPage1;
        changeCounter = counter;
        txid = last.txid();
        commitMillis = last.commitMillis();
        writeState(finalCount, 0, 0);
    }

    /** Writes what this file holds now, with the apply intent given (0, 0: none), as the next state. */
    private void writeState(int pageCount, long applyingTxid, long applyingLastTxid) throws IOException {
        ReplicaState next = new ReplicaState(pageSize, pageCount, txid, checksum.value(), applyingTxid,
                applyingLastTxid, changeCounter, stateSequence + 1, page1);
        next.update(statePath);
        stateSequence = next.sequence();
    }

    /** The primary's page 1 with the replica's header fields: rollback journal, change counter, size. */
    static byte[] replicaPage1(byte[] primaryPage1, int changeCounter, int pageCount) {
        byte[] copy = primaryPage1.clone();
        ByteBuffer b = ByteBuffer.wrap(copy);
        copy[SqliteHeader.WRITE_VERSION_OFFSET] = SqliteHeader.ROLLBACK_JOURNAL_VERSION;
        copy[SqliteHeader.READ_VERSION_OFFSET] = SqliteHeader.ROLLBACK_JOURNAL_VERSION;
        b.putInt(SqliteHeader.CHANGE_COUNTER_OFFSET, changeCounter);
        b.putInt(SqliteHeader.PAGE_COUNT_OFFSET, pageCount);
        b.putInt(SqliteHeader.VERSION_VALID_FOR_OFFSET, changeCounter);
        return copy;
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer, position + buffer.position()) < 0) {
                throw new IOException("file ends before offset " + (position + buffer.limit()));
            }
        }
    }

    /** Writes all of {@code buffer} (from its position) at {@code position} of the file. */
    static void writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            at += channel.write(buffer, at);
        }
    }

    Path path() {
        return path;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    private record Page(Transaction txn, int index) {
        byte[] copy(int pageSize) {
            byte[] page = new byte[pageSize];
            System.arraycopy(txn.pageImages(), index * pageSize, page, 0, pageSize);
            return page;
        }
    }
}
