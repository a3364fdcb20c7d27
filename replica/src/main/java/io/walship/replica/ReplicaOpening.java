package io.walship.replica;

import io.walship.BadObjectException;
import io.walship.WalshipException;
import io.walship.internal.FileDurability;
import io.walship.internal.FileOwnership;
import io.walship.internal.ReadPool;
import io.walship.internal.log.FetchedSegment;
import io.walship.internal.log.FormatLayout;
import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.LogLookup;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.SegmentHeader;
import io.walship.internal.log.SegmentReader;
import io.walship.internal.log.SegmentSpill;
import io.walship.internal.log.SnapshotReader;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.storage.Storage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * What {@code Replica.open} decides about the file it is given, before the replica exists:
 * whose it is, whether storage vouches for it, whether a crash left an apply to finish, and
 * when to restore it afresh (moving a damaged or replaced file aside, never deleting it).
 * Static: it works only on the files and storage it is handed, and hands back what it opened.
 */
final class ReplicaOpening {
    private static final Logger log = LoggerFactory.getLogger(ReplicaOpening.class);
    /** Copies of replica files that left storage's history kept beside them, newest first. */
    private static final int KEEP_DIVERGED_COPIES = 3;

    private ReplicaOpening() {
    }

    /** The local files an open replica works on. */
    record Opened(FileOwnership ownership, ReplicaFile file, Connection lock) {
    }

    /**
     * Makes {@code path} a replica of {@code storage} that storage vouches for: reuses the file
     * when its state matches storage (finishing an apply a crash interrupted), and restores it
     * afresh when it is torn, stale or was ahead of a primary that lost what it applied. Refuses a
     * primary's database and, unless the options allow replacing them, files of another history.
     * What it took is released when it throws.
     */
    static Opened open(Storage storage, Path path, ReplicaOptions options) throws IOException, SQLException {
        FileOwnership ownership = null;
        ReplicaFile file = null;
        Connection lock = null;
        try {
            ownership = FileOwnership.acquire(path);
            refuseForeign(path, options);
            SegmentSpill.removeLeftovers(SegmentSpill.besideDatabase(path));
            ownership.removeLeftovers(path);
            Optional<ReplicaState> state = readState(path);
            boolean recovering = false;
            if (state.isPresent() && state.get().rollingBack()) {
                log.warn("replica was taking back transactions its primary had lost when it stopped, restoring"
                        + " again db={} txid={}", path.getFileName(), state.get().txid());
            } else if (state.isPresent() && Files.exists(path)) {
                try {
                    file = ReplicaFile.open(path, state.get());
                    recovering = state.get().applying();
                } catch (BadObjectException e) {
                    if (e.kind() != BadObjectException.Kind.CORRUPT) {
                        throw e;
                    }
                    log.warn("replica file does not match its state, restoring again db={} txid={} reason={}",
                            path.getFileName(), state.get().txid(), e.reason());
                }
            }
            boolean fresh = file == null;
            if (fresh) {
                // a replica's own damaged file is one of a few copies kept; a file replaced as asked is never deleted
                file = restoreFresh(storage, path, options.clock(), Files.exists(ReplicaState.pathFor(path))
                        ? KEEP_DIVERGED_COPIES : Integer.MAX_VALUE);
            }
            lock = openLockConnection(path);
            if (recovering) {
                try {
                    recover(storage, file, state.get(), lock);
                } catch (WalshipException e) {
                    // the interrupted apply cannot be finished (its segments are gone or damaged):
                    // the file is torn, so it is set aside and the replica restored from scratch
                    log.warn("interrupted apply cannot be resumed, restoring again db={} txid={} reason={}",
                            path.getFileName(), state.get().txid(), e.getMessage());
                    closeAll(null, file, lock, null);
                    lock = null;
                    file = restoreFresh(storage, path, options.clock(), KEEP_DIVERGED_COPIES);
                    lock = openLockConnection(path);
                    fresh = true;
                }
            }
            if (!fresh && state.get().ahead()) {
                // applied before the primary stored it, and what it overwrote died with the process
                Optional<Long> recorded = storedChecksumAfter(storage, file.txid(), path);
                if (recorded.isEmpty() || recorded.get() != file.checksum()) {
                    log.warn("replica held transactions its primary had not stored and storage {} them, restoring"
                            + " again db={} txid={}", recorded.isEmpty() ? "does not hold" : "differs from",
                            path.getFileName(), file.txid());
                    closeAll(null, file, lock, null);
                    lock = null;
                    file = restoreFresh(storage, path, options.clock(), KEEP_DIVERGED_COPIES);
                    lock = openLockConnection(path);
                }
            } else if (!fresh) {
                Vouched vouched = vouch(storage, file, path);
                if (vouched.verdict() != Vouched.Verdict.YES) {
                    closeAll(null, file, lock, null);
                    file = null;
                    lock = null;
                    boolean stale = vouched.verdict() == Vouched.Verdict.STALE;
                    if (!stale && !options.replaceForeignFile()) {
                        throw new ForeignFileException(path, ForeignFileException.Kind.OTHER_HISTORY, vouched.reason());
                    }
                    log.warn("replica file {}, restoring afresh db={} reason={}", stale
                            ? "older than what storage keeps" : "of another history replaced, as asked",
                            path.getFileName(), vouched.reason());
                    file = restoreFresh(storage, path, options.clock(), stale ? KEEP_DIVERGED_COPIES : Integer.MAX_VALUE);
                    lock = openLockConnection(path);
                }
            }
            return new Opened(ownership, file, lock);
        } catch (IOException | SQLException | RuntimeException e) {
            closeAll(ownership, file, lock, null);
            throw e;
        }
    }

    private static Optional<ReplicaState> readState(Path path) throws IOException {
        try {
            return ReplicaState.read(ReplicaState.pathFor(path));
        } catch (WalshipException e) {
            log.warn("replica state unreadable, restoring again db={} error={}", path.getFileName(), e.getMessage());
            return Optional.empty();
        }
    }

    /**
     * Refuses, before anything is touched, a file that must not become a replica: a primary's
     * database always, and an existing file that has no replica state unless the options allow
     * replacing it.
     */
    private static void refuseForeign(Path path, ReplicaOptions options) throws IOException {
        Path checkpoint = FileDurability.sibling(path, "-walship.checkpoint");
        Path wal = FileDurability.sibling(path, "-wal");
        if (Files.exists(checkpoint)) {
            throw new ForeignFileException(path, ForeignFileException.Kind.PRIMARY_DATABASE,
                    checkpoint.getFileName() + " lies beside it");
        }
        if (Files.exists(wal) && Files.size(wal) > 0) {
            throw new ForeignFileException(path, ForeignFileException.Kind.PRIMARY_DATABASE, "a write-ahead log "
                    + wal.getFileName() + " of " + Files.size(wal) + " bytes lies beside it, with commits a move"
                    + " would separate from it");
        }
        if (Files.exists(path) && !Files.exists(ReplicaState.pathFor(path)) && !options.replaceForeignFile()) {
            throw new ForeignFileException(path, ForeignFileException.Kind.NOT_A_REPLICA, "no "
                    + ReplicaState.pathFor(path).getFileName() + " beside it");
        }
    }

    /** Whether storage vouches for a replica's state ({@code YES}), and if not, why. */
    private record Vouched(Verdict verdict, String reason) {
        enum Verdict { YES, STALE, FOREIGN }

        static final Vouched YES = new Vouched(Verdict.YES, "");
        /** Older than everything storage keeps: the replica's own history, only stale. */
        static final Vouched STALE = new Vouched(Verdict.STALE, "its txid is before the earliest snapshot storage keeps");

        static Vouched foreign(String reason) {
            return new Vouched(Verdict.FOREIGN, reason);
        }
    }

    /**
     * Whether storage vouches for the replica's state: it records the same database checksum at
     * the replica's txid. Not when it records another one, or holds no such txid although its
     * history reaches that far (a replica of another storage, or of a history storage no longer
     * has: {@code FOREIGN}); a replica older than everything storage keeps is {@code STALE}.
     */
    private static Vouched vouch(Storage storage, ReplicaFile file, Path path) throws IOException {
        long txid = file.txid();
        Optional<Long> recorded = storedChecksumAt(storage, txid, path);
        if (recorded.isPresent()) {
            return recorded.get() == file.checksum() ? Vouched.YES
                    : Vouched.foreign("storage records database checksum " + Long.toHexString(recorded.get())
                    + " at txid " + txid + ", the replica holds " + Long.toHexString(file.checksum()));
        }
        LogCatalog catalog = LogCatalog.list(storage);
        if (catalog.earliestSnapshot().isPresent() && txid < catalog.earliestSnapshot().getAsLong()) {
            return Vouched.STALE;
        }
        return Vouched.foreign("storage holds no state at the replica's txid " + txid + " (its history: "
                + catalog.earliestSnapshot().orElse(-1) + ".." + LogLookup.latestPosition(storage, catalog)
                .map(p -> Long.toString(p.txid())).orElse("none") + ")");
    }

    /**
     * The database checksum storage records at {@code txid}, read as cheaply as storage allows: a
     * snapshot's header, else the header of the segment that starts right after it (its checksum
     * before), else the log object holding {@code txid}, read up to it.
     */
    private static Optional<Long> storedChecksumAt(Storage storage, long txid, Path path) throws IOException {
        String key = ObjectKey.snapshot(txid);
        Optional<byte[]> header = storage.getRange(key, 0, FormatLayout.SNAPSHOT_HEADER_SIZE);
        if (header.isPresent()) {
            return Optional.of(SnapshotReader.open(key, new ByteArrayInputStream(header.get())).databaseChecksum());
        }
        String next = ObjectKey.segment(txid + 1);
        Optional<byte[]> nextHeader = storage.getRange(next, 0, FormatLayout.SEGMENT_HEADER_SIZE);
        if (nextHeader.isPresent()) {
            SegmentHeader parsed = SegmentHeader.parse(next, ByteBuffer.wrap(nextHeader.get()), -1);
            if (parsed.firstTxid() == txid + 1) {
                return Optional.of(parsed.checksumBefore());
            }
        }
        return storedChecksumAfter(storage, txid, path);
    }

    private static ReplicaFile restoreFresh(Storage storage, Path path, InstantSource clock, int keepCopies)
            throws IOException {
        if (Files.exists(path)) {
            Optional<Path> aside = FileDurability.moveAside(path, List.of(""), clock.millis(), keepCopies);
            log.warn("replica file moved aside db={} aside={}", path.getFileName(),
                    aside.map(Path::getFileName).orElse(null));
        }
        Files.deleteIfExists(FileDurability.sibling(path, "-journal"));
        try {
            Restore.run(storage, path, RestoreTarget.latest(), Restore.Progress.NONE,
                    (temp, restored) -> ReplicaFile.convertRestored(temp, path, restored.txid(), restored.checksum()));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        return ReplicaFile.open(path, ReplicaState.read(ReplicaState.pathFor(path)).orElseThrow());
    }

    private static void recover(Storage storage, ReplicaFile file, ReplicaState state, Connection lock)
            throws IOException, SQLException {
        List<FetchedSegment> segments = new ArrayList<>();
        try {
            long next = state.applyingTxid();
            while (next <= state.applyingLastTxid()) {
                String key = ObjectKey.segment(next);
                FetchedSegment fetched = LogLookup.fetch(storage, next, true, SegmentSpill.besideDatabase(file.path()),
                        FetchedSegment.DEFAULT_MEMORY_BYTES).orElseThrow(() -> BadObjectException.corrupt(key,
                        "the log an interrupted apply was using is gone (and no compacted object holds it)", -1));
                segments.add(fetched);
                next = lastTxidOf(fetched) + 1;
            }
            file.apply(segments, true, lock, new ReentrantLock()); // during open: no reader of ours yet
        } finally {
            segments.forEach(FetchedSegment::close);
        }
        log.info("replica apply resumed after a crash db={} firstTxid={} txid={}", file.path().getFileName(),
                state.applyingTxid(), file.txid());
    }

    /** The database checksum storage recorded after {@code txid}; empty when storage does not hold it. */
    static Optional<Long> storedChecksumAfter(Storage storage, long txid, Path path) throws IOException {
        Optional<LogLookup.Opened> opened = LogLookup.openHolding(storage, txid, SegmentSpill.besideDatabase(path),
                FetchedSegment.DEFAULT_MEMORY_BYTES);
        if (opened.isEmpty()) {
            return Optional.empty();
        }
        try (LogLookup.Opened holding = opened.get()) {
            holding.reader().nextTransaction();
            return Optional.of(holding.reader().readPages((pgno, image) -> { }));
        }
    }

    /** Checks a fetched segment whole and returns its last txid. */
    static long lastTxidOf(FetchedSegment fetched) throws IOException {
        try (SegmentReader segment = fetched.open()) {
            return segment.lastTxid();
        }
    }

    /**
     * Takes SQLite's lock for applies (BEGIN EXCLUSIVE / COMMIT; never writes through SQLite) and
     * reads the schema for the page map. Busy timeout 0: the apply retries EXCLUSIVE itself,
     * letting this process's readers in between (ReplicaFile, step 3).
     */
    private static Connection openLockConnection(Path path) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setBusyTimeout(0);
        return config.createConnection("jdbc:sqlite:" + path);
    }

    /** Closes in reverse order (readers first, ownership last); nulls are skipped, failures logged. */
    static void closeAll(FileOwnership ownership, ReplicaFile file, Connection lock, ReadPool readers) {
        try (ownership; file; lock; readers) {
            log.debug("replica resources closing db={}", file == null ? "?" : file.path().getFileName());
        } catch (Exception e) {
            log.warn("close failed error={}", e.toString());
        }
    }
}
