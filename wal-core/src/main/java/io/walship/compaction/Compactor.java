package io.walship.compaction;

import io.micrometer.core.instrument.MeterRegistry;
import io.walship.WalshipException;
import io.walship.format.ObjectKey.LogKey;
import io.walship.format.ObjectKey;
import io.walship.internal.format.SealedSegment;
import io.walship.internal.format.SegmentReader;
import io.walship.internal.format.SegmentSpill;
import io.walship.internal.format.SegmentWriter;
import io.walship.internal.metrics.Metrics;
import io.walship.internal.restore.FetchedSegment;
import io.walship.metrics.WalshipMeter;
import io.walship.restore.LogCatalog.LogObject;
import io.walship.restore.LogCatalog;
import io.walship.storage.ObjectInfo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds what storage holds: merges runs of small log objects into compacted ones, deletes the
 * small ones once a compacted object has held them for the grace period, and deletes snapshots
 * and log that no restore inside the retention window needs. One run lists storage (two LISTs),
 * writes, lists again if it wrote, and deletes in batches. Safe to run from several processes at
 * once and to kill at any point.
 *
 * <p><b>Why several compactors cannot conflict.</b> Every compacted object is a pure function of
 * its block: the transactions of the segments that start in it, written by the same
 * {@link SegmentWriter} into the same block stream, so any two compactors write the same bytes
 * and storage's create-only put keeps whichever came first. Deletion removes only objects another
 * object already holds (after the grace period), or history before the newest snapshot older
 * than the window; a rival deleting the same keys deletes what we would.
 *
 * <p><b>What retention keeps.</b> Every txid from the window's start on: the newest snapshot
 * stored before the window began, every log object after it, and inside the window the newest
 * snapshot of each hour (last day) or day (before), so a restore replays at most about an hour
 * of log recently, a day further back. Objects are aged by the time storage stored them.
 *
 * <p><b>Why a kill leaves nothing to trip over.</b> A compacted object is written whole or not
 * at all (create-only put); until it exists nothing is deleted for it. Retention deletes the old
 * snapshots before the log they need, so the earliest snapshot left can always be replayed from.
 * A block is compacted only when it is complete (storage holds a later segment) and lies wholly
 * after the earliest snapshot (or storage never lost any log), so a compacted object never misses
 * a transaction its block should hold.
 */
public final class Compactor implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Compactor.class);
    /** Bytes one run may write; the next run goes on. Keeps a first run over a long history from hogging I/O. */
    static final long MAX_RUN_BYTES = 256L << 20;
    /** Memory one compacted object may take before it goes to a file. */
    private static final long MEMORY_BYTES = 8L << 20;

    private final Storage storage;
    private final CompactionPolicy policy;
    private final InstantSource clock;
    private final Path workDirectory;
    private final Metrics metrics;
    private volatile CompactionResult last;

    /**
     * A compactor recording its meters (docs/METRICS.md: {@code walship.compaction.*},
     * {@code walship.storage.objects}…) into {@code meterRegistry}, tagged {@code db=name}; close
     * it to remove them. Needs Micrometer on the class path only when a registry is given.
     *
     * @param clock         what "now" is for the grace period and the retention window
     * @param workDirectory where objects too large for memory are assembled
     * @param meterRegistry where to record, or null for nothing
     * @param name          the {@code db} tag: the database, or the storage this compactor serves
     */
    public Compactor(Storage storage, CompactionPolicy policy, InstantSource clock, Path workDirectory,
                     MeterRegistry meterRegistry, String name) {
        this(storage, policy, clock, workDirectory, Metrics.of(meterRegistry, Objects.requireNonNull(name, "name")));
    }

    /** An unmetered compactor on {@code clock}, assembling large objects in {@code workDirectory}. */
    public Compactor(Storage storage, CompactionPolicy policy, InstantSource clock, Path workDirectory) {
        this(storage, policy, clock, workDirectory, Metrics.NONE);
    }

    private Compactor(Storage storage, CompactionPolicy policy, InstantSource clock, Path workDirectory,
                      Metrics metrics) {
        this.storage = Objects.requireNonNull(storage, "storage");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.workDirectory = Objects.requireNonNull(workDirectory, "workDirectory");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        metrics.gauge(WalshipMeter.STORAGE_OBJECTS, () -> last == null ? Double.NaN : last.objects());
        metrics.gauge(WalshipMeter.STORAGE_BYTES, () -> last == null ? Double.NaN : last.bytes());
        metrics.gauge(WalshipMeter.STORAGE_EARLIEST_TXID, () -> last == null ? Double.NaN : last.earliestTxid());
    }

    /** A compactor on the system clock, assembling in the temporary directory, unmetered. */
    public Compactor(Storage storage, CompactionPolicy policy) {
        this(storage, policy, InstantSource.system(), Path.of(System.getProperty("java.io.tmpdir")), Metrics.NONE);
    }

    /** Removes this compactor's meters; runs may not follow. */
    @Override
    public void close() {
        metrics.close();
    }

    /** The last run's result, or null before the first. */
    public CompactionResult lastResult() {
        return last;
    }

    /**
     * One run: compact, then delete what compacted objects replaced (after the grace period),
     * then what retention no longer needs.
     *
     * @throws io.walship.storage.StorageException storage failed; what was done stays done
     */
    public CompactionResult run() {
        long started = System.nanoTime();
        String outcome = "error";
        try {
            CompactionResult result = runOnce();
            last = result;
            outcome = "ok";
            return result;
        } finally {
            metrics.timer(WalshipMeter.COMPACTION_RUNS, "outcome", outcome).recordSince(started);
        }
    }

    private CompactionResult runOnce() {
        Instant now = clock.instant();
        LogCatalog catalog = LogCatalog.list(storage);
        if (catalog.snapshots().isEmpty()) {
            return new CompactionResult(0, 0, 0, 0, 0, -1, catalog.size(), catalog.bytes());
        }
        Written written = compact(catalog);
        if (written.objects() > 0) {
            catalog = LogCatalog.list(storage);
        }
        List<ObjectInfo> expiredSnapshots = new ArrayList<>();
        List<ObjectInfo> expiredLog = new ArrayList<>();
        long earliest = expired(catalog, now.minus(policy.retention()), now, expiredSnapshots, expiredLog);
        List<ObjectInfo> replaced = new ArrayList<>(replaced(catalog, now.minus(policy.grace())));
        replaced.removeAll(new HashSet<>(expiredLog)); // a first run over a long history: tens of thousands each
        // old snapshots before the log they need: a kill in between leaves replayable history
        long bytesDeleted = delete(expiredSnapshots, "expired") + delete(expiredLog, "expired")
                + delete(replaced, "replaced");
        int expired = expiredSnapshots.size() + expiredLog.size();
        CompactionResult result = new CompactionResult(written.objects(), written.bytes(), replaced.size(), expired,
                bytesDeleted, earliest, catalog.size() - replaced.size() - expired,
                catalog.bytes() - bytesDeleted);
        if (written.objects() > 0 || bytesDeleted > 0) {
            log.info("compaction done storage={} created={} bytesWritten={} replaced={} expired={} bytesDeleted={}"
                            + " earliestTxid={} objects={} bytes={}", storage, result.created(), result.bytesWritten(),
                    result.replaced(), result.expired(), result.bytesDeleted(), result.earliestTxid(),
                    result.objects(), result.bytes());
        }
        return result;
    }

    // ---------------------------------------------------------------- compaction

    private record Written(int objects, long bytes) {
    }

    private Written compact(LogCatalog catalog) {
        long earliestSnapshot = catalog.earliestSnapshot().getAsLong();
        long newestStart = catalog.newestLogStart();
        NavigableMap<LogKey, Long> view = new TreeMap<>();
        catalog.log().forEach((key, object) -> view.put(key, object.size()));
        int objects = 0;
        long bytes = 0;
        for (int level = 1; level <= ObjectKey.LEVELS; level++) {
            TreeSet<Long> blocks = new TreeSet<>();
            for (LogKey key : view.keySet()) {
                if (key.level() < level) {
                    blocks.add(ObjectKey.blockStart(level, key.start()));
                }
            }
            for (long start : blocks) {
                LogKey target = new LogKey(level, start);
                boolean complete = target.blockEnd() <= newestStart;
                boolean whole = earliestSnapshot == 0 || start > earliestSnapshot;
                if (!complete || !whole || view.containsKey(target)) {
                    continue;
                }
                List<LogKey> inputs = inputs(view, target);
                long inputBytes = inputs.stream().mapToLong(view::get).sum();
                if (inputs.size() < 2 || inputBytes > policy.maxObjectBytes()) {
                    continue;
                }
                if (bytes >= MAX_RUN_BYTES) {
                    return new Written(objects, bytes);
                }
                Optional<Long> size = write(target, inputs);
                if (size.isPresent()) {
                    view.put(target, size.get());
                    objects++;
                    bytes += size.get();
                }
            }
        }
        return new Written(objects, bytes);
    }

    /**
     * The objects below {@code target}'s level that hold its block, fewest first: walking the
     * block in key order, an object inside one already taken is skipped.
     */
    private static List<LogKey> inputs(NavigableMap<LogKey, Long> view, LogKey target) {
        List<LogKey> inputs = new ArrayList<>();
        long coveredUntil = target.start();
        for (LogKey key : view.subMap(target, false, target.lastInBlock(), true).keySet()) {
            if (key.level() >= target.level() || (!inputs.isEmpty() && key.start() < coveredUntil)) {
                continue;
            }
            inputs.add(key);
            coveredUntil = key.blockEnd();
        }
        return inputs;
    }

    /**
     * Writes the compacted object of {@code target}'s block; its size, or empty when an input
     * went missing or was bad.
     */
    private Optional<Long> write(LogKey target, List<LogKey> inputs) {
        String key = target.key();
        SegmentWriter writer = null;
        try {
            long txid = -1;
            long checksum = 0;
            for (LogKey input : inputs) {
                Optional<FetchedSegment> fetched = FetchedSegment.fetch(storage, input.key(), workDirectory,
                        MEMORY_BYTES);
                if (fetched.isEmpty()) {
                    log.debug("compaction skipped key={} reason={} is gone (another compactor)", key, input);
                    return Optional.empty();
                }
                try (FetchedSegment closing = fetched.get(); SegmentReader segment = closing.open()) {
                    if (writer == null) {
                        writer = new SegmentWriter(segment.pageSize(), segment.checksumBefore(), null,
                                new SegmentSpill(workDirectory, MEMORY_BYTES));
                    } else {
                        segment.checkContinues(segment.pageSize(), txid, checksum);
                    }
                    for (SegmentReader.TransactionHeader txn = segment.nextTransaction(); txn != null;
                         txn = segment.nextTransaction()) {
                        SegmentWriter out = writer;
                        out.begin(txn.txid(), txn.commitMillis(), txn.databasePages(), txn.pageCount());
                        checksum = segment.readPages((pgno, image) -> out.page(pgno, image, 0));
                        out.end(checksum);
                        txid = txn.txid();
                    }
                }
            }
            try (SealedSegment sealed = writer.seal()) {
                writer = null;
                PutResult result = sealed.putIfAbsent(storage, key);
                metrics.counter(WalshipMeter.COMPACTION_OBJECTS, "action", "created").increment();
                metrics.counter(WalshipMeter.COMPACTION_BYTES, "action", "written").add(sealed.length());
                log.debug("compacted key={} inputs={} firstTxid={} lastTxid={} bytes={} result={}", key,
                        inputs.size(), sealed.firstTxid(), sealed.lastTxid(), sealed.length(), result);
                return Optional.of(sealed.length());
            }
        } catch (WalshipException e) {
            // a gap or a bad object: nothing is deleted for this block; verify names the object
            log.warn("compaction skipped key={} error={}", key, e.getMessage());
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("compacting " + key + " failed", e);
        } finally {
            discard(writer);
        }
    }

    private static void discard(SegmentWriter writer) {
        if (writer != null) {
            try {
                writer.discard();
            } catch (IOException e) {
                log.warn("compaction scratch not removed error={}", e.toString());
            }
        }
    }

    // ---------------------------------------------------------------- deletion

    /** Objects a compacted object stored before {@code cutoff} holds. */
    private static List<ObjectInfo> replaced(LogCatalog catalog, Instant cutoff) {
        List<ObjectInfo> out = new ArrayList<>();
        LogKey coveredBy = null;
        for (LogObject object : catalog.log().values()) {
            LogKey key = object.key();
            if (coveredBy != null && key.start() < coveredBy.blockEnd() && key.level() < coveredBy.level()) {
                out.add(object.info());
                continue;
            }
            coveredBy = key.level() > 0 && !object.info().lastModified().isAfter(cutoff) ? key : null;
        }
        return out;
    }

    /**
     * Fills what retention deletes: snapshots older than the newest snapshot stored before
     * {@code windowStart}, the log objects that end at or before it, and the snapshots inside the
     * window that {@link #thinned} drops. Returns the earliest txid storage can restore afterwards.
     */
    private static long expired(LogCatalog catalog, Instant windowStart, Instant now, List<ObjectInfo> snapshots,
                                List<ObjectInfo> logObjects) {
        Long keep = null;
        for (Map.Entry<Long, ObjectInfo> snapshot : catalog.snapshots().entrySet()) {
            if (!snapshot.getValue().lastModified().isAfter(windowStart)) {
                keep = snapshot.getKey();
            }
        }
        // the base of the window (the kept snapshot, or the earliest while none is older) is never thinned
        long base = keep != null ? keep : catalog.earliestSnapshot().getAsLong();
        snapshots.addAll(thinned(catalog.snapshots().tailMap(base, false), now));
        if (keep == null) {
            return catalog.earliestSnapshot().getAsLong();
        }
        snapshots.addAll(catalog.snapshots().headMap(keep, false).values());
        // an upper bound of where each object ends: just before the earliest the next object can begin
        NavigableMap<Long, Long> nextFirstAtMost = new TreeMap<>();
        long running = Long.MAX_VALUE;
        for (LogKey key : catalog.log().descendingKeySet()) {
            running = Math.min(running, key.blockEnd() - 1); // a segment's first txid, or the last its block allows
            nextFirstAtMost.put(key.start(), running);
        }
        for (LogObject object : catalog.log().values()) {
            LogKey key = object.key();
            Map.Entry<Long, Long> next = nextFirstAtMost.ceilingEntry(key.blockEnd());
            if (next != null && next.getValue() - 1 <= keep) {
                logObjects.add(object.info());
            }
        }
        return keep;
    }

    /**
     * Snapshots inside the window that restores do not need: of those stored in one hour (the
     * last day) or one day (before), only the newest is kept, and always the newest of all. Every
     * txid stays restorable (from an earlier snapshot and the log, which is kept whole inside the
     * window); what thinning bounds is bytes: with the default cadence a busy day can take dozens
     * of snapshots, each the size of the database.
     */
    private static List<ObjectInfo> thinned(NavigableMap<Long, ObjectInfo> inWindow, Instant now) {
        List<ObjectInfo> out = new ArrayList<>();
        Instant dayAgo = now.minus(Duration.ofDays(1));
        Instant bucketOfNewer = null;
        for (ObjectInfo snapshot : inWindow.descendingMap().values()) { // newest first
            Instant stored = snapshot.lastModified();
            Instant bucket = stored.truncatedTo(stored.isAfter(dayAgo) ? ChronoUnit.HOURS : ChronoUnit.DAYS);
            if (bucket.equals(bucketOfNewer)) {
                out.add(snapshot);
            }
            bucketOfNewer = bucket;
        }
        return out;
    }

    private long delete(List<ObjectInfo> objects, String action) {
        if (objects.isEmpty()) {
            return 0;
        }
        storage.deleteAll(objects.stream().map(ObjectInfo::key).toList());
        long bytes = objects.stream().mapToLong(ObjectInfo::size).sum();
        metrics.counter(WalshipMeter.COMPACTION_OBJECTS, "action", action).add(objects.size());
        metrics.counter(WalshipMeter.COMPACTION_BYTES, "action", "deleted").add(bytes);
        return bytes;
    }
}
