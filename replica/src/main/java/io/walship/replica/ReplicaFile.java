package io.walship.replica;

import io.walship.BadObjectException;
import io.walship.internal.ChannelIo;
import io.walship.internal.log.DatabaseChecksum;
import io.walship.internal.log.FetchedSegment;
import io.walship.internal.log.FormatLayout;
import io.walship.internal.log.PageValues;
import io.walship.internal.log.SegmentReader;
import io.walship.internal.log.SqliteHeader;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.locks.Lock;
import java.util.concurrent.locks.LockSupport;

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
     * a bound), so a replica that fell behind catches up with one lock and two fsyncs per
     * batch rather than per segment.
     *
     *  1. Decode every transaction and check it against a draft of the page hashes (the changes
     *     alone: a copy of every page's hash grew each apply with the database): the database
     *     checksum after each transaction must equal the one the primary recorded. Nothing has
     *     touched the file yet; a bad segment is rejected, with the batch. This pass notes, per
     *     page, which transaction writes its final image, and keeps those images while they fit
     *     KEPT_IMAGES_BYTES (a pushed transaction of a few pages always does).
     *  2. Persist the apply intent (the batch's first and last txid, into the older slot of the
     *     state file, fdatasync; see ReplicaState).
     *  3. Keep this process's readers out (the replica's fair read-write lock: they wait without
     *     a timeout) and take SQLite's EXCLUSIVE lock through a connection (BEGIN EXCLUSIVE):
     *     readers of other processes finish their statements and new ones wait their busy
     *     timeout. While a reader of this process still holds SQLite's SHARED lock (a result set
     *     it is reading, a transaction), EXCLUSIVE is refused at once and the readers' lock is let
     *     go again for a moment before the next attempt (up to EXCLUSIVE_WAIT_MILLIS in all):
     *     holding it while waiting would shut out that very reader if it runs one more statement
     *     before closing what it reads (a query per row of another). Truncate to the smallest size the batch passes
     *     through, write the final image of each page (the kept ones, else read from the
     *     segments a second time as they come by), write page 1 with the replica header (rollback-journal mode, bumped change
     *     counter, page count), set the final size, fsync. COMMIT releases the lock; readers see
     *     the change counter moved and drop their page caches. Segments are read from memory or
     *     from spill files (FetchedSegment), a page at a time beyond what step 1 kept: a
     *     transaction of any size costs bounded memory, and readers wait for as long as it takes
     *     to write it.
     *  4. Write the new state (txid, checksum, the primary's page 1) into the other slot, not
     *     flushed: the next batch's intent flushes it with its own (one fdatasync of the same
     *     file), and so does close. Until then a crash may leave the intent newest on disk, and
     *     reopening re-applies the batch (ADR 0032): the cost of a crash, moved off every apply.
     *
     * A write that fails in step 3 (ENOSPC, EIO) is retried from the top of step 3, the locks
     * still held: every page the batch writes is written again from the same images, so
     * a rewrite that succeeds leaves exactly what a first success would. When the rewrites fail
     * too, the file is torn: COMMIT is not run (SQLite's EXCLUSIVE lock stays with the replica
     * until it closes), the file is marked torn (readers of this process are refused with
     * ReplicaFailedException) and the intent of step 2 stays, so the next open repairs it.
     *
     * A crash before 2 changes nothing. A crash between 2 and the flush of 4's state (the next
     * intent, or close) leaves the intent: reopening re-applies the same segments over the torn
     * file (full page images, so re-applying is idempotent) and checks the final checksum. Pages
     * are written through one long-lived channel, opened before any SQLite connection and closed
     * after the last, because closing any descriptor of the file would drop SQLite's POSIX locks
     * in this process.
     *
     * Applied ahead of storage (a stream with applyUnstored, ADR 0017): the batch is applied as
     * above, and step 3 first saves the image each page had before the batch overwrote or cut it
     * (read from this file) with the batch's checksum, page 1 and size before it: its undo, kept
     * in memory until storage confirms the batch. The state carries the AHEAD flag meanwhile.
     * Such a batch writes no intent and flushes nothing (no fsync): storage cannot repair it after
     * a crash anyway, and whatever a crash leaves - the state before it, or after, or a file that
     * matches neither - the open-time check against the state decides (restore when they differ).
     * The next stored batch's fsync flushes its pages with its own.
     * Taking batches back writes the saved images, oldest batch's last, under the same two locks
     * and with the same retries, the state flagged ROLLING_BACK first; the checksum recomputed
     * from the saved images must equal the one recorded before the oldest batch, else the undo
     * was incomplete and the file is declared torn. A crash while AHEAD loses the undo: the next
     * open trusts the file only if storage holds its txid with its checksum, and restores
     * otherwise; a crash while ROLLING_BACK restores.
     *
     * [1] DESIGN.md "Replicas"; [2] https://www.sqlite.org/fileformat2.html#database_header
     */
    private final Path path;
    private final Path statePath;
    private final FileChannel channel;
    private final int pageSize;
    private final DatabaseChecksum checksum;
    private byte[] page1;
    private int changeCounter;
    private int stateSequence;
    /** The newest state was written without a flush (step 4, or a batch applied ahead): close flushes it. */
    private boolean stateUnflushed;
    /** Written under the readers' lock, so a reader holding it reads the txid of the pages it sees. */
    private volatile long txid;
    private volatile long commitMillis = -1;
    /** Set when a batch could not be written: the file holds part of it. */
    private volatile ReplicaFailedException torn;
    /** Batches applied ahead of storage, oldest first, each with what it overwrote; see the class note. */
    private final ArrayDeque<Undo> ahead = new ArrayDeque<>();
    private long aheadBytes;
    /** The first txid applied ahead of storage, 0 when storage holds everything applied. */
    private volatile long aheadFrom;

    /** What one batch applied ahead of storage overwrote: enough to take it back. */
    private record Undo(long firstTxid, long lastTxid, long firstCommitMillis, long lastCommitMillis,
                        long checksumBefore, byte[] page1Before, int pageCountBefore, long commitMillisBefore,
                        Map<Integer, byte[]> images) {
        long bytes() {
            return (long) (images.size() + 1) * page1Before.length;
        }
    }

    /**
     * How long step 3 waits for readers holding SQLite's SHARED lock, in all, before the batch fails (and is retried).
     */
    private static final long EXCLUSIVE_WAIT_MILLIS = 5000;
    private static final long EXCLUSIVE_PAUSE_MAX_NANOS = 10_000_000;
    private static final int SQLITE_BUSY = 5;

    /** How often step 3 is attempted before the file is declared torn, and the wait before the first retry. */
    private static final int WRITE_ATTEMPTS = 3;
    private static final long REWRITE_BACKOFF_MILLIS = 100;
    /**
     * Final page images step 1 keeps for step 3, at most: a batch that writes more pages is read
     * a second time instead. A pushed transaction is decoded once.
     */
    static final long KEPT_IMAGES_BYTES = 4L << 20;

    /**
     * What a batch applied: its transactions and txids, per segment the commit time of its first
     * transaction, the commit times of its first and last, the pages it wrote (ascending, those
     * still in the database at its end) and the database's size after it.
     */
    record Applied(int transactions, long firstTxid, long lastTxid, long[] segmentCommitMillis,
                   long firstCommitMillis, long lastCommitMillis, int[] pages, int pageCount) {
    }

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
            ChannelIo.readFully(channel, ByteBuffer.wrap(page1), 0);
            int counter = 1;
            ChannelIo.writeFully(channel, ByteBuffer.wrap(replicaPage1(page1, counter, checksum.pageCount())), 0);
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
                throw BadObjectException.corrupt(path.toString(), "replica file page size " + pageSize
                        + " != state page size " + state.pageSize(), -1);
            }
            DatabaseChecksum checksum = DatabaseChecksum.of(channel, state.pageSize());
            if (checksum.pageCount() >= 1) {
                checksum.setPage(1, state.page1(), 0);
            }
            if (!state.applying() && (checksum.value() != state.checksum() || checksum.pageCount() != state.pageCount())) {
                throw BadObjectException.corrupt(path.toString(), "replica file does not match its state at txid "
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

    /**
     * Reads page {@code pgno} into {@code page} (page size bytes from its position), through the file's one channel.
     */
    void readPage(int pgno, ByteBuffer page) throws IOException {
        ChannelIo.readFully(channel, page, (long) (pgno - 1) * pageSize);
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
     * the first or after the last, nothing in between. Reads each segment once to check every
     * transaction, keeping the final page images up to KEPT_IMAGES_BYTES; a batch that writes more
     * is read a second time to write it.
     *
     * @param recovering the file may be torn by an interrupted apply of these very segments: check
     *                   only the final checksum, since intermediate ones start from a torn baseline
     * @param lock       connection whose BEGIN EXCLUSIVE keeps other processes' readers out while pages are written
     * @param readersOut held while pages are written, to keep this process's readers out without a busy timeout
     */
    Applied apply(List<FetchedSegment> segments, boolean recovering, Connection lock, Lock readersOut)
            throws IOException, SQLException {
        return apply(segments, recovering, false, lock, readersOut);
    }

    /**
     * As {@link #apply(List, boolean, Connection, Lock)}; {@code unstored}: the primary had not
     * stored the batch yet, so what it overwrites is kept until {@link #confirm} (see the class note).
     */
    Applied apply(List<FetchedSegment> segments, boolean recovering, boolean unstored, Connection lock,
                  Lock readersOut) throws IOException, SQLException {
        if (torn != null) {
            throw torn;
        }
        // 1. check, touching nothing: every transaction's checksum, and which writes each page's final image
        DatabaseChecksum.Draft next = checksum.draft();
        FinalImages finals = new FinalImages(pageSize, KEPT_IMAGES_BYTES);
        int smallest = next.pageCount();
        long expectedTxid = txid;
        long expectedChecksum = checksum.value();
        SegmentReader.TransactionHeader last = null;
        int ordinal = 0;
        long[] segmentCommitMillis = new long[segments.size()];
        long firstTxid = txid + 1;
        for (int s = 0; s < segments.size(); s++) {
            try (SegmentReader segment = segments.get(s).open()) {
                // recovering: the baseline checksum is torn, so only page size and txid can be checked here
                segment.checkContinues(pageSize, expectedTxid,
                        recovering && s == 0 ? segment.checksumBefore() : expectedChecksum);
                boolean lastSegment = s == segments.size() - 1;
                for (SegmentReader.TransactionHeader txn = segment.nextTransaction(); txn != null;
                     txn = segment.nextTransaction()) {
                    int writer = ++ordinal;
                    if (txn.txid() == segment.firstTxid()) {
                        segmentCommitMillis[s] = txn.commitMillis();
                    }
                    next.resize(txn.databasePages());
                    smallest = Math.min(smallest, txn.databasePages());
                    finals.truncate(txn.databasePages());
                    long recorded = segment.readPages((pgno, image) -> {
                        next.setPage(pgno, image, 0);
                        finals.set(pgno, writer, image);
                    });
                    boolean lastOfAll = lastSegment && txn.txid() == segment.lastTxid();
                    if ((!recovering || lastOfAll) && next.value() != recorded) {
                        throw BadObjectException.corrupt(segment.key(), "database checksum after txid " + txn.txid()
                                + " is " + Long.toHexString(next.value()) + ", the primary recorded "
                                + Long.toHexString(recorded) + (recovering ? " (replica file damaged)" : ""), -1);
                    }
                    expectedChecksum = recorded;
                    last = txn;
                }
                expectedTxid = segment.lastTxid();
            }
        }
        int finalCount = last.databasePages();

        // 2. write, readers kept out: the final image of each page, page 1 last with the replica's header
        Undo undo = !unstored ? null : new Undo(txid + 1, last.txid(), segmentCommitMillis[0], last.commitMillis(),
                checksum.value(), page1, checksum.pageCount(), commitMillis, new HashMap<>());
        if (undo == null) {
            writeState(checksum.pageCount(), txid + 1, last.txid(), aheadFlag(), true); // starts right after txid
        }
        int counter = changeCounter + 1;
        byte[][] newPage1 = {page1};
        SegmentReader.TransactionHeader end = last;
        int cutTo = smallest;
        writeExclusively(lock, readersOut, txid + 1, end.txid(), () -> {
            writePages(segments, finals, cutTo, finalCount, counter, newPage1, undo);
            if (undo == null) {
                channel.force(false);
            }
        }, () -> {
            checksum.commit(next);
            page1 = newPage1[0];
            changeCounter = counter;
            txid = end.txid();
            commitMillis = end.commitMillis();
            if (undo != null) {
                ahead.addLast(undo);
                aheadBytes += undo.bytes();
                aheadFrom = ahead.peekFirst().firstTxid();
            }
        });
        writeState(finalCount, 0, 0, aheadFlag(), false); // flushed by the next intent or close (step 4)
        return new Applied(ordinal, firstTxid, last.txid(), segmentCommitMillis, segmentCommitMillis[0],
                last.commitMillis(), finals.pages(), finalCount);
    }

    /** Writes pages; run again from the top when it fails with an IOException (see writeExclusively). */
    private interface PageWrite {
        void run() throws IOException;
    }

    /**
     * Step 3 of the class note for any write of pages: takes both locks, runs {@code write}
     * (again, up to WRITE_ATTEMPTS times, when it fails with an IOException: a rewrite over its own
     * partial result), COMMITs, runs {@code committed} (the in-memory state after it) while readers
     * are still out, and lets them in. When the rewrites fail too, the file is torn for txids
     * {@code firstTxid..lastTxid}: no COMMIT, so SQLite's lock stays ours and this process's
     * readers are refused.
     */
    private void writeExclusively(Connection lock, Lock readersOut, long firstTxid, long lastTxid, PageWrite write,
                                  Runnable committed) throws SQLException {
        try (Statement st = lock.createStatement()) {
            lockExclusive(st, readersOut); // this process's readers wait on readersOut, however long the write takes
            try {
                for (int attempt = 1; ; attempt++) {
                    try {
                        write.run();
                        break;
                    } catch (IOException | RuntimeException | Error e) {
                        if (attempt >= WRITE_ATTEMPTS || !(e instanceof IOException)) {
                            torn = new ReplicaFailedException(path.getFileName().toString(), firstTxid, lastTxid, e);
                            throw torn;
                        }
                        sleepBeforeRewrite(attempt);
                    }
                }
                st.execute("COMMIT");
                committed.run();
            } finally {
                readersOut.unlock();
            }
        }
    }

    /**
     * Takes {@code readersOut} and SQLite's EXCLUSIVE lock (the connection's busy timeout is 0),
     * letting {@code readersOut} go between attempts while a reader holds SHARED: see step 3.
     * Returns holding both; throws holding neither.
     */
    private static void lockExclusive(Statement st, Lock readersOut) throws SQLException {
        long deadline = System.nanoTime() + EXCLUSIVE_WAIT_MILLIS * 1_000_000;
        long pauseNanos = 50_000;
        while (true) {
            readersOut.lock();
            try {
                st.execute("BEGIN EXCLUSIVE");
                return;
            } catch (SQLException e) {
                readersOut.unlock();
                if ((e.getErrorCode() & 0xff) != SQLITE_BUSY || System.nanoTime() - deadline > 0) {
                    throw e;
                }
            }
            LockSupport.parkNanos(pauseNanos);
            pauseNanos = Math.min(pauseNanos * 2, EXCLUSIVE_PAUSE_MAX_NANOS);
        }
    }

    /**
     * Step 3 of the class note: truncate to the smallest size the batch passes through, write
     * each page's final image, page 1 with the replica header, the final size, fsync. Writes
     * nothing but pages the batch writes, so it can run again over its own partial result.
     */
    private void writePages(List<FetchedSegment> segments, FinalImages finals, int smallest, int finalCount,
                            int counter, byte[][] newPage1, Undo undo) throws IOException {
        if ((long) smallest * pageSize < channel.size()) {
            if (undo != null) {
                long inFile = channel.size() / pageSize;
                for (int pgno = Math.max(2, smallest + 1); pgno <= Math.min(inFile, undo.pageCountBefore()); pgno++) {
                    saveBeforeImage(undo, pgno);
                }
            }
            channel.truncate((long) smallest * pageSize);
        }
        newPage1[0] = page1;
        if (finals.kept()) {
            for (int pgno : finals.pages()) {
                writeFinal(pgno, finals.image(pgno), newPage1, undo);
            }
        } else {
            writeFinalsRead(segments, finals, newPage1, undo);
        }
        ChannelIo.writeFully(channel, ByteBuffer.wrap(replicaPage1(newPage1[0], counter, finalCount)), 0);
        setSize(finalCount);
    }

    /** Step 3 for a batch whose final images step 1 did not keep: reads the segments again. */
    private void writeFinalsRead(List<FetchedSegment> segments, FinalImages finals, byte[][] newPage1, Undo undo)
            throws IOException {
        int[] writing = {0};
        for (FetchedSegment fetched : segments) {
            try (SegmentReader segment = fetched.open()) {
                while (segment.nextTransaction() != null) {
                    int writer = ++writing[0];
                    segment.readPages((pgno, image) -> {
                        if (finals.get(pgno) == writer) { // else a later transaction of the batch writes it again
                            writeFinal(pgno, image, newPage1, undo);
                        }
                    });
                }
            }
        }
    }

    /** Writes a page's final image, its old image saved first when applied ahead; page 1 is only kept aside. */
    private void writeFinal(int pgno, byte[] image, byte[][] newPage1, Undo undo) throws IOException {
        if (pgno == 1) {
            newPage1[0] = image.clone();
            return;
        }
        if (undo != null && pgno <= undo.pageCountBefore()) {
            saveBeforeImage(undo, pgno);
        }
        ChannelIo.writeFully(channel, ByteBuffer.wrap(image, 0, pageSize), (long) (pgno - 1) * pageSize);
    }

    private void setSize(int pageCount) throws IOException {
        long size = (long) pageCount * pageSize;
        if (channel.size() > size) {
            channel.truncate(size);
        } else if (channel.size() < size) {
            ChannelIo.writeFully(channel, ByteBuffer.allocate(1), size - 1);
        }
    }

    /**
     * Keeps the image page {@code pgno} has in the file before the batch first overwrites or cuts
     * it (a rewrite after a failed attempt finds it kept already). Pages past the file's end read as
     * zeros: SQLite's view of a page the file does not hold.
     */
    private void saveBeforeImage(Undo undo, int pgno) throws IOException {
        if (undo.images().containsKey(pgno)) {
            return;
        }
        ByteBuffer page = ByteBuffer.allocate(pageSize);
        long position = (long) (pgno - 1) * pageSize;
        while (page.hasRemaining() && channel.read(page, position + page.position()) >= 0) {
            // reads until full or the end of the file
        }
        undo.images().put(pgno, page.array());
    }

    /** The first txid this file holds that storage has not confirmed, 0 when none. */
    long aheadFrom() {
        return aheadFrom;
    }

    /** Bytes kept to take back what storage has not confirmed. */
    long aheadBytes() {
        return aheadBytes;
    }

    /**
     * Storage holds everything up to {@code storedTxid} in this file's history: the undo of the
     * batches it covers is dropped (the state's AHEAD flag is cleared with the next state written).
     */
    void confirm(long storedTxid) {
        while (!ahead.isEmpty() && ahead.peekFirst().lastTxid() <= storedTxid) {
            aheadBytes -= ahead.removeFirst().bytes();
        }
        aheadFrom = ahead.isEmpty() ? 0 : ahead.peekFirst().firstTxid();
    }

    /**
     * Takes back every batch applied ahead of storage: the file returns to the txid before the
     * first of them, exactly (checked by checksum), readers seeing the state before or after, as
     * for an apply. Returns what it wrote, the batches' txids and commit times.
     */
    Applied rollBack(Connection lock, Lock readersOut) throws IOException, SQLException {
        if (torn != null) {
            throw torn;
        }
        Undo oldest = ahead.peekFirst();
        if (oldest == null) {
            throw new IllegalStateException("nothing applied ahead of storage to take back");
        }
        long undoneFrom = oldest.firstTxid();
        long undoneTo = txid;
        int count = oldest.pageCountBefore();
        TreeMap<Integer, byte[]> all = new TreeMap<>();
        for (Iterator<Undo> newestFirst = ahead.descendingIterator(); newestFirst.hasNext(); ) {
            all.putAll(newestFirst.next().images()); // the oldest batch's image of a page is put last
        }
        SortedMap<Integer, byte[]> images = all.headMap(count, true); // pages past the old size are cut
        DatabaseChecksum.Draft back = checksum.draft();
        back.resize(count);
        for (Map.Entry<Integer, byte[]> image : images.entrySet()) {
            back.setPage(image.getKey(), image.getValue(), 0);
        }
        back.setPage(1, oldest.page1Before(), 0);
        if (back.value() != oldest.checksumBefore()) {
            // the undo misses a page: never show a state that did not exist; reopening restores (AHEAD)
            torn = new ReplicaFailedException(path.getFileName().toString(), undoneFrom, undoneTo,
                    new IllegalStateException("taking back would give checksum " + Long.toHexString(back.value())
                            + ", expected " + Long.toHexString(oldest.checksumBefore())));
            throw torn;
        }
        writeState(checksum.pageCount(), 0, 0, FormatLayout.REPLICA_FLAG_AHEAD | FormatLayout.REPLICA_FLAG_ROLLING_BACK,
                true);
        int counter = changeCounter + 1;
        writeExclusively(lock, readersOut, undoneFrom, undoneTo, () -> {
            for (Map.Entry<Integer, byte[]> image : images.entrySet()) { // never page 1: the undo keeps it aside
                ChannelIo.writeFully(channel, ByteBuffer.wrap(image.getValue()),
                        (long) (image.getKey() - 1) * pageSize);
            }
            ChannelIo.writeFully(channel, ByteBuffer.wrap(replicaPage1(oldest.page1Before(), counter, count)), 0);
            setSize(count);
            channel.force(false);
        }, () -> {
            checksum.commit(back);
            page1 = oldest.page1Before();
            changeCounter = counter;
            txid = undoneFrom - 1;
            commitMillis = oldest.commitMillisBefore();
        });
        long lastCommit = ahead.peekLast().lastCommitMillis();
        ahead.clear();
        aheadBytes = 0;
        aheadFrom = 0;
        writeState(count, 0, 0, 0, true);
        int[] pages = new int[images.size() + 1]; // page 1, then the pages written back, ascending
        pages[0] = 1;
        int n = 1;
        for (int pgno : images.keySet()) {
            pages[n++] = pgno;
        }
        return new Applied(0, undoneFrom, undoneTo, new long[0], oldest.firstCommitMillis(), lastCommit, pages, count);
    }

    /** Waits before a rewrite; an interrupt cuts the wait short but not the rewrite, which must run. */
    private static void sleepBeforeRewrite(int attempt) {
        try {
            Thread.sleep(REWRITE_BACKOFF_MILLIS << (attempt - 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The failure that left the file holding part of a batch, or null while it is whole. */
    ReplicaFailedException torn() {
        return torn;
    }

    /** The AHEAD flag while something applied is not confirmed by storage. */
    private int aheadFlag() {
        return ahead.isEmpty() ? 0 : FormatLayout.REPLICA_FLAG_AHEAD;
    }

    /**
     * Writes what this file holds now, with the apply intent given (0, 0: none) and flags, as the
     * next state; flushed unless {@code flush} is false (see the class note: batches applied ahead).
     */
    private void writeState(int pageCount, long applyingTxid, long applyingLastTxid, int flags, boolean flush)
            throws IOException {
        ReplicaState next = new ReplicaState(pageSize, pageCount, txid, checksum.value(), applyingTxid,
                applyingLastTxid, changeCounter, stateSequence + 1, page1, flags);
        next.update(statePath, flush);
        stateSequence = next.sequence();
        stateUnflushed = !flush;
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

    Path path() {
        return path;
    }

    /** Closes the file, first flushing a state written without a flush, so a clean close leaves nothing to re-apply. */
    @Override
    public void close() throws IOException {
        try (channel) {
            if (stateUnflushed) {
                ReplicaState.flush(statePath);
                stateUnflushed = false;
            }
        }
    }

    /**
     * Per page, which transaction of a batch (1, 2, ... in order) writes its final image, and that
     * image while the batch's final images fit {@code keptBytes}: memory for the pages the batch
     * writes, not for the database (4 bytes for every page up to the highest written made a
     * replica of a large database pay for its size on every apply). A transaction that shrinks the
     * database forgets the pages past its end: if a later one grows it again without writing
     * them, they read as zeros.
     */
    private static final class FinalImages {
        private final int pageSize;
        private final long keptBytes;
        private final PageValues writers = new PageValues();
        /** Each page's final image so far; null once they no longer fit keptBytes. */
        private Map<Integer, byte[]> images = new HashMap<>();
        private int highest;

        FinalImages(int pageSize, long keptBytes) {
            this.pageSize = pageSize;
            this.keptBytes = keptBytes;
        }

        /** Transaction {@code transaction} wrote {@code image} (lent: copied when kept) as page {@code pgno}. */
        void set(int pgno, int transaction, byte[] image) {
            writers.put(pgno, transaction);
            highest = Math.max(highest, pgno);
            if (images == null) {
                return;
            }
            byte[] kept = images.get(pgno);
            if (kept == null) {
                if ((long) (images.size() + 1) * pageSize > keptBytes) {
                    images = null; // step 3 reads the segments again
                    return;
                }
                kept = new byte[pageSize];
                images.put(pgno, kept);
            }
            System.arraycopy(image, 0, kept, 0, pageSize);
        }

        int get(int pgno) {
            return (int) writers.get(pgno, 0);
        }

        /** True when every final image is kept ({@link #image}). */
        boolean kept() {
            return images != null;
        }

        /** The final image of {@code pgno}, one of {@link #pages()}, when {@link #kept()}. */
        byte[] image(int pgno) {
            return images.get(pgno);
        }

        /** The pages written, ascending. */
        int[] pages() {
            return writers.pages();
        }

        void truncate(int pageCount) {
            if (pageCount < highest) {
                writers.retain(pgno -> pgno <= pageCount);
                if (images != null) {
                    images.keySet().removeIf(pgno -> pgno > pageCount);
                }
                highest = pageCount;
            }
        }
    }
}
