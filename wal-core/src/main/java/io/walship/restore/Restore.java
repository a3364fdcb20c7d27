package io.walship.restore;

import io.walship.CorruptObjectException;
import io.walship.TxidGapException;
import io.walship.TxidNotAvailableException;
import io.walship.format.ObjectKey;
import io.walship.format.SegmentReader;
import io.walship.format.SnapshotReader;
import io.walship.storage.ObjectInfo;
import io.walship.storage.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The restore path: newest snapshot at or before the target, then the segments after it,
 * streamed into a temporary file next to the target, every transaction's database checksum
 * verified, forced to disk, then renamed into place. A failed restore leaves no file behind
 * and never touches an existing one. The primary rebuilds its local file through this same
 * code, and replicas start from it.
 */
public final class Restore {
    private static final Logger log = LoggerFactory.getLogger(Restore.class);
    /** Pages written to the file per call while streaming a snapshot. */
    private static final int SNAPSHOT_BATCH_PAGES = 256;

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
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(target, "target");
        Path file = path.toAbsolutePath();
        for (Path existing : List.of(file, sibling(file, "-wal"))) {
            if (Files.exists(existing)) {
                throw new UncheckedIOException(new FileAlreadyExistsException(existing.toString(), null,
                        "a restore never overwrites a file; remove it or restore to another path"));
            }
        }
        Path temp = sibling(file, ".walship-restore");
        try {
            RestoreResult result = restoreInto(storage, temp, target, progress);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
            fsyncDirectory(file.getParent());
            log.info("restore done db={} txid={} pages={} snapshotTxid={} segments={}", file, result.txid(),
                    result.pageCount(), result.snapshotTxid(), result.segmentsApplied());
            return new RestoreResult(file, result.txid(), result.pageSize(), result.pageCount(), result.checksum(),
                    result.snapshotTxid(), result.segmentsApplied(), result.commitMillis());
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
        List<ObjectInfo> snapshots = storage.list(ObjectKey.SNAPSHOT_PREFIX);
        List<ObjectInfo> segments = storage.list(ObjectKey.LOG_PREFIX);
        RestorePlan plan = RestorePlanner.plan(snapshots, segments, target);
        String snapshotKey = ObjectKey.snapshot(plan.snapshotTxid());
        long commitMillis;
        int applied = 0;
        Map<String, Long> sizes = segments.stream().collect(Collectors.toMap(ObjectInfo::key, ObjectInfo::size,
                (a, b) -> a));
        List<SegmentPrefetch.Planned> planned = plan.segmentFirstTxids().stream()
                .map(first -> new SegmentPrefetch.Planned(first, sizes.getOrDefault(ObjectKey.segment(first), 0L)))
                .toList();
        // the first segments are fetched while the snapshot streams in
        try (SegmentPrefetch prefetch = new SegmentPrefetch(storage, planned, spillDirectory(temp));
             DatabaseImage image = openSnapshot(storage, snapshotKey, temp, progress)) {
            commitMillis = -1;
            for (int i = 0; i < planned.size(); i++) {
                if (image.txid() >= target.txid()) {
                    break;
                }
                boolean reachedTarget = false;
                try (FetchedSegment fetched = prefetch.next();
                     SegmentReader segment = fetched.open()) {
                    image.checkContinues(segment);
                    for (SegmentReader.TransactionHeader txn = segment.nextTransaction(); txn != null;
                         txn = segment.nextTransaction()) {
                        if (txn.txid() > target.txid()
                                || (target.time() != null && txn.commitMillis() > target.time().toEpochMilli())) {
                            reachedTarget = true;
                            break;
                        }
                        image.apply(segment, txn);
                        commitMillis = txn.commitMillis();
                    }
                }
                if (reachedTarget) {
                    break;
                }
                applied++;
                progress.advanced("log", applied, plan.segmentFirstTxids().size());
            }
            if (!target.isLatest() && target.time() == null && image.txid() != target.txid()) {
                throw new TxidNotAvailableException(target.toString(), earliestSnapshot(snapshots), image.txid());
            }
            image.finish();
            return new RestoreResult(temp, image.txid(), image.pageSize(), image.pageCount(), image.checksum(),
                    plan.snapshotTxid(), applied, commitMillis);
        }
    }

    /** Streams a snapshot into {@code temp}, verified, and returns the open image at its txid. */
    static DatabaseImage openSnapshot(Storage storage, String key, Path temp, Progress progress)
            throws IOException {
        Optional<InputStream> stream = storage.open(key);
        if (stream.isEmpty()) {
            throw new TxidNotAvailableException(key, -1, -1);
        }
        try (InputStream in = stream.get()) {
            SnapshotReader reader = SnapshotReader.open(key, in);
            DatabaseImage image = DatabaseImage.create(temp, reader.pageSize(), reader.txid());
            try {
                byte[] batch = new byte[SNAPSHOT_BATCH_PAGES * reader.pageSize()];
                int pgno = 1;
                while (pgno <= reader.pageCount()) {
                    int count = Math.min(SNAPSHOT_BATCH_PAGES, reader.pageCount() - pgno + 1);
                    for (int i = 0; i < count; i++) {
                        reader.readPage(batch, i * reader.pageSize());
                    }
                    image.writePages(pgno, batch, count);
                    pgno += count;
                    progress.advanced("snapshot", pgno - 1, reader.pageCount());
                }
                reader.finish();
                if (image.checksum() != reader.databaseChecksum()) {
                    throw new CorruptObjectException(key, "database checksum of the pages is "
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

    /**
     * The newest state in storage, read from the last segment (or the newest snapshot when no
     * segment follows it), or empty when storage holds no snapshot.
     */
    public static Optional<Position> latestPosition(Storage storage) {
        return latestPosition(storage, storage.list(ObjectKey.SNAPSHOT_PREFIX), storage.list(ObjectKey.LOG_PREFIX));
    }

    /** As {@link #latestPosition(Storage)}, from listings of {@code snapshots/} and {@code log/} already made. */
    public static Optional<Position> latestPosition(Storage storage, List<ObjectInfo> snapshots,
                                                    List<ObjectInfo> segments) {
        long snapshotTxid = snapshots.stream().map(o -> ObjectKey.parseSnapshot(o.key()))
                .flatMap(Optional::stream).mapToLong(Long::longValue).max().orElse(-1);
        if (snapshotTxid < 0) {
            return Optional.empty();
        }
        long lastSegment = segments.stream().map(o -> ObjectKey.parseSegment(o.key()))
                .flatMap(Optional::stream).mapToLong(Long::longValue).max().orElse(-1);
        if (lastSegment > snapshotTxid) {
            String key = ObjectKey.segment(lastSegment);
            try (FetchedSegment fetched = FetchedSegment.require(storage, key, lastSegment,
                    Path.of(System.getProperty("java.io.tmpdir")));
                 SegmentReader segment = fetched.open()) {
                SegmentReader.TransactionHeader last = null;
                long checksumAfter = 0;
                for (SegmentReader.TransactionHeader txn = segment.nextTransaction(); txn != null;
                     txn = segment.nextTransaction()) {
                    last = txn;
                    checksumAfter = segment.readPages((pgno, image) -> { });
                }
                return Optional.of(new Position(last.txid(), segment.pageSize(), last.databasePages(), checksumAfter,
                        key, last.commitMillis()));
            } catch (IOException e) {
                throw new UncheckedIOException("reading " + key + " failed", e);
            }
        }
        String key = ObjectKey.snapshot(snapshotTxid);
        try (InputStream in = storage.open(key).orElseThrow(() -> new TxidNotAvailableException(key, -1, -1))) {
            SnapshotReader reader = SnapshotReader.open(key, in);
            return Optional.of(new Position(reader.txid(), reader.pageSize(), reader.pageCount(),
                    reader.databaseChecksum(), key, reader.createdMillis()));
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + key + " failed", e);
        }
    }

    private static long earliestSnapshot(List<ObjectInfo> snapshots) {
        return snapshots.stream().map(o -> ObjectKey.parseSnapshot(o.key())).flatMap(Optional::stream)
                .mapToLong(Long::longValue).min().orElse(-1);
    }

    /** Where a restore into {@code file} fetches segments too large for memory: next to it. */
    static Path spillDirectory(Path file) {
        return file.toAbsolutePath().getParent();
    }

    public static Path sibling(Path file, String suffix) {
        return file.resolveSibling(file.getFileName() + suffix);
    }

    public static void fsyncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
