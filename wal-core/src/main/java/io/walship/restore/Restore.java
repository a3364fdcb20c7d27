package io.walship.restore;

import io.walship.BadObjectException;
import io.walship.TxidNotAvailableException;
import io.walship.WalshipException;
import io.walship.internal.FileDurability;
import io.walship.internal.log.DatabaseImage;
import io.walship.internal.log.FetchedSegment;
import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.LogLookup;
import io.walship.internal.log.ObjectGoneException;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.SegmentHeader;
import io.walship.internal.log.SegmentPrefetch;
import io.walship.internal.log.SegmentReader;
import io.walship.internal.log.SnapshotPages;
import io.walship.internal.log.SnapshotReader;
import io.walship.internal.log.StoredHistory;
import io.walship.storage.Storage;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The restore path: newest snapshot at or before the target, then the log objects after it,
 * streamed into a temporary file next to the target, every transaction's database checksum
 * verified, forced to disk, then renamed into place. A failed restore leaves no file behind
 * and never touches an existing one. The primary rebuilds its local file through this same
 * code, and replicas start from it.
 */
public final class Restore {
    private static final Logger log = LoggerFactory.getLogger(Restore.class);
    /** Pages written to the file per call while streaming a snapshot. */
    /** How often one restore lists storage again after objects were deleted under it before giving up. */
    private static final int MAX_REPLANS = 16;

    private Restore() {
    }

    /** Told how far a restore got; for progress bars. Called on the restoring thread. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (phase, done, total) -> { };

        /** @param phase "snapshot" (done/total in pages) or "log" (done/total in segments) */
        void advanced(String phase, long done, long total);
    }

    /**
     * Restores {@code target} state from {@code storage} into a new file {@code path}.
     *
     * @throws FileAlreadyExistsException (wrapped in {@link UncheckedIOException}) when {@code path}
     *                                    or its {@code -wal} exists: a restore never overwrites
     */
    public static RestoreResult run(Storage storage, Path path, RestoreTarget target) {
        return run(storage, path, target, Progress.NONE);
    }

    /** As {@link #run(Storage, Path, RestoreTarget)}, reporting progress. */
    public static RestoreResult run(Storage storage, Path path, RestoreTarget target, Progress progress) {
        return run(storage, path, target, progress, (temp, result) -> { });
    }

    /** Work on the restored file before it takes its final name (a replica converts it to its own header). */
    @FunctionalInterface
    public interface BeforeMove {
        void accept(Path temp, RestoreResult result) throws IOException;
    }

    /**
     * As {@link #run(Storage, Path, RestoreTarget, Progress)}, with {@code beforeMove} run on the
     * complete, verified temporary file before it is renamed into place: the one restore path the
     * CLI, the primary's rebuild and a new replica share.
     */
    public static RestoreResult run(Storage storage, Path path, RestoreTarget target, Progress progress,
                                    BeforeMove beforeMove) {
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(target, "target");
        Path file = path.toAbsolutePath();
        for (Path existing : List.of(file, FileDurability.sibling(file, "-wal"))) {
            if (Files.exists(existing)) {
                throw new UncheckedIOException(new FileAlreadyExistsException(existing.toString(), null,
                        "a restore never overwrites a file; remove it or restore to another path"));
            }
        }
        Path temp = FileDurability.sibling(file, ".walship-restore");
        try {
            RestoreResult result = restoreInto(storage, temp, target, progress);
            beforeMove.accept(temp, result);
            FileDurability.moveIntoPlace(temp, file, false);
            log.info("restore done db={} txid={} pages={} snapshotTxid={} segments={}", file, result.txid(),
                    result.pageCount(), result.snapshotTxid(), result.segmentsApplied());
            return new RestoreResult(file, result.txid(), result.pageSize(), result.pageCount(), result.checksum(),
                    result.snapshotTxid(), result.segmentsApplied(), result.commitMillis(), result.replans(),
                    result.damagedSnapshots());
        } catch (IOException e) {
            throw new UncheckedIOException("restore to " + file + " failed", e);
        } finally {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException e) {
                log.warn("restore temp file not removed path={} error={}", temp, e.toString());
            }
        }
    }

    /** Restores into {@code temp} (created or emptied), leaving it there; the caller moves or deletes it. */
    public static RestoreResult restoreInto(Storage storage, Path temp, RestoreTarget target) throws IOException {
        return restoreInto(storage, temp, target, Progress.NONE);
    }

    /** As {@link #restoreInto(Storage, Path, RestoreTarget)}, reporting progress. */
    public static RestoreResult restoreInto(Storage storage, Path temp, RestoreTarget target, Progress progress)
            throws IOException {
        Map<Long, WalshipException> damaged = new LinkedHashMap<>();
        for (int attempt = 1; ; attempt++) {
            LogCatalog catalog = StoredHistory.withSnapshotsAskedFor(storage, LogCatalog.list(storage))
                    .withoutSnapshots(damaged.keySet());
            RestorePlan plan;
            try {
                plan = RestorePlanner.plan(catalog, target);
            } catch (TxidNotAvailableException e) {
                if (damaged.isEmpty()) {
                    throw e;
                }
                WalshipException first = damaged.values().iterator().next();
                throw BadObjectException.corrupt(ObjectKey.SNAPSHOT_PREFIX, "no sound snapshot reaches " + target
                        + ": " + damaged.size() + " damaged (" + first.getMessage() + ") and no older one"
                        + " restores it with the log", -1, first);
            }
            String snapshotKey = ObjectKey.snapshot(plan.snapshotTxid());
            LogReplay replay = new LogReplay(storage, spillDirectory(temp), target, progress);
            // the first log objects are fetched while the snapshot streams in
            replay.plan(plan.log());
            try (LogReplay closing = replay) {
                DatabaseImage image;
                try {
                    image = openSnapshot(storage, snapshotKey, temp, progress);
                } catch (ObjectGoneException gone) {
                    if (attempt >= MAX_REPLANS) {
                        throw gone;
                    }
                    log.info("restore planning again key={} reason=snapshot deleted since listing", gone.key());
                    continue;
                } catch (BadObjectException bad) {
                    if (bad.kind() != BadObjectException.Kind.CORRUPT
                            && bad.kind() != BadObjectException.Kind.UNSUPPORTED_FORMAT) {
                        throw bad;
                    }
                    // an older snapshot and the log after it reach the same txids: restore from those instead
                    damaged.put(plan.snapshotTxid(), bad);
                    log.warn("snapshot does not read back, restoring from an older one and the log key={} error={}",
                            snapshotKey, bad.getMessage());
                    continue;
                }
                try (DatabaseImage closingImage = image) {
                    replay.applyTo(image);
                    if (!target.isLatest() && target.time() == null && image.txid() != target.txid()) {
                        LogCatalog now = LogCatalog.list(storage);
                        throw new TxidNotAvailableException(target.toString(), now.earliestSnapshot().orElse(-1),
                                image.txid());
                    }
                    image.finish();
                    return new RestoreResult(temp, image.txid(), image.pageSize(), image.pageCount(),
                            image.checksum(), plan.snapshotTxid(), replay.applied, replay.commitMillis,
                            attempt - 1 - damaged.size() + replay.replans, List.copyOf(damaged.values()));
                }
            }
        }
    }

    /**
     * The log part of a restore: applies planned objects in order, prefetched; when one is gone
     * (compaction or retention deleted it after the listing) it lists storage again and goes on
     * from the txid it reached, which compaction never makes unrestorable.
     */
    private static final class LogReplay implements Closeable {
        private final Storage storage;
        private final Path spillDirectory;
        private final RestoreTarget target;
        private final Progress progress;
        private List<LogCatalog.LogObject> chain = List.of();
        private SegmentPrefetch prefetch;
        int applied;
        int replans;
        long commitMillis = -1;

        LogReplay(Storage storage, Path spillDirectory, RestoreTarget target, Progress progress) {
            this.storage = storage;
            this.spillDirectory = spillDirectory;
            this.target = target;
            this.progress = progress;
        }

        void plan(List<LogCatalog.LogObject> objects) {
            close();
            chain = objects;
            prefetch = new SegmentPrefetch(storage, objects.stream()
                    .map(o -> new SegmentPrefetch.Planned(o.storageKey(), o.size())).toList(), spillDirectory);
        }

        /**
         * Applies the planned objects, and where the plan has a gap or ends before a txid target,
         * the object holding the next txid asked for by key (a listing can miss objects that
         * exist); after such an object it plans again from where it stands. A latest or time
         * target ends where the listed chain ends: storage's state when it was listed.
         */
        void applyTo(DatabaseImage image) throws IOException {
            int index = 0;
            while (image.txid() < target.txid()) {
                FetchedSegment fetched = null;
                SegmentHeader planned = null;
                if (index < chain.size()) {
                    try {
                        fetched = prefetch.next();
                    } catch (ObjectGoneException gone) {
                        if (++replans > MAX_REPLANS) {
                            throw gone;
                        }
                        log.info("restore planning again key={} txid={} reason=object deleted since listing",
                                gone.key(), image.txid());
                        plan(LogCatalog.list(storage).chain(image.txid(), target.txid()));
                        index = 0;
                        continue;
                    }
                    index++;
                    try {
                        planned = fetched.header();
                    } catch (IOException | RuntimeException e) {
                        fetched.close();
                        throw e;
                    }
                    if (planned.lastTxid() <= image.txid()) {
                        fetched.close(); // behind: an object asked for directly held it
                        continue;
                    }
                    if (planned.firstTxid() > image.txid() + 1) {
                        fetched.close(); // the listing missed what lies between
                        fetched = null;
                    }
                }
                boolean asked = fetched == null;
                if (asked && planned == null && target.txid() == Long.MAX_VALUE) {
                    return; // the newest the listing showed: storage's state when it listed, whatever came since
                }
                if (asked) {
                    Optional<FetchedSegment> holding = LogLookup.fetch(storage, image.txid() + 1, true,
                            spillDirectory, FetchedSegment.DEFAULT_MEMORY_BYTES);
                    if (holding.isEmpty()) {
                        if (planned != null) {
                            throw BadObjectException.txidGap(chain.get(index - 1).storageKey(), image.txid() + 1,
                                    planned.firstTxid());
                        }
                        return; // storage holds nothing after the image
                    }
                    fetched = holding.get();
                }
                if (apply(fetched, image)) {
                    return;
                }
                applied++;
                progress.advanced("log", applied, applied + chain.size() - index);
                if (asked) {
                    log.info("restore found an object the listing missed key={} txid={}", fetched.key(),
                            image.txid());
                    plan(LogCatalog.list(storage).chain(image.txid(), target.txid()));
                    index = 0;
                }
            }
        }

        /** Applies one object up to the target; true when the target was reached inside it. */
        private boolean apply(FetchedSegment fetched, DatabaseImage image) throws IOException {
            try (FetchedSegment closing = fetched;
                 SegmentReader segment = fetched.startAfter(image.txid()).open()) {
                image.checkContinues(segment);
                for (SegmentReader.TransactionHeader txn = segment.nextTransaction(); txn != null;
                     txn = segment.nextTransaction()) {
                    if (txn.txid() > target.txid()
                            || (target.time() != null && txn.commitMillis() > target.time().toEpochMilli())) {
                        return true;
                    }
                    image.apply(segment, txn);
                    commitMillis = txn.commitMillis();
                }
                return false;
            }
        }

        @Override
        public void close() {
            if (prefetch != null) {
                prefetch.close();
                prefetch = null;
            }
        }
    }

    /** Streams a snapshot into {@code temp}, verified, and returns the open image at its txid. */
    static DatabaseImage openSnapshot(Storage storage, String key, Path temp, Progress progress)
            throws IOException {
        Optional<InputStream> stream = storage.open(key);
        if (stream.isEmpty()) {
            throw new ObjectGoneException(key);
        }
        try (InputStream in = stream.get()) {
            SnapshotReader reader = SnapshotReader.open(key, in);
            DatabaseImage image = DatabaseImage.create(temp, reader.pageSize(), reader.txid());
            try {
                try (SnapshotPages pages = new SnapshotPages(reader, key)) {
                    for (SnapshotPages.Batch batch = pages.next(); batch != null; batch = pages.next()) {
                        image.writePages(batch);
                        progress.advanced("snapshot", batch.firstPgno() + batch.count() - 1, reader.pageCount());
                    }
                }
                if (image.checksum() != reader.databaseChecksum()) {
                    throw BadObjectException.corrupt(key, "database checksum of the pages is "
                            + Long.toHexString(image.checksum()) + ", the header says "
                            + Long.toHexString(reader.databaseChecksum()), -1);
                }
                return image;
            } catch (IOException | RuntimeException e) {
                image.close();
                throw e;
            }
        }
    }

    /** Where a restore into {@code file} fetches segments too large for memory: next to it. */
    static Path spillDirectory(Path file) {
        return file.toAbsolutePath().getParent();
    }

}
