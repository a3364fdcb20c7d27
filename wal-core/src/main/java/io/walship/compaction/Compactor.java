package io.walship.compaction;

import io.micrometer.core.instrument.MeterRegistry;
import io.walship.BadObjectException;
import io.walship.TxidRange;
import io.walship.WalshipException;
import io.walship.internal.log.Compression;
import io.walship.internal.log.FetchedSegment;
import io.walship.internal.log.FormatLayout;
import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.ObjectKey.LogKey;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.SealedSegment;
import io.walship.internal.log.SegmentHeader;
import io.walship.internal.log.SegmentReader;
import io.walship.internal.log.SegmentSpill;
import io.walship.internal.log.SegmentWriter;
import io.walship.internal.log.SnapshotCheck;
import io.walship.internal.log.StoredHistory.Span;
import io.walship.internal.log.StoredHistory;
import io.walship.internal.metrics.Metrics;
import io.walship.metrics.WalshipMeter;
import io.walship.storage.ObjectInfo;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds what storage holds: merges runs of small log objects into compacted ones, deletes the
 * small ones once a compacted object has held them for the grace period, and deletes snapshots
 * and log that no restore inside the retention window needs. Safe to run from several processes
 * at once and to kill at any point; never the cause of a txid becoming unrestorable.
 *
 * <p><b>Proof, not listings.</b> A run plans from the {@link StoredHistory}: every listed object's
 * own header says which txids it holds, and what a listing missed is asked for by key. A listing
 * can miss an object that exists while showing later ones (a directory read racing a writer), so
 * "a later object exists" proves nothing about the earlier ones; only the txid chain read from the
 * objects does. Three rules follow, each checked by reading:
 * <ol>
 * <li>A block is compacted only from inputs that hold every txid its object must hold: the first
 *     input starts at the block's start, or right after an object outside the block that holds the
 *     txids before; each next input starts right after the previous one; the last ends at or past
 *     the block's end (headers, then again while the inputs are read, with the database checksum
 *     chain). A block with a gap is not compacted; the gap, if storage holds later txids, is a hole
 *     in the history and reported.</li>
 * <li>A replaced object is deleted only after its compacted object was read back whole and found to
 *     hold every txid of it, continuing the same database checksum.</li>
 * <li>Retention deletes nothing while the history has a hole or the snapshot it would keep as the
 *     window's base does not read back whole: the older snapshots and log are then the only way to
 *     reach what lies past the hole or the damage. Holes and damage are reported in
 *     {@link CompactionResult#problems()}, never papered over.</li>
 * </ol>
 *
 * <p><b>Why several compactors cannot conflict.</b> Every compacted object is a pure function of
 * its block: the transactions of the segments that start in it, written by the same
 * {@link SegmentWriter} into the same block stream, so any two compactors write the same bytes
 * and storage's create-only put keeps whichever came first. Deletion removes only objects another
 * object was read back to hold (after the grace period), or history before a snapshot read back
 * whole; a rival deleting the same keys deletes what we would.
 *
 * <p><b>What retention keeps.</b> Every txid from the window's start on: the newest snapshot
 * stored before the window began, every log object after it, and inside the window the newest
 * snapshot of each hour (last day) or day (before), so a restore replays at most about an hour
 * of log recently, a day further back. Objects are aged by the time storage stored them.
 *
 * <p><b>Why a kill leaves nothing to trip over.</b> A compacted object is written whole or not
 * at all (create-only put); until it exists nothing is deleted for it. Retention deletes the old
 * snapshots before the log they need, so the earliest snapshot left can always be replayed from.
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
    /** Headers read by earlier runs: each object's header is read once. */
    private final StoredHistory.Headers headers = new StoredHistory.Headers();
    /** Snapshots read back whole as a retention base, by key, with the size and time they had then. */
    private final Map<String, ObjectInfo> soundSnapshots = new ConcurrentHashMap<>();
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
        metrics.gauge(WalshipMeter.STORAGE_HOLES, () -> last == null ? Double.NaN : last.holes().size());
        metrics.gauge(WalshipMeter.STORAGE_PROBLEMS, () -> last == null ? Double.NaN : last.problems().size());
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
     * then what retention no longer needs. Holes and damaged objects it found are in the
     * result's {@link CompactionResult#problems()}, and stop what they make unsafe.
     *
     * @throws io.walship.storage.StorageException storage failed; what was done stays done
     */
    public CompactionResult run() {
        long started = System.nanoTime();
        String outcome = "error";
        try {
            CompactionResult result = runOnce();
            last = result;
            outcome = result.problems().isEmpty() ? "ok" : "problem";
            return result;
        } finally {
            metrics.timer(WalshipMeter.COMPACTION_RUNS, "outcome", outcome).recordSince(started);
        }
    }

    private CompactionResult runOnce() {
        Instant now = clock.instant();
        LogCatalog listed = LogCatalog.list(storage);
        if (listed.snapshots().isEmpty() && listed.log().isEmpty()) {
            return new CompactionResult(0, 0, 0, 0, 0, -1, 0, 0, List.of(), List.of(), List.of());
        }
        StoredHistory history = StoredHistory.read(storage, listed, headers); // asks for snapshots a listing missed
        if (history.catalog().snapshots().isEmpty()) {
            List<WalshipException> problems = List.of(BadObjectException.corrupt(ObjectKey.SNAPSHOT_PREFIX,
                    "storage holds " + listed.log().size() + " log objects but no snapshot: nothing is restorable,"
                            + " nothing deleted (restore the snapshots, or point this at the right storage)", -1));
            return new CompactionResult(0, 0, 0, 0, 0, -1, listed.size(), listed.bytes(), List.of(), List.of(),
                    problems);
        }
        List<WalshipException> problems = new ArrayList<>();
        Written written = compact(history, problems);
        history = history.with(written.spans());
        List<TxidRange> restorable = confirmedRanges(history);
        history.damaged().values().forEach(problems::add);
        List<TxidRange> holes = StoredHistory.holes(restorable, history.newest());
        for (TxidRange hole : holes) {
            problems.add(BadObjectException.txidGap(ObjectKey.segment(hole.first()), hole.first(),
                    history.nextHeldAfter(hole.first())));
        }
        LogCatalog catalog = history.catalog();
        List<ObjectInfo> replaced = replaced(history, now.minus(policy.grace()), problems);
        List<ObjectInfo> expiredSnapshots = new ArrayList<>();
        List<ObjectInfo> expiredLog = new ArrayList<>();
        long earliest = restorable.get(0).first();
        if (holes.isEmpty()) {
            earliest = expired(history, now.minus(policy.retention()), now, expiredSnapshots, expiredLog, problems);
        }
        replaced.removeAll(new HashSet<>(expiredLog)); // a first run over a long history: tens of thousands each
        // old snapshots before the log they need: a kill in between leaves replayable history
        long bytesDeleted = delete(expiredSnapshots, "expired") + delete(expiredLog, "expired")
                + delete(replaced, "replaced");
        int expired = expiredSnapshots.size() + expiredLog.size();
        CompactionResult result = new CompactionResult(written.objects(), written.bytes(), replaced.size(), expired,
                bytesDeleted, earliest, catalog.size() - replaced.size() - expired,
                catalog.bytes() - bytesDeleted, restorable, holes, problems);
        if (written.objects() > 0 || bytesDeleted > 0) {
            log.info("compaction done storage={} created={} bytesWritten={} replaced={} expired={} bytesDeleted={}"
                            + " earliestTxid={} objects={} bytes={}", storage, result.created(), result.bytesWritten(),
                    result.replaced(), result.expired(), result.bytesDeleted(), result.earliestTxid(),
                    result.objects(), result.bytes());
        }
        return result;
    }

    /**
     * The history's ranges, less those whose snapshot is gone since the listing: a rival's
     * retention deletes old snapshots before their log, so a range whose snapshot still exists now
     * had its log when the headers were read, and one whose snapshot is gone is expired, not a
     * range with a hole after it.
     */
    private List<TxidRange> confirmedRanges(StoredHistory history) {
        List<TxidRange> ranges = new ArrayList<>(history.restorable());
        for (int i = ranges.size() - 2; i >= 0; i--) { // each range followed by a hole
            if (storage.getRange(ObjectKey.snapshot(ranges.get(i).first()), 0, 1).isEmpty()) {
                ranges.remove(i);
            }
        }
        return ranges;
    }

    // ---------------------------------------------------------------- compaction

    /** What a run's compaction wrote: the objects, as spans for the deletions after it. */
    private record Written(List<Span> spans, long bytes) {
        int objects() {
            return spans.size();
        }
    }

    private Written compact(StoredHistory history, List<WalshipException> problems) {
        long earliestSnapshot = history.catalog().earliestSnapshot().getAsLong();
        NavigableMap<LogKey, Span> view = new TreeMap<>(history.spans());
        Reach reach = new Reach(view.values());
        List<Span> written = new ArrayList<>();
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
                boolean whole = earliestSnapshot == 0 || start > earliestSnapshot;
                if (!whole || history.catalog().log().containsKey(target) || view.containsKey(target)) {
                    continue;
                }
                Optional<List<Span>> inputs = inputs(view, reach, target, history.latest());
                if (inputs.isEmpty()) {
                    continue;
                }
                long inputBytes = inputs.get().stream().mapToLong(span -> span.object().size()).sum();
                if (inputs.get().size() < 2 || inputBytes > policy.maxObjectBytes()) {
                    continue;
                }
                if (bytes >= MAX_RUN_BYTES) {
                    return new Written(written, bytes);
                }
                Optional<Span> object = write(target, inputs.get(), problems);
                if (object.isPresent()) {
                    view.put(target, object.get());
                    written.add(object.get());
                    bytes += object.get().object().size();
                }
            }
        }
        return new Written(written, bytes);
    }

    /**
     * How far the log reaches before a txid: for each first txid, the furthest last txid of the
     * objects starting at or before it. Compacted objects written during a run hold what their
     * inputs held, so the answers stay true as the run adds them.
     */
    private static final class Reach {
        private final NavigableMap<Long, Long> furthestByFirst = new TreeMap<>();

        Reach(Collection<Span> spans) {
            NavigableMap<Long, Long> lastByFirst = new TreeMap<>();
            for (Span span : spans) {
                lastByFirst.merge(span.first(), span.last(), Math::max);
            }
            long furthest = -1;
            for (Map.Entry<Long, Long> entry : lastByFirst.entrySet()) {
                furthest = Math.max(furthest, entry.getValue());
                furthestByFirst.put(entry.getKey(), furthest);
            }
        }

        /** The furthest txid an object starting before {@code txid} holds, or -1. */
        long before(long txid) {
            Map.Entry<Long, Long> entry = furthestByFirst.lowerEntry(txid);
            return entry == null ? -1 : entry.getValue();
        }
    }

    /**
     * The objects below {@code target}'s level that hold every txid its compacted object must hold,
     * in order, proven by their headers: the first starts where the block's own transactions begin
     * (its start, or right after an object from before the block that reaches into it), each next
     * one right after the previous, the last at or past the block's end. Objects the listing missed
     * are asked for by key. Empty when the block has a gap (not stored yet, or a hole), or holds
     * nothing of its own.
     */
    private Optional<List<Span>> inputs(NavigableMap<LogKey, Span> view, Reach reach, LogKey target,
                                        long latest) {
        long blockEnd = target.blockEnd();
        long before = reach.before(target.start());
        long next = Math.max(1, before >= target.start() - 1 ? Math.max(target.start(), before + 1) : target.start());
        if (next >= blockEnd || higherLevelHolds(view, target, next)) {
            return Optional.empty(); // nothing of its own, or compacted at a higher level already
        }
        Map<Long, Span> byFirst = new HashMap<>(); // inside the block, below its level: the highest level at a start
        for (Span span : view.subMap(target, false, target.lastInBlock(), true).values()) {
            if (span.key().level() < target.level()) {
                byFirst.merge(span.first(), span, (a, b) -> b.key().level() > a.key().level() ? b : a);
            }
        }
        List<Span> inputs = new ArrayList<>();
        while (next < blockEnd) {
            Span span = byFirst.get(next);
            if (span == null && next <= latest) {
                span = probe(target, next).orElse(null);
            }
            if (span == null) {
                return Optional.empty(); // a gap: not complete, or a hole the history reports
            }
            inputs.add(span);
            next = span.last() + 1;
        }
        return Optional.of(inputs);
    }

    /** Whether an object of a higher level already holds {@code first} through the end of {@code target}'s block. */
    private static boolean higherLevelHolds(NavigableMap<LogKey, Span> view, LogKey target, long first) {
        for (int level = target.level() + 1; level <= ObjectKey.LEVELS; level++) {
            Span above = view.get(new LogKey(level, ObjectKey.blockStart(level, target.start())));
            if (above != null && above.first() <= first && above.last() >= target.blockEnd() - 1) {
                return true;
            }
        }
        return false;
    }

    /**
     * Asks storage for the objects below {@code target}'s level, inside its block, that could
     * start at {@code txid} (a listing may have missed one); the one whose header says it does.
     */
    private Optional<Span> probe(LogKey target, long txid) {
        for (LogKey key : ObjectKey.holders(txid)) {
            if (key.level() >= target.level() || !target.blockHolds(key.start())) {
                continue;
            }
            Optional<byte[]> header = storage.getRange(key.key(), 0, FormatLayout.SEGMENT_HEADER_SIZE);
            if (header.isEmpty()) {
                continue;
            }
            SegmentHeader parsed;
            try {
                parsed = SegmentHeader.parse(key.key(), ByteBuffer.wrap(header.get()), -1);
            } catch (WalshipException e) {
                continue; // damaged: the history reports it
            }
            if (parsed.firstTxid() == txid) {
                log.debug("compaction found an object the listing missed key={} txid={}", key, txid);
                return Optional.of(new Span(new LogCatalog.LogObject(key, StoredHistory.unlisted(key.key(), parsed)),
                        parsed));
            }
        }
        return Optional.empty();
    }

    /**
     * Writes the compacted object of {@code target}'s block from {@code inputs}, checking while
     * reading them that each continues the previous one (txid and database checksum) and that
     * they start and end where their headers said; the written object as a span, or empty when an
     * input went missing (another compactor) or did not read back as its header promised (a
     * problem, reported).
     */
    private Optional<Span> write(LogKey target, List<Span> inputs, List<WalshipException> problems) {
        String key = target.key();
        SegmentWriter writer = null;
        try {
            long txid = -1;
            long checksum = 0;
            for (Span input : inputs) {
                Optional<FetchedSegment> fetched = FetchedSegment.fetch(storage, input.storageKey(), workDirectory,
                        MEMORY_BYTES);
                if (fetched.isEmpty()) {
                    log.debug("compaction skipped key={} reason={} is gone (another compactor)", key, input.key());
                    return Optional.empty();
                }
                try (FetchedSegment closing = fetched.get(); SegmentReader segment = closing.open()) {
                    if (segment.firstTxid() != input.first() || segment.lastTxid() != input.last()) {
                        throw BadObjectException.corrupt(input.storageKey(), "holds txids " + segment.firstTxid()
                                + ".." + segment.lastTxid() + ", its header said " + input.first() + ".."
                                + input.last() + " (replaced since it was planned?)", -1);
                    }
                    if (writer == null) {
                        writer = new SegmentWriter(segment.pageSize(), segment.checksumBefore(),
                                new SegmentSpill(workDirectory, MEMORY_BYTES), Compression.TIGHT);
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
            if (txid < target.blockEnd() - 1) {
                throw BadObjectException.txidGap(key, target.blockEnd() - 1, txid); // the planning proved otherwise: a bug
            }
            try (SealedSegment sealed = writer.seal()) {
                writer = null;
                PutResult result = sealed.putIfAbsent(storage, key);
                metrics.counter(WalshipMeter.COMPACTION_OBJECTS, "action", "created").increment();
                metrics.counter(WalshipMeter.COMPACTION_BYTES, "action", "written").add(sealed.length());
                log.debug("compacted key={} inputs={} firstTxid={} lastTxid={} bytes={} result={}", key,
                        inputs.size(), sealed.firstTxid(), sealed.lastTxid(), sealed.length(), result);
                Span first = inputs.get(0);
                SegmentHeader header = new SegmentHeader(first.header().pageSize(),
                        (int) (sealed.lastTxid() - sealed.firstTxid() + 1), sealed.firstTxid(), sealed.lastTxid(),
                        first.header().checksumBefore(), sealed.rawBodyBytes());
                return Optional.of(new Span(new LogCatalog.LogObject(target,
                        new ObjectInfo(key, sealed.length(), clock.instant())), header));
            }
        } catch (WalshipException e) {
            // an input does not continue the one before, or is damaged: nothing is deleted for this block
            log.warn("compaction skipped key={} error={}", key, e.getMessage());
            problems.add(e);
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

    /**
     * Objects a compacted object stored before {@code cutoff} was read back to hold: each deleted
     * one's txids lie inside it, and it records the database checksum the smaller object starts
     * from. One that it does not hold is kept and reported.
     */
    private List<ObjectInfo> replaced(StoredHistory history, Instant cutoff, List<WalshipException> problems) {
        Map<String, ObjectInfo> out = new LinkedHashMap<>();
        for (Span compacted : history.spans().values()) {
            if (compacted.key().level() == 0 || compacted.object().info().lastModified().isAfter(cutoff)) {
                continue;
            }
            List<Span> inside = new ArrayList<>();
            for (LogCatalog.LogObject object : history.catalog().inside(compacted.key())) {
                history.span(object.key()).filter(span -> !out.containsKey(span.storageKey())).ifPresent(inside::add);
            }
            if (inside.isEmpty()) {
                continue;
            }
            Optional<Map<Long, Long>> checksums = readBack(compacted, inside, problems);
            if (checksums.isEmpty()) {
                continue;
            }
            for (Span replaced : inside) {
                Long before = checksums.get().get(replaced.first() - 1);
                if (compacted.header().holds(replaced.first()) && compacted.header().holds(replaced.last())
                        && before != null && before == replaced.header().checksumBefore()) {
                    out.put(replaced.storageKey(), replaced.object().info());
                } else {
                    BadObjectException e = BadObjectException.corrupt(compacted.storageKey(),
                            "does not hold what " + replaced.storageKey() + " holds (txids " + replaced.first() + ".."
                                    + replaced.last() + "); " + replaced.storageKey() + " is kept", -1);
                    log.warn("compaction keeps an object its compacted object does not hold key={} error={}",
                            replaced.storageKey(), e.getMessage());
                    problems.add(e);
                }
            }
        }
        return new ArrayList<>(out.values());
    }

    /**
     * Reads {@code compacted} back whole (its checksum, every record) and returns the database
     * checksum it records before each first txid of {@code inside} (and before its own first);
     * empty when it is gone or damaged (reported).
     */
    private Optional<Map<Long, Long>> readBack(Span compacted, List<Span> inside, List<WalshipException> problems) {
        Set<Long> wanted = new HashSet<>();
        inside.forEach(span -> wanted.add(span.first() - 1));
        Map<Long, Long> checksums = new HashMap<>();
        try {
            Optional<FetchedSegment> fetched = FetchedSegment.fetch(storage, compacted.storageKey(), workDirectory,
                    MEMORY_BYTES);
            if (fetched.isEmpty()) {
                return Optional.empty(); // deleted since the listing: whoever did read it back first
            }
            try (FetchedSegment closing = fetched.get(); SegmentReader reader = closing.open()) {
                checksums.put(reader.firstTxid() - 1, reader.checksumBefore());
                for (SegmentReader.TransactionHeader txn = reader.nextTransaction(); txn != null;
                     txn = reader.nextTransaction()) {
                    long after = reader.readPages((pgno, image) -> { });
                    if (wanted.contains(txn.txid())) {
                        checksums.put(txn.txid(), after);
                    }
                }
            }
            return Optional.of(checksums);
        } catch (WalshipException e) {
            log.warn("compacted object does not read back, nothing it replaces is deleted key={} error={}",
                    compacted.storageKey(), e.getMessage());
            problems.add(e);
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("reading back " + compacted.storageKey() + " failed", e);
        }
    }

    /**
     * Fills what retention deletes: snapshots older than the newest snapshot stored before
     * {@code windowStart}, the log objects that end at or before it, and the snapshots inside the
     * window that {@link #thinned} drops; nothing before that base unless it reads back whole.
     * Called only for a history without holes. Returns the earliest txid storage can restore
     * afterwards.
     */
    private long expired(StoredHistory history, Instant windowStart, Instant now, List<ObjectInfo> snapshots,
                         List<ObjectInfo> logObjects, List<WalshipException> problems) {
        LogCatalog catalog = history.catalog();
        Long keep = null;
        for (Map.Entry<Long, ObjectInfo> snapshot : catalog.snapshots().entrySet()) {
            if (!snapshot.getValue().lastModified().isAfter(windowStart)) {
                keep = snapshot.getKey();
            }
        }
        // the base of the window (the kept snapshot, or the earliest while none is older) is never thinned
        long earliest = catalog.earliestSnapshot().getAsLong();
        long base = keep != null ? keep : earliest;
        List<ObjectInfo> plannedSnapshots = new ArrayList<>(thinned(catalog.snapshots().tailMap(base, false), now));
        List<ObjectInfo> plannedLog = new ArrayList<>();
        if (keep != null) {
            plannedSnapshots.addAll(catalog.snapshots().headMap(keep, false).values());
            for (Span span : history.spans().values()) {
                if (span.last() <= keep) {
                    plannedLog.add(span.object().info());
                }
            }
        }
        // what goes is replaced by the base and the log after it: the base must read back whole first
        // (read only when something would go, and once per snapshot)
        if (plannedSnapshots.isEmpty() && plannedLog.isEmpty()) {
            return base;
        }
        if (!sound(catalog.snapshots().get(base), problems)) {
            return earliest;
        }
        snapshots.addAll(plannedSnapshots);
        logObjects.addAll(plannedLog);
        return base;
    }

    /**
     * Whether the snapshot reads back whole (checked once per object: its checksum over every page
     * and the whole-object checksum); a damaged one is reported.
     */
    private boolean sound(ObjectInfo snapshot, List<WalshipException> problems) {
        if (snapshot.equals(soundSnapshots.get(snapshot.key()))) {
            return true;
        }
        try {
            if (SnapshotCheck.check(storage, snapshot.key()).isEmpty()) {
                return false; // deleted since the listing: a rival's retention moved on
            }
            soundSnapshots.keySet().removeIf(key -> !key.equals(snapshot.key()));
            soundSnapshots.put(snapshot.key(), snapshot);
            return true;
        } catch (WalshipException e) {
            log.warn("snapshot does not read back, retention keeps the history before it key={} error={}",
                    snapshot.key(), e.getMessage());
            problems.add(e);
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("reading back " + snapshot.key() + " failed", e);
        }
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
