package io.walship;

import io.walship.internal.capture.WalCommitFinder;
import io.walship.internal.capture.WalHook;
import io.walship.internal.log.SqliteHeader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * How the primary learns of its writer's commits, in either {@link CaptureMode}, and what each
 * mode needs around the writer: every call is made with the write gate held.
 *
 * <p>WAL_HOOK: the extension reports each commit inside SQLite's commit, refuses checkpoint and
 * journal-mode pragmas from a write's work, and switches off SQLite's checkpoint when the writer
 * closes. WRITER, without native code, gets the same three from what the primary owns: it reads
 * the commit frames the WAL gained after each write ({@link WalCommitFinder}); it looks after
 * each write whether the work left WAL mode (the primary then fails: nothing more could be
 * captured) or checkpointed (the database file changed though walship did not fold: the record
 * is marked DIRTY, so an open after a crash reads the file instead of trusting it); and it keeps
 * a read-only connection open past the writer's close, since SQLite's last connection folds the
 * WAL on close unless another connection holds the database, and a read-only one never folds.
 */
abstract class CommitSource {
    private static final Logger log = LoggerFactory.getLogger(CommitSource.class);

    private final WalCommitFinder finder;
    private final IntConsumer committed;

    CommitSource(FileChannel walChannel, int pageSize, IntConsumer committed) throws IOException {
        this.finder = new WalCommitFinder(walChannel, pageSize);
        this.committed = committed;
    }

    /** The mode {@code requested} resolves to in this JVM (see {@link CaptureMode#AUTO}). */
    static CaptureMode resolve(CaptureMode requested) {
        if (requested != CaptureMode.AUTO) {
            return requested;
        }
        String chosen = System.getProperty("walship.capture", "");
        if (chosen.equalsIgnoreCase("writer")) {
            return CaptureMode.WRITER;
        }
        if (chosen.equalsIgnoreCase("wal_hook")) {
            return CaptureMode.WAL_HOOK;
        }
        return WalHook.shippedForThisPlatform() ? CaptureMode.WAL_HOOK : CaptureMode.WRITER;
    }

    /** Attaches a commit source once the primary knows how many WAL frames are committed already. */
    @FunctionalInterface
    interface Attach {
        CommitSource to(IntConsumer committed) throws SQLException, IOException;
    }

    /** Attaches to {@code writer} in {@code mode} (resolved), reporting commits to {@code committed}. */
    static CommitSource attach(CaptureMode mode, Path database, Connection writer, FileChannel databaseChannel,
                               FileChannel walChannel, int pageSize, IntConsumer committed)
            throws SQLException, IOException {
        return mode == CaptureMode.WAL_HOOK ? new Hook(writer, walChannel, pageSize, committed)
                : new Writer(database, databaseChannel, walChannel, pageSize, committed);
    }

    abstract CaptureMode mode();

    /**
     * After a write's work, whether it committed or not: reports the commits the WAL gained after
     * its first {@code walFrames} frames that were not reported already. Returns why capture
     * cannot go on (the primary then fails), or null.
     */
    abstract String afterWork(CheckpointRecord record, long walFrames, boolean committedSinceCheckpoint)
            throws IOException;

    /**
     * Before walship folds the WAL: reports the commit frames after the first {@code walFrames}
     * that no write of walship's made, in either mode: another process's commit left in the WAL
     * would otherwise be folded into the file and never shipped. (With the hook, one that a
     * later write of walship's follows is met as interference instead, when that write is captured.)
     * False when, with the hook, the WAL was restarted by someone else: nothing is folded then
     * until walship's next commit has met it as interference.
     */
    final boolean findUnreported(long walFrames, boolean committedSinceCheckpoint) throws IOException {
        // with the hook, the commits of a generation someone else started are met as interference
        // when walship's next commit is captured; without it, this is the only look they get
        return finder.findCommits(walFrames, committedSinceCheckpoint, mode() == CaptureMode.WRITER,
                frames -> committed.accept(Math.toIntExact(frames)));
    }

    /** Brackets walship's own checkpoint statements on the writer ({@code on}: before, then after). */
    abstract void internalStatements(Statement statement, boolean on) throws SQLException;

    /**
     * Walship folded the WAL's first {@code frames} frames into the file ({@code emptied}: and
     * truncated the WAL): its next commit may start a new generation, or follow them.
     */
    void folded(long frames, boolean emptied) throws IOException {
        finder.folded(frames, emptied);
    }

    /**
     * Walship's checkpoint came back busy before copying every frame (a reader still reads older
     * ones): it may have copied some into the file, and SQLite cannot start the WAL over at the
     * next commit. Nothing to do with the hook.
     */
    void checkpointBusy() {
    }

    /** Closes the writer, in the order this mode needs; never throws. */
    abstract void closeWriter(Connection writer);

    private static void closeQuietly(AutoCloseable closeable) {
        try {
            closeable.close();
        } catch (Exception e) {
            log.debug("close failed error={}", e.toString());
        }
    }

    /** CaptureMode.WAL_HOOK: the native extension. */
    private static final class Hook extends CommitSource {
        private final long token;
        private final Connection writer;

        Hook(Connection writer, FileChannel walChannel, int pageSize, IntConsumer committed)
                throws SQLException, IOException {
            super(walChannel, pageSize, committed);
            this.writer = writer;
            this.token = WalHook.attach(writer, committed::accept);
        }

        @Override
        CaptureMode mode() {
            return CaptureMode.WAL_HOOK;
        }

        @Override
        String afterWork(CheckpointRecord record, long walFrames, boolean committedSinceCheckpoint) {
            return null; // the hook reported each commit inside it; the authorizer refused the rest
        }

        @Override
        void internalStatements(Statement statement, boolean on) throws SQLException {
            // the hook's authorizer refuses checkpoint pragmas from user code; these are walship's
            statement.execute(on ? "SELECT walship_internal(1)" : "SELECT walship_internal(0)");
        }

        @Override
        void closeWriter(Connection connection) {
            try {
                WalHook.detach(writer, token);
            } catch (SQLException e) {
                log.warn("wal hook detach failed error={}", e.toString());
            }
            closeQuietly(connection);
        }
    }

    /** CaptureMode.WRITER: the writer reads the WAL after each write. */
    private static final class Writer extends CommitSource {
        private final Path database;
        private final FileChannel databaseChannel;
        private final Connection keeper;
        private final ByteBuffer versions = ByteBuffer.allocate(2);
        /** The database file's size and mtime after walship last folded the WAL into it. */
        private long fileSize;
        private long fileNanos;
        private boolean changeReported;

        Writer(Path database, FileChannel databaseChannel, FileChannel walChannel, int pageSize,
               IntConsumer committed) throws SQLException, IOException {
            super(walChannel, pageSize, committed);
            this.database = database;
            this.databaseChannel = databaseChannel;
            this.keeper = openKeeper(database);
            rememberFile();
        }

        /** A read-only connection that has read once holds the database, so the writer's close never folds. */
        private static Connection openKeeper(Path database) throws SQLException {
            SQLiteConfig config = new SQLiteConfig();
            config.setReadOnly(true);
            Connection keeper = config.createConnection("jdbc:sqlite:" + database);
            try (Statement s = keeper.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM sqlite_master")) {
                rs.next();
            } catch (SQLException e) {
                closeQuietly(keeper);
                throw e;
            }
            return keeper;
        }

        @Override
        CaptureMode mode() {
            return CaptureMode.WRITER;
        }

        @Override
        String afterWork(CheckpointRecord record, long walFrames, boolean committedSinceCheckpoint)
                throws IOException {
            findUnreported(walFrames, committedSinceCheckpoint);
            versions.clear();
            if (databaseChannel.read(versions, SqliteHeader.WRITE_VERSION_OFFSET) == 2
                    && (versions.get(0) != SqliteHeader.WAL_VERSION || versions.get(1) != SqliteHeader.WAL_VERSION)) {
                return "the database left WAL mode (PRAGMA journal_mode in a write's work, or another process):"
                        + " walship captures commits from the WAL only";
            }
            if (Files.size(database) != fileSize || Files.getLastModifiedTime(database).to(TimeUnit.NANOSECONDS) != fileNanos) {
                // a checkpoint walship did not run: capture goes on from the WAL, but the file no
                // longer holds the state the record names until walship folds the WAL itself
                record.markDirty();
                if (!changeReported) {
                    changeReported = true;
                    log.warn("database file changed outside walship (a checkpoint in a write's work, or another"
                            + " process): the checkpoint record is marked dirty until walship folds the WAL db={}",
                            database.getFileName());
                }
                rememberFile();
            }
            return null;
        }

        @Override
        void internalStatements(Statement statement, boolean on) {
        }

        @Override
        void folded(long frames, boolean emptied) throws IOException {
            super.folded(frames, emptied);
            changeReported = false;
            fileWrittenByWalship();
        }

        /**
         * A busy checkpoint still copied frames into the file (the record stays DIRTY until a
         * fold completes): walship's own change, not one from outside to warn about.
         */
        @Override
        void checkpointBusy() {
            fileWrittenByWalship();
        }

        private void fileWrittenByWalship() {
            try {
                rememberFile();
            } catch (IOException e) {
                fileSize = -1; // unknown: the next write marks the record dirty, the safe side
                log.warn("database file not readable after a checkpoint db={} error={}", database.getFileName(),
                        e.toString());
            }
        }

        private void rememberFile() throws IOException {
            fileSize = Files.size(database);
            fileNanos = Files.getLastModifiedTime(database).to(TimeUnit.NANOSECONDS);
        }

        @Override
        void closeWriter(Connection connection) {
            closeQuietly(connection); // the keeper still holds the database: no fold on close
            closeQuietly(keeper); // read-only: it cannot fold either
        }
    }
}
