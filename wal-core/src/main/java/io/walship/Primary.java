package io.walship;

import io.walship.internal.FileDurability;
import io.walship.internal.FileOwnership;
import io.walship.internal.ReadDataSource;
import io.walship.internal.ReadPool;
import io.walship.internal.log.DatabaseChecksum;
import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.LogLookup;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.Position;
import io.walship.internal.log.SegmentSpill;
import io.walship.internal.log.SqliteHeader;
import io.walship.internal.log.StoredHistory;
import io.walship.internal.metrics.MeteredStorage;
import io.walship.internal.metrics.Metrics;
import io.walship.internal.work.SerialExecutor;
import io.walship.internal.work.Workers;
import io.walship.metrics.WalshipMeter;
import io.walship.storage.ObjectInfo;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
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
     * Opening. Empty storage: the local file (or a new database) becomes the snapshot at txid 0.
     * Otherwise storage's newest position is read (the last segment's final checksum) and Resume
     * takes up the local file: a file that continues storage's history is used as it is, with
     * the commits its WAL holds beyond storage shipped; a file behind storage is brought forward
     * from storage's log; only a file that left the history (or is missing) is moved aside
     * (keepDivergedCopies) and rebuilt through the restore path. A lock file
     * (<db>-walship.lock) keeps a second primary off the same file; create-only storage writes
     * fence one on the same storage.
     *
     * Writing. A gate (ReentrantLock) admits one write at a time to the writer connection; the
     * WAL hook assigns the next txid inside SQLite's commit and queues it for the capture
     * thread (LocalWal). Writers also fold the WAL into the database file, inline like SQLite's
     * own auto-checkpoint, once it holds checkpointFrames frames and everything in it is stored.
     *
     * Threads: the callers (writers, readers), and lanes on the runtime's pools (a Walship's,
     * or a runtime of one for Primary.open): capture (WAL -> transactions), the flusher
     * (transactions -> segments -> storage), maintenance (snapshots, checkpoints that waited for
     * storage), compaction. See ADR 0022.
     *
     * No silent failure. Whatever escapes the capture loop, the flusher or a maintenance task
     * (any Throwable: a Storage's unexpected RuntimeException, an OutOfMemoryError, a bug)
     * fails the primary: one ERROR line, every waiting ack completes exceptionally with a
     * NotStoredException (FencedException when fenced) whose cause is the error, later writes
     * throw it, status() says FAILED with it, and the walship.primary.failed gauge goes to 1.
     * What is expected and retried is not a failure: storage errors (StorageException, retried
     * with backoff, status RETRYING) and a scheduled snapshot's local I/O error (reported, tried
     * again at the next threshold).
     *
     * [1] DESIGN.md, "Capture", "Living through time" and "Durability, acks, fencing".
     * [2] docs/adr/0006-restart-resumes-from-the-local-file.md
     */
    private static final Logger log = LoggerFactory.getLogger(Primary.class);

    private final Path path;
    private final String db;
    private final Storage storage;
    private final PrimaryOptions options;
    private final int pageSize;
    private final FileOwnership ownership;
    private final FileChannel databaseChannel;
    private final FileChannel walChannel;
    private final ReentrantLock gate = new ReentrantLock();
    /** Running, closed, or failed and why: what every stage asks and reports to. */
    private final Lifecycle lifecycle;
    private final AckRegistry acks;
    private final StorageWriter storageWriter;
    private final SegmentFlusher flusher;
    private final LocalWal wal;
    /** The runtime's threads this primary's background work runs on. */
    private final Workers workers;
    /** Whether the workers are this primary's alone (opened without a runtime): closed with it. */
    private final boolean ownsWorkers;
    private final SerialExecutor maintenanceLane;
    /** Runs tasks on the maintenance lane; whatever escapes one fails the primary. */
    private final Executor maintenance;
    private final Metrics metrics;
    private final PrimaryMeters meters;
    private final Connection writer;
    private final LentWriter lentWriter;
    private final ReadPool readers;
    private final ReadDataSource dataSource;
    private final TransactionWindow window;
    private final List<SubscriptionRunner> subscriptions = new CopyOnWriteArrayList<>();
    private final List<StreamServer> streams = new CopyOnWriteArrayList<>();
    private final SnapshotTaker snapshots;
    /** Compaction and retention, when this primary runs them; else null. */
    private final BackgroundCompaction compaction;
    private OpenOutcome openOutcome;

    private volatile Runnable whenClosed = () -> {
    };

    /**
     * @param start        what the file holds, its WAL's commits and its record (Resume, or a bootstrap)
     * @param storedTxid   the newest txid in storage
     * @param storedChecksum the database checksum at {@code storedTxid}: where the next segment starts
     */
    private Primary(Path path, Storage storage, PrimaryOptions options, FileOwnership ownership, Resume.Resumed start,
                    long storedTxid, long storedChecksum, long lastSnapshotTxid, long lastSnapshotMillis,
                    Workers workers, boolean ownsWorkers, String db, SegmentSpill memory)
            throws IOException, SQLException {
        this.path = path;
        this.db = db;
        this.workers = workers;
        this.ownsWorkers = ownsWorkers;
        this.metrics = Metrics.of(options.meterRegistry(), db);
        this.meters = new PrimaryMeters(metrics);
        this.storage = MeteredStorage.wrap(storage, metrics);
        this.options = options;
        this.ownership = ownership;
        this.pageSize = start.filePages().pageSize();

        // Long-lived descriptors, opened before any SQLite connection and closed after the last.
        this.databaseChannel = FileChannel.open(path, StandardOpenOption.READ);
        this.walChannel = FileChannel.open(FileDurability.sibling(path, "-wal"), StandardOpenOption.READ,
                StandardOpenOption.WRITE, StandardOpenOption.CREATE);
        this.maintenanceLane = workers.serial(Workers.Pool.MAINTENANCE, "maintenance-" + db);
        this.maintenance = task -> maintenanceLane.execute(() -> runMaintenance(task));
        this.acks = new AckRegistry(storedTxid, meters.ackLatency);
        this.storageWriter = new StorageWriter(this.storage, options, db, meters);
        SegmentSpill spill = new SegmentSpill(SegmentSpill.besideDatabase(path), options.captureMemoryBytes(), memory);
        spill.removeLeftovers();
        this.window = new TransactionWindow(options.streamWindowBytes(), pageSize, storedTxid);
        this.lifecycle = new Lifecycle(db, options.clock(), acks, window);
        StageContext stages = new StageContext(db, path, options, this.storage, pageSize, databaseChannel, walChannel,
                gate, acks, storageWriter, meters, workers, maintenance, lifecycle);
        this.flusher = new SegmentFlusher(stages, storedChecksum, window, spill);
        CaptureMode captureMode = CommitSource.resolve(options.captureMode());
        this.writer = openWriter(captureMode);
        this.lentWriter = new LentWriter(writer, db);
        this.wal = new LocalWal(stages, writer, start, storedTxid, flusher,
                committed -> CommitSource.attach(captureMode, path, writer, databaseChannel, walChannel, pageSize,
                        committed));
        lifecycle.newestTxidFrom(wal::assignedTxid);
        this.snapshots = new SnapshotTaker(stages, wal, flusher, lastSnapshotTxid, lastSnapshotMillis);
        // armed at once (its first run after compactionInterval): made once everything that can fail has opened
        this.compaction = options.compaction()
                .map(policy -> new BackgroundCompaction(db, path, this.storage, policy, options, metrics,
                        workers))
                .orElse(null);
        this.readers = new ReadPool(db, options.readConnections(), this::openReader);
        this.dataSource = new ReadDataSource(readers, new ReadDataSource.Gate() {
            @Override
            public long enter() {
                return wal.assignedTxid(); // read before the statement: a lower bound
            }

            @Override
            public void leave() {
            }
        }, db);
        registerGauges();
        // the stages as peers, all built: each stored segment may fold the WAL, call for a snapshot, wake compaction
        flusher.start((lastTxid, segmentBytes) -> {
            snapshots.segmentStored(segmentBytes, lifecycle.closing());
            wal.stored(lastTxid);
            if (compaction != null) {
                compaction.written();
            }
        });
        wal.start();
    }

    /**
     * Opens {@code database} as the primary of {@code storage}: bootstraps empty storage from it
     * (or from a new database); otherwise takes it up where it stands - resuming from the file
     * and its WAL and shipping the transactions storage lacks, bringing a file that is behind
     * storage forward, and rebuilding only a file that left storage's history (moved aside,
     * never lost: see {@link PrimaryOptions#keepDivergedCopies()}). {@link #openOutcome()} says
     * which it was.
     *
     * @throws DatabaseLockedException another primary has the file open
     * @throws FencedException        another primary bootstrapped the same storage at the same time
     */
    public static Primary open(Storage storage, Path database, PrimaryOptions options) {
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(options, "options");
        Path path = database.toAbsolutePath().normalize();
        String db = path.getFileName().toString();
        Workers workers = Workers.start(db, Workers.Sizes.single()); // a runtime of one
        try {
            return open(storage, path, options, workers, true, db, null);
        } catch (RuntimeException e) {
            workers.close();
            throw e;
        }
    }

    /**
     * Opens a primary whose background work runs on {@code workers} (a {@link Walship} runtime's),
     * closing them with it when {@code ownsWorkers}; {@code db} names it in logs and metrics; its
     * captured segments hold memory within {@code memory} too, the runtime's budget (null: none).
     */
    static Primary open(Storage given, Path path, PrimaryOptions options, Workers workers, boolean ownsWorkers,
                        String db, SegmentSpill memory) {
        // with encryption, every object the primary puts or reads goes through its envelope
        Storage storage = options.encryption().map(e -> e.wrap(given)).orElse(given);
        FileOwnership ownership = null;
        Resume.Resumed start = null;
        try {
            ownership = FileOwnership.acquire(path);
            long started = System.nanoTime();
            int leftovers = ownership.removeLeftovers(path);
            if (leftovers > 0) {
                log.info("temporary files a killed process left removed db={} count={}", path.getFileName(), leftovers);
            }
            LogCatalog catalog = StoredHistory.withSnapshotsAskedFor(storage, LogCatalog.list(storage));
            Optional<Position> position = LogLookup.latestPosition(storage, catalog);
            Primary primary;
            long storedTxid = position.map(Position::txid).orElse(0L);
            if (position.isEmpty()) {
                start = bootstrapFile(path, options, catalog);
                primary = new Primary(path, storage, options, ownership, start, 0, start.filePages().value(), -1,
                        options.clock().millis(), workers, ownsWorkers, db, memory);
                primary.bootstrap();
            } else {
                start = Resume.run(storage, path, position.get(), catalog, options);
                Map.Entry<Long, ObjectInfo> lastSnapshot = catalog.snapshots().lastEntry();
                primary = new Primary(path, storage, options, ownership, start, storedTxid,
                        position.get().checksum(), lastSnapshot.getKey(),
                        lastSnapshot.getValue().lastModified().toEpochMilli(), workers, ownsWorkers, db, memory);
            }
            long txid = primary.wal.assignedTxid();
            primary.openOutcome = new OpenOutcome(start.kind(), txid, storedTxid, start.walTransactions(),
                    Math.max(0, txid - storedTxid), start.appliedTransactions(), start.pagesWritten(),
                    start.fileRead(), start.reason(), start.movedAside(), (System.nanoTime() - started) / 1_000_000);
            if (txid > storedTxid) {
                primary.flusher.requestFlush(txid); // commits recovered from the WAL ship now, in either mode
            }
            log.info("primary open db={} storage={} outcome={} txid={} storedTxid={} walTxns={} applied={} pages={}"
                            + " fileRead={} pageSize={} durability={} capture={} ms={}", primary.db, storage, start.kind(),
                    txid, storedTxid, start.walTransactions(), start.appliedTransactions(), start.pagesWritten(),
                    start.fileRead(), primary.pageSize, options.durability(), primary.wal.captureMode(),
                    primary.openOutcome.millis());
            log.debug("primary options db={} options={}", primary.db, options);
            return primary;
        } catch (IOException | SQLException | RuntimeException e) {
            if (start != null) {
                closeQuietly(start.record());
            }
            closeQuietly(ownership);
            if (e instanceof RuntimeException) {
                throw (RuntimeException) e;
            }
            throw new UncheckedIOException("opening primary " + path + " failed",
                    e instanceof IOException ? (IOException) e : new IOException(e));
        }
    }

    /** Empty storage: the local file (or a new database) is folded and becomes the state at txid 0. */
    private static Resume.Resumed bootstrapFile(Path path, PrimaryOptions options, LogCatalog catalog)
            throws IOException, SQLException {
        if (!catalog.log().isEmpty()) {
            throw BadObjectException.corrupt(ObjectKey.LOG_PREFIX, "storage holds segments but no snapshot"
                    + " (a foreign or damaged prefix: point the primary at an empty prefix or restore the snapshots)",
                    -1);
        }
        LocalFile.prepare(path, options.pageSize());
        DatabaseChecksum pages;
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
            pages = DatabaseChecksum.of(channel, SqliteHeader.pageSize(channel));
        }
        CheckpointRecord record = CheckpointRecord.create(path, 0, pages, 0);
        return new Resume.Resumed(0, pages, 0, List.of(), record, OpenOutcome.Kind.BOOTSTRAPPED, 0, 0, 0, true, "",
                Optional.empty());
    }

    /** Stores the snapshot at txid 0 that makes this database storage's history. */
    private void bootstrap() {
        try {
            snapshot();
            if (lifecycle.failure() != null) {
                throw lifecycle.failure();
            }
        } catch (RuntimeException e) {
            closeAfterFailure();
            throw e;
        }
    }

    private Connection openWriter(CaptureMode captureMode) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        // the extension switches it off again once loaded; without the hook it is never on
        config.enableLoadExtension(captureMode == CaptureMode.WAL_HOOK);
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        config.setBusyTimeout(StageContext.BUSY_TIMEOUT_MILLIS);
        Connection conn = config.createConnection("jdbc:sqlite:" + path);
        try (Statement s = conn.createStatement()) {
            s.execute("PRAGMA wal_autocheckpoint=0");
        }
        return conn;
    }

    private Connection openReader() throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setBusyTimeout(StageContext.BUSY_TIMEOUT_MILLIS);
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
     * <p>The connection is lent to the work: closing it (a try-with-resources on it) ends the loan,
     * not the primary's writer, and the work's transaction still commits when the work returns;
     * after the work it refuses every call. A work that closes the writer itself (through a
     * Statement's {@code getConnection()}) stops the primary: writes are refused until it is
     * opened again.
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
            lifecycle.checkUsable();
            T value;
            try {
                value = runInTransaction(work);
            } finally {
                findCommits(); // also after a work that threw: it may have committed before
            }
            long txid = wal.assignedTxid();
            wal.afterWrite();
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
            T value;
            try {
                value = work.apply(lentWriter.lend());
            } finally {
                lentWriter.end();
                checkWriterOpen();
            }
            if (!writer.getAutoCommit()) {
                writer.commit();
            }
            done = true;
            return value;
        } finally {
            if (!done && !writer.isClosed() && !writer.getAutoCommit()) {
                writer.rollback();
            }
        }
    }

    /**
     * The work may reach the writer itself (a Statement's getConnection, unwrap) and close it:
     * then nothing can be written or checkpointed any more, so the primary fails, loudly, instead
     * of answering RUNNING while every write fails.
     */
    private void checkWriterOpen() throws SQLException {
        if (writer.isClosed()) {
            NotStoredException e = new NotStoredException(wal.assignedTxid(), "the primary's writer connection was"
                    + " closed by the work of a write (through Statement.getConnection() or unwrap); close the primary"
                    + " and open it again: every committed transaction is kept", null);
            log.error("writer connection closed by a write's work, primary stops db={} txid={}", db,
                    wal.assignedTxid());
            lifecycle.fail(e);
            throw e;
        }
    }

    /**
     * WRITER capture: reports the commits the work made and checks it left the WAL in walship's
     * hands; when it did not (journal mode changed) the primary stops, keeping every commit.
     */
    private void findCommits() throws SQLException {
        if (lifecycle.failure() != null) {
            return;
        }
        String problem;
        try {
            problem = wal.afterWork();
        } catch (IOException e) {
            problem = "reading the WAL after a write failed: " + e;
        }
        if (problem != null) {
            NotStoredException e = new NotStoredException(wal.assignedTxid(), problem + "; close the primary and"
                    + " open it again (every committed transaction is kept)", null);
            log.error("capture cannot go on, primary stops db={} txid={} reason={}", db, wal.assignedTxid(), problem);
            lifecycle.fail(e);
            throw e;
        }
    }

    // ---------------------------------------------------------------- reading

    /** Runs {@code work} on a pooled read-only connection and returns its result. */
    public <T> T read(SqlFunction<T> work) throws SQLException {
        Objects.requireNonNull(work, "work");
        return readers.read(work);
    }

    /**
     * The read pool as a {@link DataSource}, for HikariCP, Spring's {@code JdbcTemplate}, jOOQ,
     * JDBI and the like: each {@code getConnection()} lends one of the {@code readConnections}
     * read-only connections (waiting at most the login timeout, 30 s when 0) until it is closed.
     * {@code connection.unwrap(ReadConnection.class).txid()} is a lower bound of the txid it
     * reads. The pool is already a pool: put none in front, or one no larger than
     * {@code readConnections}. Writes go through {@link #write}; these connections refuse them.
     */
    public DataSource dataSource() {
        return dataSource;
    }

    // ---------------------------------------------------------------- subscribing

    /**
     * Delivers every transaction from {@code fromTxid} on to {@code subscriber}, in txid order and
     * once each, on a thread of the subscription's own: the txid, commit time, pages and the
     * database checksum after it, and whether it was stored. Recent transactions come from
     * memory the moment they are captured ({@link PrimaryOptions#streamWindowBytes}), older ones
     * from storage, so a subscriber that starts behind catches up and goes on without a gap. A
     * subscriber reading from memory that falls further behind than the window is cut off
     * ({@link SubscriptionEndedException.Reason#TOO_SLOW}); subscribing again from its
     * {@code nextTxid} goes on from storage. Nothing a subscriber does slows writers or capture:
     * while nobody subscribes walship keeps no window at all, and with subscribers the capture
     * thread copies each transaction's pages once. Ends when the primary closes or fails.
     *
     * @param fromTxid the first txid to deliver, 1 or more (e.g. a replica's txid + 1, or
     *                 {@link #txid()} + 1 for only what commits from now on)
     */
    public Subscription subscribe(long fromTxid, TransactionSubscriber subscriber) {
        Objects.requireNonNull(subscriber, "subscriber");
        if (fromTxid < 1) {
            throw new IllegalArgumentException("fromTxid must be 1 or more: " + fromTxid);
        }
        lifecycle.checkUsable();
        SubscriptionRunner runner = new SubscriptionRunner(db, window, storage, SegmentSpill.besideDatabase(path),
                fromTxid, subscriber, subscriptions.size() + 1);
        subscriptions.removeIf(s -> !s.isOpen());
        subscriptions.add(runner);
        runner.start();
        return runner;
    }

    /**
     * Serves this primary's transactions over TCP to replicas in other processes
     * ({@code ReplicaOptions.stream} with {@link StreamServer#uri()}); a client presents
     * {@code token} and the txid to start from (docs/FORMAT.md, "Stream hello"), and each
     * connection is a {@link #subscribe subscription}.
     * Storage stays the durable record: a replica falls back to it whenever the stream is down or
     * behind. Closed with the primary, or by closing the returned server.
     *
     * @param address where to listen, e.g. {@code new InetSocketAddress("localhost", 0)} for any free port
     * @param token   what clients must send; not logged
     */
    public StreamServer serveStream(InetSocketAddress address, String token) throws IOException {
        return serve(address, token, null, false);
    }

    /**
     * As {@link #serveStream(InetSocketAddress, String)}, over TLS: replicas connect to
     * {@code walships://host:port} and check the server's certificate; with
     * {@code requireClientCertificates}, the server checks theirs too (against {@code tls}'s
     * trust managers). Pages never cross the network in the clear. docs/STREAM.md says how to
     * build the context from PKCS12 files.
     *
     * @param tls the server's key (and, for client certificates, trust) material
     */
    public StreamServer serveStream(InetSocketAddress address, String token, javax.net.ssl.SSLContext tls,
                                    boolean requireClientCertificates) throws IOException {
        return serve(address, token, Objects.requireNonNull(tls, "tls"), requireClientCertificates);
    }

    private StreamServer serve(InetSocketAddress address, String token, javax.net.ssl.SSLContext tls,
                               boolean requireClientCertificates) throws IOException {
        lifecycle.checkUsable();
        StreamServer server = new StreamServer(new Streamed(), address, token, tls, requireClientCertificates);
        streams.add(server);
        return server;
    }

    /** This primary as its stream servers see it. */
    private final class Streamed implements StreamSource {
        @Override
        public String db() {
            return db;
        }

        @Override
        public int pageSize() {
            return pageSize;
        }

        @Override
        public long storedTxid() {
            return acks.storedTxid();
        }

        @Override
        public Subscription subscribe(long fromTxid, TransactionSubscriber subscriber) {
            return Primary.this.subscribe(fromTxid, subscriber);
        }

        @Override
        public void onStored(Runnable listener) {
            window.addStoredListener(listener);
        }

        @Override
        public void removeOnStored(Runnable listener) {
            window.removeStoredListener(listener);
        }
    }

    // ---------------------------------------------------------------- checkpoint, snapshot

    /**
     * Folds the WAL into the database file now. Only stored transactions are ever folded, so
     * this asks for an upload of what is pending and waits for it, holding off writers
     * meanwhile (about one storage write). Returns false when it could not happen now (storage
     * failing, a snapshot reading the WAL, or a reader still reading frames older than the WAL's
     * last, which SQLite cannot copy under it); the primary retries on its own later.
     */
    public boolean checkpoint() throws SQLException {
        lifecycle.checkUsable();
        return wal.checkpoint();
    }

    /**
     * Takes a snapshot of the current state, stores it under {@code snapshots/<txid>} and
     * returns its txid. Writers go on meanwhile. Returns at once when the newest snapshot is
     * already at the current txid.
     */
    public long snapshot() {
        return snapshots.take();
    }

    // ---------------------------------------------------------------- state

    /** The txid of the last committed transaction (stored or not). */
    public long txid() {
        return wal.assignedTxid();
    }

    /** How {@link #open} took up the local database file. */
    public OpenOutcome openOutcome() {
        return openOutcome;
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

    /**
     * What the primary is doing now, for a health check: {@link Health#RUNNING},
     * {@link Health#RETRYING} while storage refuses writes (acks wait; nothing is lost),
     * {@link Health#FAILED} once it stopped (writes refused; the error says why), or
     * {@link Health#CLOSED}; with txids, what waits for storage and the last error.
     */
    public PrimaryStatus status() {
        long txid = wal.assignedTxid();
        long stored = acks.storedTxid();
        Problem outage = storageWriter.outageProblem();
        Problem failed = lifecycle.problem();
        Health health = failed != null ? Health.FAILED : lifecycle.closing() ? Health.CLOSED
                : outage != null ? Health.RETRYING : Health.RUNNING;
        Problem background = snapshots.failure() != null ? snapshots.failure()
                : compaction != null ? compaction.failure() : null;
        Optional<Problem> error = Optional.ofNullable(failed != null ? failed
                : outage != null ? outage : background);
        long lastStored = storageWriter.lastStoredMillis();
        return new PrimaryStatus(db, health, txid, stored, Math.max(0, txid - stored), flusher.pendingBytes(),
                lastStored < 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(lastStored)),
                snapshots.lastSnapshotTxid(), error);
    }

    private void registerGauges() {
        metrics.gauge(WalshipMeter.PRIMARY_TXID, wal::assignedTxid);
        metrics.gauge(WalshipMeter.PRIMARY_STORED_TXID, acks::storedTxid);
        metrics.gauge(WalshipMeter.PRIMARY_PENDING_TRANSACTIONS,
                () -> Math.max(0, wal.assignedTxid() - acks.storedTxid()));
        metrics.gauge(WalshipMeter.PRIMARY_PENDING_BYTES, flusher::pendingBytes);
        metrics.gauge(WalshipMeter.PRIMARY_UNSTORED_AGE, () -> acks.oldestWaitNanos() / 1e9);
        metrics.gauge(WalshipMeter.PRIMARY_STORAGE_FAILING, () -> storageWriter.outage() != null ? 1 : 0);
        metrics.gauge(WalshipMeter.PRIMARY_FAILED, () -> lifecycle.failure() != null ? 1 : 0);
        metrics.gauge(WalshipMeter.PRIMARY_SNAPSHOT_TXID, snapshots::lastSnapshotTxid);
    }

    /** Page size of the database. */
    public int pageSize() {
        return pageSize;
    }

    /** The database file this primary writes. */
    public Path path() {
        return path;
    }

    /** An Ack for everything committed so far; in ASYNC mode also asks for an upload now. */
    public Ack<Void> flush() {
        long txid = wal.assignedTxid();
        wal.capture().hurry();
        flusher.requestFlush(txid);
        return new Ack<>(txid, null, acks.futureFor(txid));
    }

    /**
     * Returns once the segment holding {@code txid} is stored, the stages were told (folds, the
     * snapshot cadence, compaction), and the maintenance lane has run what they scheduled then;
     * false when {@code timeout} passed first or the primary stopped. Lets a test check that
     * something did not happen (no snapshot, no fold) at a known point instead of after a sleep.
     */
    boolean awaitQuiet(long txid, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!flusher.awaitTold(txid, deadline)) {
            return false;
        }
        CountDownLatch drained = new CountDownLatch(1);
        try {
            maintenanceLane.execute(drained::countDown); // the lane is serial: behind what was scheduled
        } catch (RejectedExecutionException e) {
            return false;
        }
        return drained.await(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    /** Captured bytes not yet stored. */
    long pendingBytes() {
        return flusher.pendingBytes();
    }

    /** How many times the WAL was found changed by someone else and the difference shipped. */
    long resyncs() {
        return wal.capture().resyncs();
    }

    private void runMaintenance(Runnable task) {
        try {
            task.run();
        } catch (Throwable t) {
            lifecycle.stoppedBy("maintenance", t);
        }
    }

    // ---------------------------------------------------------------- closing

    /**
     * Stops taking writes, waits up to {@code closeTimeout} for pending transactions to be
     * stored, folds the WAL into the database file when all of it is stored, and releases the
     * database. Transactions still not stored then fail their acks with
     * {@link NotStoredException}; they stay committed in the WAL and the next {@link #open}
     * ships them.
     */
    @Override
    public void close() {
        gate.lock();
        try {
            if (!lifecycle.close()) {
                return;
            }
        } finally {
            gate.unlock();
        }
        long txid = wal.assignedTxid();
        try {
            flusher.requestFlush(txid);
            acks.futureFor(txid).get(options.closeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            log.error("close timed out before storing db={} txid={} storedTxid={} (the unstored transactions stay"
                    + " in the WAL and are shipped by the next open)", db, txid, acks.storedTxid());
        } catch (ExecutionException e) {
            // the ack already carries the failure to its waiters
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        acks.fail(t -> new NotStoredException(t, "primary closed before storing it", null));
        endSubscriptions();
        // no interrupt: a thread interrupted in FileChannel I/O closes the channel for everyone
        // (the record, the WAL); a running snapshot stops at its next page instead
        maintenanceLane.shutdown();
        awaitMaintenance();
        if (lifecycle.failure() == null) {
            gate.lock();
            try {
                wal.foldAtClose(); // the file alone then holds the database
            } catch (SQLException | RuntimeException e) {
                log.warn("final wal checkpoint failed db={} txid={} error={}", db, txid, e.toString());
            } finally {
                gate.unlock();
            }
        }
        shutdown();
        log.info("primary closed db={} txid={} storedTxid={}", db, txid, acks.storedTxid());
    }

    private void closeAfterFailure() {
        lifecycle.close();
        endSubscriptions();
        shutdown();
    }

    /** Ends every subscription (PRIMARY_CLOSED unless failed already) and waits for them, a bounded time. */
    private void endSubscriptions() {
        streams.forEach(StreamServer::close);
        window.end(SubscriptionEndedException.Reason.PRIMARY_CLOSED);
        long deadline = System.nanoTime() + options.closeTimeout().toNanos();
        for (SubscriptionRunner subscription : subscriptions) {
            if (!subscription.awaitEnd(Math.max(0, deadline - System.nanoTime()))) {
                log.warn("subscription still running at close db={} nextTxid={} (its subscriber does not return)",
                        db, subscription.nextTxid());
            }
        }
    }

    private void shutdown() {
        if (compaction != null) {
            compaction.close();
        }
        maintenanceLane.shutdown();
        awaitMaintenance();
        wal.stop();
        flusher.close();
        if (lifecycle.failure() != null || acks.storedTxid() < wal.assignedTxid()) {
            flusher.abandon();
        }
        try {
            flusher.awaitFinished();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(readers);
        wal.closeWriter();
        closeQuietly(walChannel);
        closeQuietly(databaseChannel);
        closeQuietly(ownership);
        metrics.close();
        if (ownsWorkers) {
            workers.close();
        }
        whenClosed.run();
    }

    /** Runs {@code action} once this primary has closed (its runtime frees the name). */
    void whenClosed(Runnable action) {
        this.whenClosed = action;
    }

    private void awaitMaintenance() {
        try {
            maintenanceLane.awaitTermination(options.closeTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(AutoCloseable closeable) {
        ReadPool.closeQuietly(closeable);
    }

    @Override
    public String toString() {
        return "Primary[db=" + path + ", storage=" + storage + ", txid=" + wal.assignedTxid() + "]";
    }
}
