package io.walship.replica;

import io.walship.BadObjectException;
import io.walship.Health;
import io.walship.Problem;
import io.walship.SqlFunction;
import io.walship.TxidNotAvailableException;
import io.walship.Walship;
import io.walship.WalshipException;
import io.walship.internal.FileOwnership;
import io.walship.internal.ReadDataSource;
import io.walship.internal.ReadPool;
import io.walship.internal.log.FetchedSegment;
import io.walship.internal.metrics.MeteredStorage;
import io.walship.internal.metrics.Metrics;
import io.walship.internal.work.Tenants;
import io.walship.internal.work.Workers;
import io.walship.metrics.WalshipMeter;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * A read-only copy of a walship database, restored from storage and kept up to date.
 *
 * <p>{@link #open} restores the latest state (or repairs and reuses an existing replica file),
 * {@link #follow()} starts applying new segments in the background, {@link #poll()} applies
 * what is there now, {@link #awaitTxid} waits for a txid a primary acknowledged. Reads go
 * through {@link #read} on pooled read-only connections and always see whole transactions;
 * {@link #readAtLeast} and {@link #read(Duration, SqlFunction)} bound how old that state may be,
 * {@link #dataSource()} lends the same connections to JDBC libraries, and {@link #onApplied}
 * tells listeners what each batch changed.
 * A segment that fails validation is never applied, not even in part: the replica keeps its
 * last good state, reports the error through {@link #lastError()} and tries again later.
 * Thread-safe.
 *
 * <pre>{@code
 * try (Replica replica = Replica.open(storage, Path.of("replica.db"))) {
 *     replica.follow();
 *     replica.awaitTxid(ack.get(), Duration.ofSeconds(5));
 *     long rows = replica.read(conn -> ...);
 * }
 * }</pre>
 */
public final class Replica implements AutoCloseable {
    /*
     * Failure. An apply that fails before writing (storage, a bad segment, the lock) leaves the
     * file as it was: the follower retries with backoff, status() says RETRYING, readers go on
     * with the last good state. One that fails while writing pages is rewritten from the fetched
     * segments, readers kept out (ReplicaFile); if that fails too the file is torn, so the
     * replica FAILS: the follower stops, the read pool closes, read() and poll() throw
     * ReplicaFailedException, and the next open repairs the file from the recorded intent.
     *
     * Ahead of storage (applyUnstored, ADR 0017). Batches the stream sent before they were
     * stored are applied with an undo; before anything else is applied the follower settles
     * them (settleAhead): confirmed by the sending connection or by storage's checksum at the
     * replica's txid, or taken back. While they are unconfirmed nothing is read from storage for
     * the next txid: storage cannot hold what follows transactions it does not hold yet.
     *
     * Parts. ReplicaOpening decides, before the replica exists, what to do with the file it is
     * given; SegmentSource gathers each batch from the stream or storage; ReplicaFile applies
     * it (and undoes what was ahead); AheadOfStorage decides whether what was applied ahead is
     * confirmed, awaited or taken back; Follower decides when to look and how long to back off;
     * this class wires them, applies (applyAvailable) and serves reads.
     *
     * Locks, outermost first; a thread holding one takes only those after it, never before:
     *   1. this          follow() and close(): the follower's lifecycle (closed, follower, feed)
     *   2. applyLock     one apply, settle or take-back at a time, and the fields it guards
     *   3. visibility    write lock, taken by ReplicaFile inside an apply to keep this process's
     *                    readers out; readers take the read lock alone
     *   4. SQLite's EXCLUSIVE lock on the file, through the lock connection, inside (3)
     *   5. progress      txid waiters (awaitTxid); held, it takes nothing
     *   5. the Follower's monitor, a leaf beside progress (never nested with it): the cadence and
     *                    the end of following; held, it takes only the lane's alarm and the
     *                    storage watch's close (their own leaf locks), never 2-4, no apply or read
     * this and applyLock are never nested (close() leaves this before it takes applyLock).
     * Opening (ReplicaOpening) runs before any of them exists.
     */
    private static final Logger log = LoggerFactory.getLogger(Replica.class);
    private static final int BUSY_TIMEOUT_MILLIS = 5000;

    private final Storage storage;
    private final Path path;
    private final String db;
    private final ReplicaOptions options;
    private final FileOwnership ownership;
    private final ReplicaFile file;
    private final Connection lock;
    private final ReadPool readers;
    private final Object applyLock = new Object();
    /**
     * Keeps this process's readers out while a batch is written, instead of SQLite's lock alone:
     * a reader waits for the write however long a large transaction takes, where SQLite's busy
     * timeout would fail it, and fairness lets the writer in between a stream of readers.
     * Readers in other processes still meet the file's EXCLUSIVE lock and their busy timeout.
     */
    private final ReentrantReadWriteLock visibility = new ReentrantReadWriteLock(true);
    private final Object progress = new Object();
    private final Metrics metrics;
    private final Metrics.Timer applyTime;
    private final Metrics.Timer lag;
    private final Metrics.Counter appliedTransactions;
    private final Metrics.Timer tableTime;
    private final ReadDataSource dataSource;
    private final AppliedListeners listeners;
    /** Where the next segments come from, stream or storage. Used under applyLock. */
    private final SegmentSource source;
    /** Names the tables each batch changed while listeners are registered; null otherwise. Guarded by applyLock. */
    private TableMap tables;
    /** System.nanoTime() when a read of storage last found nothing after this replica's txid; 0: never. */
    private volatile long caughtUpNanos;
    /** Applies in the background once follow() was called; else null. Set under this. */
    private volatile Follower follower;
    private final Workers workers;
    private final boolean ownsWorkers;
    private volatile Runnable whenClosed = () -> {
    };
    /** The primary's live stream, while following with {@link ReplicaOptions#stream()}; else null. */
    private volatile StreamFeed feed;
    /** Why the last attempt to apply failed (a WalshipException), since the first of the run; null after a success. */
    private volatile Problem lastError;
    private volatile long lastPollMillis = -1;
    private volatile long appliedMillis = -1;
    private volatile boolean closed;
    /** What was applied before the primary stored it, and what to do about it. Used under applyLock. */
    private final AheadOfStorage ahead;
    private final Metrics.Counter takenBack;

    private Replica(Storage storage, Path path, ReplicaOptions options, FileOwnership ownership, ReplicaFile file,
                    Connection lock, Metrics metrics, String db, Workers workers, boolean ownsWorkers)
            throws SQLException {
        this.storage = storage;
        this.workers = workers;
        this.ownsWorkers = ownsWorkers;
        this.metrics = metrics;
        this.applyTime = metrics.timer(WalshipMeter.REPLICA_APPLY);
        this.lag = metrics.timer(WalshipMeter.REPLICA_LAG);
        this.appliedTransactions = metrics.counter(WalshipMeter.REPLICA_APPLIED_TRANSACTIONS);
        this.tableTime = metrics.timer(WalshipMeter.REPLICA_TABLES);
        this.takenBack = metrics.counter(WalshipMeter.REPLICA_TAKEN_BACK);
        this.path = path;
        this.db = db;
        this.options = options;
        this.ownership = ownership;
        this.file = file;
        this.lock = lock;
        this.readers = new ReadPool(db, options.readConnections(), () -> {
            SQLiteConfig config = new SQLiteConfig();
            config.setReadOnly(true);
            config.setBusyTimeout(BUSY_TIMEOUT_MILLIS);
            return config.createConnection("jdbc:sqlite:" + path);
        });
        this.dataSource = new ReadDataSource(readers, new ReadDataSource.Gate() {
            @Override
            public long enter() throws SQLException {
                lockVisibility();
                if (file.torn() != null) {
                    visibility.readLock().unlock();
                    throw new SQLNonTransientConnectionException(file.torn().getMessage(), file.torn());
                }
                return file.txid();
            }

            @Override
            public void leave() {
                visibility.readLock().unlock();
            }
        }, db);
        this.listeners = new AppliedListeners(db);
        this.source = new SegmentSource(storage, path, options, this::looked);
        this.ahead = new AheadOfStorage(storage, path, db, options.unstoredTimeout(), this::looked);
        metrics.gauge(WalshipMeter.REPLICA_TXID, file::txid);
        metrics.gauge(WalshipMeter.REPLICA_POLL_AGE, () -> lastPollMillis < 0 ? 0
                : Math.max(0, options.clock().millis() - lastPollMillis) / 1e3);
        metrics.gauge(WalshipMeter.REPLICA_FAILED, () -> file.torn() != null ? 1 : 0);
        metrics.gauge(WalshipMeter.REPLICA_UNSTORED, () -> {
            long from = file.aheadFrom();
            return from == 0 ? 0 : Math.max(0, file.txid() - from + 1);
        });
    }

    /** Opens a replica with {@link ReplicaOptions#defaults()}. */
    public static Replica open(Storage storage, Path replica) {
        return open(storage, replica, ReplicaOptions.defaults());
    }

    /**
     * Opens {@code replica}: restores the latest state from storage when the file is missing, does
     * not match its recorded state, or is older than anything storage keeps (moving its own old
     * file aside), finishes an apply that a crash interrupted, and reuses the file otherwise, once
     * storage vouches for it (the same database checksum at its txid).
     *
     * <p>A file that is not this storage's replica is refused and left as it is: a primary's
     * database always, a database without replica state or a replica of another history unless
     * {@link ReplicaOptions#replaceForeignFile()} (it is then moved aside, never deleted).
     *
     * @throws io.walship.DatabaseLockedException another primary or replica owns the file
     * @throws io.walship.TxidNotAvailableException storage holds no snapshot
     * @throws ForeignFileException the file is not this storage's replica; nothing was changed
     */
    public static Replica open(Storage storage, Path replica, ReplicaOptions options) {
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(options, "options");
        Path path = replica.toAbsolutePath().normalize();
        String db = path.getFileName().toString();
        Workers workers = Workers.start(db, Workers.Sizes.single()); // a runtime of one; threads only while following
        try {
            return open(storage, path, options, workers, true, db);
        } catch (RuntimeException e) {
            workers.close();
            throw e;
        }
    }

    /**
     * Opens the replica of database {@code name} of a shared runtime: its storage is
     * {@code runtime.storage(name)}, and it follows on the runtime's threads, with the
     * runtime's other replicas and primaries. Otherwise as {@link #open(Storage, Path, ReplicaOptions)};
     * closing the runtime closes it.
     *
     * @throws IllegalArgumentException {@code name} is not a valid database name
     * @throws IllegalStateException    a database of that name is open in the runtime, or it is closed
     */
    public static Replica open(Walship runtime, String name, Path replica, ReplicaOptions options) {
        Objects.requireNonNull(runtime, "runtime");
        Objects.requireNonNull(options, "options");
        Storage storage = runtime.storage(name);
        Tenants tenants = Tenants.of(runtime);
        Path path = replica.toAbsolutePath().normalize();
        return tenants.open(Tenants.replica(name, path), whenClosed -> {
            Replica opened = open(storage, path, options, tenants.workers(), false, name);
            opened.whenClosed = whenClosed;
            return opened;
        });
    }

    private static Replica open(Storage given, Path path, ReplicaOptions options, Workers workers,
                                boolean ownsWorkers, String db) {
        Metrics metrics = Metrics.of(options.meterRegistry(), db);
        Storage storage = MeteredStorage.wrap(options.encryption().map(e -> e.wrap(given)).orElse(given), metrics);
        ReplicaOpening.Opened opened = null;
        try {
            long started = System.nanoTime();
            opened = ReplicaOpening.open(storage, path, options);
            Replica result = new Replica(storage, path, options, opened.ownership(), opened.file(), opened.lock(),
                    metrics, db, workers, ownsWorkers);
            log.info("replica open db={} storage={} txid={} ms={}", result.db, storage, opened.file().txid(),
                    (System.nanoTime() - started) / 1_000_000);
            return result;
        } catch (IOException | SQLException | RuntimeException e) {
            if (opened != null) {
                ReplicaOpening.closeAll(opened.ownership(), opened.file(), opened.lock(), null);
            }
            metrics.close();
            if (e instanceof RuntimeException) {
                throw (RuntimeException) e;
            }
            throw new UncheckedIOException("opening replica " + path + " failed",
                    e instanceof IOException ? (IOException) e : new IOException(e));
        }
    }

    // ---------------------------------------------------------------- following

    /** Starts applying new segments in the background; calling it again does nothing. */
    public synchronized void follow() {
        if (closed) {
            throw new IllegalStateException("replica is closed: db=" + db);
        }
        if (follower == null) {
            Follower following = new Follower(db, options, workers, storage, new Turns());
            options.stream().ifPresent(uri -> {
                feed = new StreamFeed(db, uri, options.streamToken(), options.streamTls(), file::txid,
                        following::storageChanged);
                feed.start();
            });
            follower = following;
            following.start();
        }
    }

    /**
     * Applies every segment storage holds after this replica's txid, now, and returns the txid
     * reached; also when the next segments were compacted into larger objects and deleted (it
     * then asks for those, a few GETs more). A bad segment is not applied and is thrown after the
     * good ones before it.
     */
    public long poll() {
        try {
            applyAvailable(true);
            clearError();
            return file.txid();
        } catch (IOException e) {
            throw new UncheckedIOException("applying to replica " + db + " failed", e);
        } catch (SQLException e) {
            throw new IllegalStateException("locking replica " + db + " failed", e);
        }
    }

    /** @param probeNow look for compacted objects now if the next segment is missing, else when due */
    private boolean applyAvailable(boolean probeNow) throws IOException, SQLException {
        boolean applied = false;
        synchronized (applyLock) {
            while (!closed) {
                if (file.torn() != null) {
                    throw file.torn();
                }
                if (file.aheadFrom() != 0 && !settleAhead()) {
                    return applied; // storage has not confirmed what was applied ahead: nothing can follow it yet
                }
                long started = System.nanoTime();
                SegmentSource.Batch gathered = source.next(file.txid(), feed, file.aheadFrom() != 0, ahead.connection(),
                        file.aheadBytes(), probeNow);
                List<FetchedSegment> batch = gathered.segments();
                boolean unstored = gathered.unstored();
                long bytes = gathered.bytes();
                try {
                    if (!batch.isEmpty()) {
                        ReplicaFile.Applied done;
                        try {
                            done = file.apply(batch, false, unstored, lock, visibility.writeLock());
                            if (unstored) {
                                ahead.applied(gathered.connection());
                            }
                        } catch (ReplicaFailedException e) {
                            failed(e); // whoever applied (follower or poll), the replica stops the same way
                            throw e;
                        }
                        applied = true;
                        recordApplied(done, started);
                        publish(done, false);
                        log.debug("segments applied db={} key={} txid={} segments={} bytes={} ms={}", db,
                                batch.get(0).key(), file.txid(), batch.size(), bytes,
                                (System.nanoTime() - started) / 1_000_000);
                        synchronized (progress) {
                            progress.notifyAll();
                        }
                    }
                    if (gathered.bad() != null) {
                        throw gathered.bad();
                    }
                    if (batch.isEmpty()) {
                        if (gathered.caughtUpAt() != 0) {
                            caughtUpNanos = gathered.caughtUpAt();
                        }
                        return applied;
                    }
                } finally {
                    batch.forEach(FetchedSegment::close);
                }
            }
        }
        return applied;
    }

    /** Storage was asked, or the stream vouched for it: the poll age starts again. */
    private void looked() {
        lastPollMillis = options.clock().millis();
    }

    /**
     * Settles what was applied ahead of storage before anything else is applied (AheadOfStorage
     * decides; ADR 0017). Returns whether applying may go on; false while waiting for storage.
     */
    private boolean settleAhead() throws IOException, SQLException {
        AheadOfStorage.Settled settled = ahead.settle(feed, file);
        return switch (settled.verdict()) {
            case CONFIRMED -> true;
            case WAIT -> false;
            case TAKE_BACK -> {
                takeBack(settled.reason());
                yield true;
            }
        };
    }

    /** Takes back everything applied ahead of storage, and tells readers, listeners and the stream. */
    private void takeBack(String reason) throws IOException, SQLException {
        long from = file.aheadFrom();
        long to = file.txid();
        ReplicaFile.Applied undone;
        try {
            undone = file.rollBack(lock, visibility.writeLock());
        } catch (ReplicaFailedException e) {
            failed(e);
            throw e;
        }
        takenBack.add(to - from + 1);
        ahead.takenBack();
        log.warn("transactions applied before they were stored taken back, the primary lost them db={} txid={}..{}"
                + " now={} reason={}", db, from, to, file.txid(), reason);
        publish(undone, true);
        StreamFeed pushing = feed;
        if (pushing != null) {
            pushing.reconnect(); // what it sends follows the txids taken back
        }
        synchronized (progress) {
            progress.notifyAll();
        }
    }

    private void recordApplied(ReplicaFile.Applied done, long startedNanos) {
        long now = options.clock().millis();
        appliedMillis = now;
        applyTime.recordSince(startedNanos);
        for (long commitMillis : done.segmentCommitMillis()) {
            lag.record(Math.max(0, now - commitMillis) * 1_000_000);
        }
        appliedTransactions.add(done.transactions());
    }

    /**
     * Hands the batch to the listeners (their threads run them), naming the tables it changed:
     * runs on the applying thread after readers are let back in, holding only applyLock.
     */
    private void publish(ReplicaFile.Applied done, boolean undone) {
        if (listeners.isEmpty()) {
            return;
        }
        Set<String> changed;
        long started = System.nanoTime();
        try {
            changed = tables.changedBy(done);
        } catch (IOException | SQLException | RuntimeException e) {
            changed = tables.allTables();
            tables.invalidate();
            log.warn("tables changed unknown, naming every table db={} txid={}..{} error={}", db, done.firstTxid(),
                    done.lastTxid(), e.toString());
        }
        tableTime.recordSince(started);
        listeners.publish(new AppliedBatch(done.firstTxid(), done.lastTxid(),
                Instant.ofEpochMilli(done.firstCommitMillis()), Instant.ofEpochMilli(done.lastCommitMillis()),
                changed, undone));
    }

    private void clearError() {
        lastError = null;
    }

    private void setError(WalshipException e) {
        Problem previous = lastError;
        lastError = Problem.of(e, previous == null ? options.clock().instant() : previous.since());
        metrics.counter(WalshipMeter.REPLICA_ERRORS, "kind", errorKind(e)).increment();
    }

    /** How meters name an apply failure: corrupt, gap, format, torn, io, or the storage kind. */
    private static String errorKind(WalshipException e) {
        if (e instanceof StorageException) {
            return ((StorageException) e).kind().label();
        }
        if (e instanceof BadObjectException bad) {
            return switch (bad.kind()) {
                case CORRUPT -> "corrupt";
                case TXID_GAP -> "gap";
                case UNSUPPORTED_FORMAT, PAGE_SIZE_MISMATCH -> "format";
            };
        }
        if (e instanceof TxidNotAvailableException) {
            return "gap";
        }
        if (e instanceof ReplicaFailedException) {
            return "torn";
        }
        return "io";
    }

    /** The file is torn: stop following, refuse reads (the pool closes), say so once. */
    private void failed(ReplicaFailedException e) {
        setError(e);
        log.error("replica failed, reads refused until it is reopened db={} txid={} batch={}..{}", db, file.txid(),
                e.firstTxid(), e.lastTxid(), e);
        readers.close();
        synchronized (progress) {
            progress.notifyAll();
        }
    }

    /**
     * Waits until this replica has applied {@code txid} (e.g. the txid of a primary's Ack), for
     * read-your-writes. Returns false if the timeout passed first, or at once when the replica is
     * closed or failed ({@link #status()} says which).
     */
    public boolean awaitTxid(long txid, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (progress) {
            while (file.txid() < txid) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || closed || file.torn() != null) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(progress, left);
            }
            return true;
        }
    }

    // ---------------------------------------------------------------- reading

    /**
     * Runs {@code work} on a pooled read-only connection. Each statement sees whole
     * transactions; to see one state across several statements, switch auto-commit off in the
     * work (the replica then waits for it before applying the next segment). Waits while a batch
     * is being written, however long that takes; so do not wait for the replica's progress
     * ({@link #awaitTxid}) inside {@code work}: the batch waits for the work to end.
     */
    public <T> T read(SqlFunction<T> work) throws SQLException {
        Objects.requireNonNull(work, "work");
        lockVisibility();
        try {
            if (file.torn() != null) {
                throw file.torn();
            }
            return readers.read(work);
        } finally {
            visibility.readLock().unlock();
        }
    }

    private void lockVisibility() throws SQLException {
        try {
            visibility.readLock().lockInterruptibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while waiting for a batch to be applied: db=" + db, e);
        }
    }

    /**
     * As {@link #read(SqlFunction)}, on a state no older than {@code maxStaleness}: the replica
     * holds everything storage held {@code maxStaleness} ago. When its last look at storage is
     * older than that, it applies what storage holds now first, on the calling thread (also when
     * it does not {@link #follow()}). Staleness is measured against storage: what a primary has
     * not stored yet (ASYNC, within its flush interval) is not counted.
     *
     * @throws StaleReadException storage could not be read or what it holds could not be applied
     */
    public <T> T read(Duration maxStaleness, SqlFunction<T> work) throws SQLException {
        Objects.requireNonNull(work, "work");
        long floor = System.nanoTime() - maxStaleness.toNanos(); // storage as it was then, or later
        if (!caughtUpSince(floor)) {
            try {
                poll();
            } catch (ReplicaFailedException e) {
                throw e;
            } catch (WalshipException | UncheckedIOException | IllegalStateException e) {
                throw StaleReadException.tooStale(db, file.txid(), maxStaleness, e);
            }
            if (!caughtUpSince(floor)) {
                throw StaleReadException.tooStale(db, file.txid(), maxStaleness, null);
            }
        }
        return read(work);
    }

    /**
     * As {@link #read(SqlFunction)}, once the replica has applied {@code txid} (the txid of a
     * primary's Ack, passed along by the client): read-your-writes across processes in one call.
     * A following replica is woken to look at once; one that does not follow polls storage
     * itself, every poll interval, until the timeout.
     *
     * @throws StaleReadException {@code txid} was not applied within {@code timeout}
     */
    public <T> T readAtLeast(long txid, Duration timeout, SqlFunction<T> work) throws SQLException {
        Objects.requireNonNull(work, "work");
        if (file.txid() < txid) {
            long deadline = System.nanoTime() + timeout.toNanos();
            try {
                Follower following = follower;
                if (following != null) {
                    following.storageChanged(); // look now, not at the next poll
                    awaitTxid(txid, timeout);
                } else {
                    pollUntil(txid, deadline);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SQLException("interrupted while waiting for txid " + txid + ": db=" + db, e);
            }
            if (file.torn() != null) {
                throw file.torn();
            }
            if (file.txid() < txid) {
                throw StaleReadException.notReached(db, file.txid(), txid, timeout);
            }
        }
        return read(work);
    }

    /** Whether a look at storage at or after {@code floorNanos} found nothing this replica lacked. */
    private boolean caughtUpSince(long floorNanos) {
        long caughtUp = caughtUpNanos;
        return caughtUp != 0 && caughtUp - floorNanos >= 0;
    }

    /** Polls until {@code txid} is applied or the deadline passes; failed polls are retried until then. */
    private void pollUntil(long txid, long deadline) throws InterruptedException {
        while (file.txid() < txid && !closed && file.torn() == null) {
            try {
                poll();
            } catch (ReplicaFailedException e) {
                return;
            } catch (WalshipException | UncheckedIOException | IllegalStateException e) {
                log.debug("poll for readAtLeast failed db={} txid={} error={}", db, file.txid(), e.toString());
            }
            long left = deadline - System.nanoTime();
            if (file.txid() >= txid || left <= 0) {
                return;
            }
            TimeUnit.NANOSECONDS.sleep(Math.min(left, options.pollInterval().toNanos()));
        }
    }

    /**
     * The read pool as a {@link DataSource}, for HikariCP, Spring's {@code JdbcTemplate}, jOOQ,
     * JDBI and the like. Each {@code getConnection()} lends one of the {@code readConnections}
     * read-only connections until it is closed, waiting at most the login timeout (30 s when 0)
     * for one to come free. Every statement sees whole batches: one that starts while a batch is
     * written waits for it, however long, instead of failing busy; with auto-commit off a
     * transaction reads one state until it ends (and the next batch waits for it).
     * {@code connection.unwrap(ReadConnection.class).txid()} says which txid it reads. The pool
     * is already a pool: put none in front, or one no larger than {@code readConnections}.
     */
    public DataSource dataSource() {
        return dataSource;
    }

    /**
     * Calls {@code listener} after every batch this replica applies from now on, on a thread of
     * its own, with the txids, commit times and the tables the batch changed ({@link AppliedBatch}).
     * It sees every txid once and in order; one that falls behind gets the batches it missed as
     * one, and neither a slow nor a failing listener delays applying. The first listener costs a
     * read of the whole file to map its pages to tables (once, now, on the calling thread); each
     * batch then costs a read of the pages it wrote ({@code walship.replica.tables}).
     *
     * @throws IllegalStateException the replica is closed
     */
    public void onApplied(Consumer<AppliedBatch> listener) {
        Objects.requireNonNull(listener, "listener");
        synchronized (applyLock) {
            if (closed) {
                throw new IllegalStateException("replica is closed: db=" + db);
            }
            if (tables == null) {
                try {
                    tables = new TableMap(file, lock);
                } catch (IOException e) {
                    throw new UncheckedIOException("mapping pages to tables failed: db=" + db, e);
                } catch (SQLException e) {
                    throw new IllegalStateException("mapping pages to tables failed: db=" + db, e);
                }
            }
            listeners.add(listener);
        }
    }

    /** Stops calling {@code listener}; false when it was not registered. A batch it is running finishes. */
    public boolean removeOnApplied(Consumer<AppliedBatch> listener) {
        synchronized (applyLock) {
            boolean removed = listeners.remove(listener);
            if (listeners.isEmpty()) {
                tables = null;
            }
            return removed;
        }
    }

    /**
     * How often the page-to-table map was built whole (0 without listeners): a rebuild per batch would mean it loses
     * track.
     */
    long tableMapRebuilds() {
        synchronized (applyLock) {
            return tables == null ? 0 : tables.rebuilds();
        }
    }

    // ---------------------------------------------------------------- state

    /** The last txid applied. */
    public long txid() {
        return file.txid();
    }

    /** Commit time on the primary of the last transaction applied since open, or -1. */
    public long lastCommitMillis() {
        return file.commitMillis();
    }

    /**
     * What the replica is doing now, for a health check: {@link Health#RUNNING},
     * {@link Health#RETRYING} (the last attempt to apply failed; readers see the last good
     * state), {@link Health#FAILED} (reads refused until reopened) or {@link Health#CLOSED};
     * with its txid, the commit and apply times of the last batch, and the last error.
     */
    public ReplicaStatus status() {
        Problem error = lastError;
        Health health = file.torn() != null ? Health.FAILED : closed ? Health.CLOSED
                : error != null ? Health.RETRYING : Health.RUNNING;
        long committed = file.commitMillis();
        long applied = appliedMillis;
        long polled = lastPollMillis;
        return new ReplicaStatus(db, health, file.txid(),
                committed < 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(committed)),
                applied < 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(applied)),
                committed < 0 || applied < 0 ? Optional.empty() : Optional.of(Duration.ofMillis(applied - committed)),
                polled < 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(polled)),
                Optional.ofNullable(error), streamError());
    }

    /**
     * Why the primary's live stream ({@link ReplicaOptions#stream()}) is not delivering and since
     * when: not connected yet, refused (a wrong token), unreachable, gone silent or damaged. Empty
     * while it is connected, and without a stream. The replica reads storage meanwhile; a process
     * that cannot do without the stream gives up after a while (walship follow --stream-timeout).
     */
    public Optional<Problem> streamError() {
        StreamFeed pushing = feed;
        if (pushing == null) {
            return Optional.empty();
        }
        long nowNanos = System.nanoTime();
        Instant now = options.clock().instant();
        return pushing.failure().map(f -> new Problem("stream", f.cause(),
                now.minusNanos(Math.max(0, nowNanos - f.sinceNanos()))));
    }

    /** The error that stopped the last attempt to apply, if that attempt failed. */
    public Optional<WalshipException> lastError() {
        return Optional.ofNullable(lastError).map(p -> (WalshipException) p.error());
    }

    /** The replica's database file. */
    public Path path() {
        return path;
    }

    @Override
    public void close() {
        Follower following;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            following = follower;
        }
        synchronized (progress) {
            progress.notifyAll(); // waiters for a txid give up
        }
        if (following != null) {
            following.awaitEnd(); // its next turn sees closed and ends the following
        }
        listeners.close();
        StreamFeed pushing = feed;
        if (pushing != null) {
            pushing.close();
        }
        synchronized (applyLock) {
            ReplicaOpening.closeAll(ownership, file, lock, readers);
        }
        metrics.close();
        if (ownsWorkers) {
            workers.close();
        }
        log.info("replica closed db={} txid={}", db, file.txid());
        whenClosed.run();
    }

    /** What the follower's turns do to this replica. */
    private final class Turns implements Follower.Turns {
        @Override
        public void applyAvailable() throws IOException, SQLException {
            Replica.this.applyAvailable(false);
        }

        @Override
        public long txid() {
            return file.txid();
        }

        @Override
        public boolean aheadWaiting() {
            return ahead.waiting();
        }

        @Override
        public boolean closed() {
            return closed;
        }

        @Override
        public void succeeded() {
            clearError();
        }

        @Override
        public void failed(WalshipException e) {
            setError(e);
        }
    }

    @Override
    public String toString() {
        return "Replica[db=" + path + ", storage=" + storage + ", txid=" + file.txid() + "]";
    }
}
