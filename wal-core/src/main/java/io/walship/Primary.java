package io.walship;

import io.walship.capture.WalHook;
import io.walship.capture.WalReader;
import io.walship.format.DatabaseChecksum;
import io.walship.format.ObjectKey;
import io.walship.format.SnapshotReader;
import io.walship.format.SqliteHeader;
import io.walship.restore.Position;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * A SQLite database whose every committed transaction is shipped to {@link Storage}.
 *
 * <p>Writes go through {@link #write} on one writer connection, one at a time; each returns an
 * {@link Ack} that completes once the transaction is stored. Reads go through {@link #read} on
 * a pool of read-only connections and never wait for writers. Thread-safe. Close it to flush
 * and release the file; it must be the only writer of the database file.
 *
 * <pre>{@code
 * Storage storage = FileSystemStorage.open(Path.of("/backups/app"));
 * try (Primary primary = Primary.open(storage, Path.of("app.db"), PrimaryOptions.durable())) {
 *     Ack<Void> ack = primary.write(conn -> {
 *         try (Statement s = conn.createStatement()) {
 *             s.executeUpdate("insert into t values (1)");
 *         }
 *     });
 *     long txid = ack.get();                 // stored durably
 *     long rows = primary.read(conn -> ...);  // pooled read-only connection
 * }
 * }</pre>
 */
public final class Primary implements AutoCloseable {
    /*
     * Opening. Storage is the source of truth. Empty storage: the local file (or a new
     * database) becomes the snapshot at txid 0. Otherwise the newest position in storage is
     * read (the last segment's final checksum); a local file with exactly that checksum is
     * used as is, anything else is renamed to <db>.diverged-<millis> (never deleted) and the
     * file is rebuilt through the restore path. A lock file (<db>-walship.lock) keeps a second
     * primary off the same file; create-only storage writes fence one on the same storage.
     *
     * Writing. A gate (ReentrantLock) admits one write at a time to the writer connection; the
     * WAL hook assigns the next txid inside SQLite's commit and queues it for the capture
     * thread. Writers also run the checkpoint, inline like SQLite's own auto-checkpoint, once
     * the WAL holds checkpointFrames frames and only after the capture thread read every frame.
     *
     * Threads: the callers (writers, readers), walship-capture (WAL -> transactions),
     * walship-flusher (transactions -> segments -> storage), walship-maintenance (snapshots).
     *
     * [1] DESIGN.md, "Capture" and "Durability, acks, fencing".
     * [2] https://www.sqlite.org/wal.html#checkpointing
     */
    private static final Logger log = LoggerFactory.getLogger(Primary.class);
    private static final int BUSY_TIMEOUT_MILLIS = 5000;

    private final Path path;
    private final String db;
    private final Storage storage;
    private final PrimaryOptions options;
    private final int pageSize;
    private final FileOwnership ownership;
    private final FileChannel databaseChannel;
    private final FileChannel walChannel;
    private final ReentrantLock gate = new ReentrantLock();
    private final AckRegistry acks;
    private final StorageWriter storageWriter;
    private final SegmentFlusher flusher;
    private final CaptureLoop capture;
    private final Thread flusherThread;
    private final Thread captureThread;
    private final ExecutorService maintenance;
    private final Connection writer;
    private final long hookToken;
    private final ReadPool readers;
    private final AtomicInteger snapshotsInProgress = new AtomicInteger();
    private final AtomicBoolean snapshotScheduled = new AtomicBoolean();
    private final Object snapshotLock = new Object();

    // written by the committing thread inside the WAL hook, with the gate held
    private volatile long assignedTxid;
    private long walFrames;
    private long nextCheckpointFrames;

    private volatile long lastSnapshotTxid;
    private volatile long logBytesSinceSnapshot;
    private volatile RuntimeException failure;
    private volatile boolean closed;

    /** @param known the checksum of the file as it is now, when the caller just read it; else null */
    private Primary(Path path, Storage storage, PrimaryOptions options, FileOwnership ownership,
                    long txid, long lastSnapshotTxid, DatabaseChecksum known) throws IOException, SQLException {
        this.path = path;
        this.db = path.getFileName().toString();
        this.storage = storage;
        this.options = options;
        this.ownership = ownership;
        this.assignedTxid = txid;
        this.lastSnapshotTxid = lastSnapshotTxid;
        this.nextCheckpointFrames = options.checkpointFrames();

        // Long-lived descriptors, opened before any SQLite connection and closed after the last.
        this.databaseChannel = FileChannel.open(path, StandardOpenOption.READ);
        this.walChannel = FileChannel.open(Restore.sibling(path, "-wal"), StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.CREATE);
        this.pageSize = SqliteHeader.pageSize(databaseChannel);
        DatabaseChecksum checksum = known != null ? known : DatabaseChecksum.of(databaseChannel, pageSize);

        this.acks = new AckRegistry(txid);
        this.storageWriter = new StorageWriter(storage, options, db);
        this.flusher = new SegmentFlusher(storageWriter, options, db, pageSize, checksum.value(), acks,
                new SegmentFlusher.Events() {
                    @Override
                    public void stored(long lastTxid, long segmentBytes) {
                        segmentStored(segmentBytes);
                    }

                    @Override
                    public void fenced(FencedException e) {
                        fail(e);
                    }
                });
        this.capture = new CaptureLoop(db, new WalReader(walChannel, pageSize), databaseChannel, checksum, flusher,
                gate, this::truncateCheckpoint, this::captureFailed, txid, options.closeTimeout().toMillis());

        this.writer = openWriter();
        this.hookToken = WalHook.attach(writer, this::committed);
        this.readers = new ReadPool(db, options.readConnections(), this::openReader);
        this.flusherThread = new Thread(flusher, "walship-flusher-" + db);
        this.captureThread = new Thread(capture, "walship-capture-" + db);
        flusherThread.setDaemon(true);
        captureThread.setDaemon(true);
        flusherThread.start();
        captureThread.start();
        this.maintenance = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "walship-maintenance-" + db);
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Opens {@code database} as the primary of {@code storage}: bootstraps empty storage from it
     * (or from a new database), or makes it equal to what storage holds.
     *
     * @throws DatabaseLockedException another primary has the file open
     * @throws FencedException        another primary bootstrapped the same storage at the same time
     */
    public static Primary open(Storage storage, Path database, PrimaryOptions options) {
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(options, "options");
        Path path = database.toAbsolutePath().normalize();
        FileOwnership ownership = null;
        try {
            ownership = FileOwnership.acquire(path);
            long started = System.nanoTime();
            Optional<Position> position = Restore.latestPosition(storage);
            Primary primary;
            if (position.isEmpty()) {
                primary = bootstrap(storage, path, options, ownership);
            } else {
                primary = rebuild(storage, path, options, ownership, position.get());
            }
            log.info("primary open db={} storage={} txid={} pageSize={} durability={} ms={}", primary.db, storage,
                    primary.assignedTxid, primary.pageSize, options.durability(),
                    (System.nanoTime() - started) / 1_000_000);
            log.debug("primary options db={} options={}", primary.db, options);
            return primary;
        } catch (IOException | SQLException | InterruptedException | RuntimeException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            closeQuietly(ownership);
            if (e instanceof RuntimeException) {
                throw (RuntimeException) e;
            }
            throw new UncheckedIOException("opening primary " + path + " failed",
                    e instanceof IOException ? (IOException) e : new IOException(e));
        }
    }

    private static Primary bootstrap(Storage storage, Path path, PrimaryOptions options, FileOwnership ownership) throws IOException, SQLException, InterruptedException {
        if (!storage.list(ObjectKey.LOG_PREFIX).isEmpty()) {
            throw new CorruptObjectException(ObjectKey.LOG_PREFIX, "storage holds segments but no snapshot"
                    + " (a foreign or damaged prefix: point the primary at an empty prefix or restore the snapshots)",
                    -1);
        }
        LocalFile.prepare(path, options.pageSize());
        Primary primary = new Primary(path, storage, options, ownership, 0, -1, null);
        try {
            primary.snapshot();
            if (primary.failure != null) {
                throw primary.failure;
            }
        } catch (RuntimeException e) {
            primary.closeAfterFailure();
            throw e;
        }
        return primary;
    }

    private static Primary rebuild(Storage storage, Path path, PrimaryOptions options, FileOwnership ownership,
                                   Position position) throws IOException, SQLException {
        long millis = options.clock().millis();
        boolean matches = false;
        DatabaseChecksum local = null;
        if (Files.exists(path)) {
            LocalFile.prepare(path, options.pageSize());
            try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
                int pageSize = SqliteHeader.pageSize(channel);
                if (pageSize == position.pageSize()) {
                    local = DatabaseChecksum.of(channel, pageSize);
                    matches = local.pageCount() == position.pageCount() && local.value() == position.checksum();
                }
            }
            if (!matches) {
                Path aside = LocalFile.moveAside(path, millis);
                log.warn("local database differs from storage, moved aside db={} aside={} txid={}",
                        path.getFileName(), aside, position.txid());
            }
        }
        if (!matches) {
            Path temp = Restore.sibling(path, ".walship-restore");
            try {
                RestoreResult result = Restore.restoreInto(storage, temp, RestoreTarget.latest());
                if (result.txid() != position.txid()) {
                    throw new TxidGapException(position.key(), result.txid() + 1, position.txid());
                }
                Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE);
                Restore.fsyncDirectory(path.getParent());
            } finally {
                Files.deleteIfExists(temp);
            }
            LocalFile.prepare(path, options.pageSize());
        }
        long lastSnapshot = storage.list(ObjectKey.SNAPSHOT_PREFIX).stream()
                .map(o -> ObjectKey.parseSnapshot(o.key())).flatMap(Optional::stream)
                .mapToLong(Long::longValue).max().orElse(-1);
        // a matching file was just read whole: do not read it again
        return new Primary(path, storage, options, ownership, position.txid(), lastSnapshot, matches ? local : null);
    }

    private Connection openWriter() throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.enableLoadExtension(true); // the extension switches it off again once loaded
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        config.setBusyTimeout(BUSY_TIMEOUT_MILLIS);
        Connection conn = config.createConnection("jdbc:sqlite:" + path);
        try (Statement s = conn.createStatement()) {
            s.execute("PRAGMA wal_autocheckpoint=0");
        }
        return conn;
    }

    private Connection openReader() throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setBusyTimeout(BUSY_TIMEOUT_MILLIS);
        Connection conn = config.createConnection("jdbc:sqlite:" + path);
        try (Statement s = conn.createStatement()) {
            s.execute("PRAGMA query_only=1");
        }
        return conn;
    }

    // ---------------------------------------------------------------- writing

    /**
     * Runs {@code work} in one transaction on the writer connection and commits it.
     *
     * <p>The work may commit more than once (or switch auto-commit on, e.g. for {@code VACUUM});
     * each commit is a transaction and the Ack carries the txid of the last. If the work throws,
     * the transaction is rolled back and nothing is shipped. Blocks while another write runs,
     * and while more than {@code maxPendingBytes} of log wait for storage.
     *
     * @throws FencedException    another primary took over the storage
     * @throws NotStoredException the primary failed or is closed
     */
    public Ack<Void> write(SqlWork work) throws SQLException {
        Objects.requireNonNull(work, "work");
        return writeAndReturn(conn -> {
            work.run(conn);
            return null;
        });
    }

    /** As {@link #write}, returning what {@code work} returns through {@link Ack#peek()}. */
    public <T> Ack<T> writeAndReturn(SqlFunction<T> work) throws SQLException {
        Objects.requireNonNull(work, "work");
        try {
            flusher.awaitCapacity();
            gate.lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting to write", e);
        }
        try {
            checkUsable();
            T value = runInTransaction(work);
            long txid = assignedTxid;
            if (walFrames >= nextCheckpointFrames) {
                checkpointLocked();
            }
            return new Ack<>(txid, value, acks.futureFor(txid));
        } finally {
            gate.unlock();
        }
    }

    /*
     * The writer connection rests with auto-commit off: sqlite-jdbc then holds an open but
     * empty deferred transaction (BEGIN takes no lock until the first statement), and commit()
     * ends the work's transaction and begins the next one in the same call. That saves two
     * statements per write over switching auto-commit on and off around each one. Checkpoints
     * switch it on briefly, since a checkpoint cannot run inside a transaction.
     */
    private <T> T runInTransaction(SqlFunction<T> work) throws SQLException {
        boolean done = false;
        try {
            if (writer.getAutoCommit()) {
                writer.setAutoCommit(false);
            }
            T value = work.apply(writer);
            if (!writer.getAutoCommit()) {
                writer.commit();
            }
            done = true;
            return value;
        } finally {
            if (!done && !writer.getAutoCommit()) {
                writer.rollback();
            }
        }
    }

    /** The WAL hook: inside SQLite's commit, on the writing thread, with the gate held. */
    private void committed(int frames) {
        long txid = assignedTxid + 1;
        assignedTxid = txid;
        walFrames = frames;
        capture.committed(new CaptureLoop.Commit(txid, frames, options.clock().millis()));
    }

    private void checkUsable() {
        if (failure != null) {
            throw failure;
        }
        if (closed) {
            throw new IllegalStateException("primary is closed: db=" + db);
        }
    }

    // ---------------------------------------------------------------- reading

    /** Runs {@code work} on a pooled read-only connection and returns its result. */
    public <T> T read(SqlFunction<T> work) throws SQLException {
        Objects.requireNonNull(work, "work");
        return readers.read(work);
    }

    // ---------------------------------------------------------------- checkpoint, snapshot

    /** Folds the WAL into the database file now, if every frame is captured and no snapshot is being read. */
    public boolean checkpoint() throws SQLException {
        gate.lock();
        try {
            checkUsable();
            return checkpointLocked();
        } finally {
            gate.unlock();
        }
    }

    private boolean checkpointLocked() throws SQLException {
        try {
            if (snapshotsInProgress.get() > 0 || !capture.awaitCaptured(assignedTxid)) {
                nextCheckpointFrames = walFrames + Math.max(1, options.checkpointFrames() / 4);
                return false;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
        boolean truncated = truncateCheckpoint();
        capture.checkpointed(truncated);
        if (truncated) {
            walFrames = 0;
            nextCheckpointFrames = options.checkpointFrames();
        } else {
            nextCheckpointFrames = walFrames + Math.max(1, options.checkpointFrames() / 4);
        }
        return truncated;
    }

    /** Gate held. True when the whole WAL was copied into the database and the WAL truncated. */
    private boolean truncateCheckpoint() throws SQLException {
        long started = System.nanoTime();
        writer.setAutoCommit(true);
        try (Statement s = writer.createStatement()) {
            // the WAL hook's authorizer refuses checkpoint pragmas from user code; this one is ours
            s.execute("SELECT walship_internal(1)");
            s.execute("PRAGMA busy_timeout=0"); // never make writers wait on a long reader
            try (ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
                rs.next();
                boolean busy = rs.getInt(1) != 0;
                log.debug("wal checkpoint db={} busy={} frames={} copied={} ms={}", db, busy, rs.getInt(2),
                        rs.getInt(3), (System.nanoTime() - started) / 1_000_000);
                return !busy;
            } finally {
                s.execute("PRAGMA busy_timeout=" + BUSY_TIMEOUT_MILLIS);
                s.execute("SELECT walship_internal(0)");
            }
        }
    }

    /**
     * Takes a snapshot of the current state, stores it under {@code snapshots/<txid>} and
     * returns its txid. Writers go on meanwhile. Returns at once when the newest snapshot is
     * already at the current txid.
     */
    public long snapshot() {
        synchronized (snapshotLock) {
            try {
                return takeSnapshot();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new NotStoredException(assignedTxid, "interrupted while taking a snapshot", e);
            } catch (IOException e) {
                throw new UncheckedIOException("snapshot of " + db + " failed", e);
            }
        }
    }

    private long takeSnapshot() throws InterruptedException, IOException {
        CaptureLoop.SnapshotSource source;
        while (true) {
            gate.lockInterruptibly();
            try {
                checkUsable();
                if (capture.awaitCaptured(assignedTxid)) {
                    source = capture.snapshotSource();
                    if (source.txid() == lastSnapshotTxid) {
                        return source.txid();
                    }
                    flusher.cutAfter(source.txid());
                    snapshotsInProgress.incrementAndGet();
                    break;
                }
            } finally {
                gate.unlock();
            }
            // the capture thread needs the gate (WAL interference); let it finish, then try again
            capture.awaitCaptured(assignedTxid);
        }
        return storeSnapshot(source);
    }

    private long storeSnapshot(CaptureLoop.SnapshotSource source) throws InterruptedException, IOException {
        long started = System.nanoTime();
        Path temp = Restore.sibling(path, "-walship-snapshot-" + source.txid());
        try {
            try {
                SnapshotTaker.write(temp, source, databaseChannel, walChannel, pageSize, options.clock().millis());
            } finally {
                snapshotsInProgress.decrementAndGet();
            }
            try {
                acks.futureFor(source.txid()).get();
            } catch (ExecutionException e) {
                throw new NotStoredException(source.txid(), "the log up to the snapshot was not stored", e.getCause());
            }
            String key = ObjectKey.snapshot(source.txid());
            boolean ours = storageWriter.store(key, () -> storage.putIfAbsent(key, temp),
                    () -> sameSnapshot(key, source));
            if (!ours) {
                FencedException fenced = new FencedException(key, source.txid());
                fail(fenced);
                throw fenced;
            }
            lastSnapshotTxid = source.txid();
            logBytesSinceSnapshot = 0;
            log.info("snapshot stored db={} key={} txid={} pages={} bytes={} ms={}", db, key, source.txid(),
                    source.pageCount(), Files.size(temp), (System.nanoTime() - started) / 1_000_000);
            return source.txid();
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    /** A snapshot at the same txid with the same checksum describes the same database. */
    private boolean sameSnapshot(String key, CaptureLoop.SnapshotSource source) {
        Optional<InputStream> existing = storage.open(key);
        if (existing.isEmpty()) {
            return false;
        }
        try (InputStream in = existing.get()) {
            SnapshotReader reader = SnapshotReader.open(key, in);
            return reader.txid() == source.txid() && reader.databaseChecksum() == source.checksum()
                    && reader.pageCount() == source.pageCount();
        } catch (IOException | WalshipException e) {
            return false;
        }
    }

    private void segmentStored(long segmentBytes) {
        logBytesSinceSnapshot += segmentBytes;
        if (options.snapshotAfterLogBytes() > 0 && logBytesSinceSnapshot >= options.snapshotAfterLogBytes()
                && !closed && snapshotScheduled.compareAndSet(false, true)) {
            maintenance.execute(() -> {
                try {
                    snapshot();
                } catch (RuntimeException e) {
                    if (failure == null && !closed) {
                        log.error("scheduled snapshot failed db={} txid={}", db, assignedTxid, e);
                    }
                } finally {
                    snapshotScheduled.set(false);
                }
            });
        }
    }

    // ---------------------------------------------------------------- state

    /** The txid of the last committed transaction (stored or not). */
    public long txid() {
        return assignedTxid;
    }

    /** The txid up to which every transaction is stored. */
    public long storedTxid() {
        return acks.storedTxid();
    }

    /**
     * Why storage is not accepting writes right now: the error of the last failed attempt, as
     * long as no write has succeeded since. Empty while storage is healthy. Failed writes are
     * retried with backoff, and acks wait, until storage accepts them again; this is what to
     * show an operator meanwhile (e.g. {@link StorageException.Kind#NO_SPACE} for a full disk).
     */
    public Optional<StorageException> storageError() {
        return Optional.ofNullable(storageWriter.outage());
    }

    /** Page size of the database. */
    public int pageSize() {
        return pageSize;
    }

    public Path path() {
        return path;
    }

    /** An Ack for everything committed so far; in ASYNC mode also asks for an upload now. */
    public Ack<Void> flush() {
        long txid = assignedTxid;
        flusher.requestFlush(txid);
        return new Ack<>(txid, null, acks.futureFor(txid));
    }

    /** Captured bytes not yet stored. */
    long pendingBytes() {
        return flusher.pendingBytes();
    }

    /** How many times the WAL was found changed by someone else and the difference shipped. */
    long resyncs() {
        return capture.resyncs();
    }

    private void fail(RuntimeException cause) {
        if (failure == null) {
            failure = cause;
            if (cause instanceof FencedException) {
                log.error("primary fenced, stopping db={} key={} txid={}", db, ((FencedException) cause).key(),
                        ((FencedException) cause).txid());
            }
        }
        acks.fail(txid -> cause instanceof FencedException ? cause : new NotStoredException(txid, "primary failed",
                cause));
    }

    private void captureFailed(Throwable cause) {
        log.error("capture failed, primary stops db={} txid={}", db, assignedTxid, cause);
        fail(new NotStoredException(assignedTxid, "capture failed: " + cause, cause));
    }

    // ---------------------------------------------------------------- closing

    /**
     * Stops taking writes, waits up to {@code closeTimeout} for pending transactions to be
     * stored, and releases the database. Transactions still not stored then fail their acks
     * with {@link NotStoredException}.
     */
    @Override
    public void close() {
        gate.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
        } finally {
            gate.unlock();
        }
        long txid = assignedTxid;
        try {
            flusher.requestFlush(txid);
            acks.futureFor(txid).get(options.closeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.error("close timed out before storing db={} txid={} storedTxid={}", db, txid, acks.storedTxid());
        } catch (ExecutionException e) {
            // the ack already carries the failure to its waiters
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        acks.fail(t -> new NotStoredException(t, "primary closed before storing it", null));
        shutdown();
        log.info("primary closed db={} txid={} storedTxid={}", db, txid, acks.storedTxid());
    }

    private void closeAfterFailure() {
        closed = true;
        shutdown();
    }

    private void shutdown() {
        maintenance.shutdownNow();
        capture.stop();
        flusher.close();
        join(captureThread);
        if (failure != null || acks.storedTxid() < assignedTxid) {
            flusherThread.interrupt();
        }
        join(flusherThread);
        try {
            maintenance.awaitTermination(options.closeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            WalHook.detach(writer, hookToken);
        } catch (SQLException e) {
            log.warn("wal hook detach failed db={} error={}", db, e.toString());
        }
        closeQuietly(readers);
        closeQuietly(writer);
        closeQuietly(walChannel);
        closeQuietly(databaseChannel);
        closeQuietly(ownership);
    }

    private static void join(Thread thread) {
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        ReadPool.closeQuietly(closeable);
    }

    @Override
    public String toString() {
        return "Primary[db=" + path + ", storage=" + storage + ", txid=" + assignedTxid + "]";
    }
}
