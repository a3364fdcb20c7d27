package io.walship.internal.log;

import io.walship.internal.log.ObjectKey.LogKey;
import io.walship.storage.ObjectInfo;
import io.walship.storage.Storage;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * What storage holds, from one listing of {@code snapshots/} and one of {@code log/}: the
 * snapshots by txid and the log objects of every level, and which of them a reader standing at
 * some txid reads next. The one place that knows how segments and compacted objects chain
 * (ADR 0010); restores, the primary's open, {@code walship ls}/{@code status}/{@code verify} and
 * the compactor all read storage through it. Keys that are not walship keys are ignored.
 *
 * <p><b>How a chain is chosen.</b> A reader at txid {@code t} needs {@code x = t + 1}. The object
 * that holds {@code x} with the fewest requests is the highest level whose block holds
 * {@code x} and exists, else the segment starting at {@code x}. Where it ends is known only once
 * read, but not needed to name the next object: that one starts at or after the end of the
 * chosen block (for a segment: after its first txid), and it is the listed object with the
 * smallest start from there, the highest level at one start. Readers check while reading that
 * each object continues the previous one exactly, so a wrong listing shows as a gap, never as a
 * wrong database.
 */
public final class LogCatalog {
    /** One log object: where it lives and what storage listed for it. */
    public record LogObject(LogKey key, ObjectInfo info) {
        public String storageKey() {
            return info.key();
        }

        public long size() {
            return info.size();
        }
    }

    private final NavigableMap<Long, ObjectInfo> snapshots;
    private final NavigableMap<LogKey, LogObject> log;

    private LogCatalog(NavigableMap<Long, ObjectInfo> snapshots, NavigableMap<LogKey, LogObject> log) {
        this.snapshots = Collections.unmodifiableNavigableMap(snapshots);
        this.log = Collections.unmodifiableNavigableMap(log);
    }

    /** Lists storage: two LIST calls, each reading every page. */
    public static LogCatalog list(Storage storage) {
        List<ObjectInfo> snapshotObjects = storage.list(ObjectKey.SNAPSHOT_PREFIX);
        return of(snapshotObjects, storage.list(ObjectKey.LOG_PREFIX));
    }

    /** From listings already made (tests, or callers that list once for several purposes). */
    public static LogCatalog of(List<ObjectInfo> snapshotObjects, List<ObjectInfo> logObjects) {
        NavigableMap<Long, ObjectInfo> snapshots = new TreeMap<>();
        for (ObjectInfo info : snapshotObjects) {
            ObjectKey.parseSnapshot(info.key()).ifPresent(txid -> snapshots.put(txid, info));
        }
        NavigableMap<LogKey, LogObject> log = new TreeMap<>();
        for (ObjectInfo info : logObjects) {
            ObjectKey.parseLog(info.key()).ifPresent(key -> log.put(key, new LogObject(key, info)));
        }
        return new LogCatalog(snapshots, log);
    }

    /**
     * This catalog with {@code found} added (snapshots and log objects alike, by key): what a
     * reader learned exists by asking for keys a listing did not show.
     */
    public LogCatalog plus(Collection<ObjectInfo> found) {
        if (found.isEmpty()) {
            return this;
        }
        List<ObjectInfo> all = new ArrayList<>(snapshots.values());
        log.values().forEach(object -> all.add(object.info()));
        all.addAll(found);
        return of(all.stream().filter(o -> o.key().startsWith(ObjectKey.SNAPSHOT_PREFIX)).toList(),
                all.stream().filter(o -> o.key().startsWith(ObjectKey.LOG_PREFIX)).toList());
    }

    /** This catalog without the snapshots at {@code txids}: what a restore plans from once they proved damaged. */
    public LogCatalog withoutSnapshots(Collection<Long> txids) {
        if (txids.isEmpty()) {
            return this;
        }
        NavigableMap<Long, ObjectInfo> kept = new TreeMap<>(snapshots);
        kept.keySet().removeAll(txids);
        return new LogCatalog(kept, new TreeMap<>(log));
    }

    /** Snapshots by txid, ascending. */
    public NavigableMap<Long, ObjectInfo> snapshots() {
        return snapshots;
    }

    /** Every log object, by start and, at one start, the higher level first. */
    public NavigableMap<LogKey, LogObject> log() {
        return log;
    }

    /** Log objects of one level, by start. */
    public List<LogObject> level(int level) {
        List<LogObject> out = new ArrayList<>();
        for (LogObject object : log.values()) {
            if (object.key().level() == level) {
                out.add(object);
            }
        }
        return out;
    }

    /** Txid of the oldest snapshot listed, if any. */
    public OptionalLong earliestSnapshot() {
        return snapshots.isEmpty() ? OptionalLong.empty() : OptionalLong.of(snapshots.firstKey());
    }

    /** Txid of the newest snapshot listed, if any. */
    public OptionalLong latestSnapshot() {
        return snapshots.isEmpty() ? OptionalLong.empty() : OptionalLong.of(snapshots.lastKey());
    }

    /** The newest snapshot at or before {@code txid}. */
    public Optional<Map.Entry<Long, ObjectInfo>> snapshotAtOrBefore(long txid) {
        return Optional.ofNullable(snapshots.floorEntry(txid));
    }

    /** The highest log start listed, or -1: a lower bound of storage's newest txid. */
    public long newestLogStart() {
        return log.isEmpty() ? -1 : log.lastKey().start();
    }

    /** Every object a reader at {@code txid} reads to reach storage's newest txid, in order. */
    public List<LogObject> chain(long txid) {
        return chain(txid, Long.MAX_VALUE);
    }

    /**
     * The objects a reader at {@code txid} reads, in order, to reach {@code upTo}: the fewest
     * (see the class note). Empty when nothing after {@code txid} is listed. The last object may
     * end past {@code upTo}; the reader stops inside it.
     */
    public List<LogObject> chain(long txid, long upTo) {
        List<LogObject> out = new ArrayList<>();
        long x = txid + 1;
        if (x > upTo) {
            return out;
        }
        LogObject first = holding(x);
        return first == null ? out : chainFrom(first, upTo);
    }

    /** {@code first}, then every object after it as {@link #chain(long, long)} picks them. */
    public List<LogObject> chainFrom(LogObject first, long upTo) {
        List<LogObject> out = new ArrayList<>();
        out.add(first);
        for (LogObject next = after(first.key()); next != null && next.key().start() <= upTo;
             next = after(next.key())) {
            out.add(next);
        }
        return out;
    }

    /**
     * The object a chain reads after {@code key}: the listed one with the smallest start at or
     * past the end of {@code key}'s block, the highest level at one start; null after the newest.
     */
    public LogObject after(LogKey key) {
        Map.Entry<LogKey, LogObject> next = log.ceilingEntry(new LogKey(ObjectKey.LEVELS, key.blockEnd()));
        return next == null ? null : next.getValue();
    }

    /** The lower-level objects still listed inside {@code key}'s block: those a compacted object replaces. */
    public Collection<LogObject> inside(LogKey key) {
        return log.subMap(key, false, key.lastInBlock(), true).values();
    }

    /**
     * The object that holds {@code txid} with the fewest requests, or null when nothing listed
     * does. {@code txid} must begin a segment, as every position walship reads from does
     * (snapshots, replicas and the primary's stored txid all stand at segment ends); the reader
     * checks that the object continues its position exactly.
     */
    public LogObject holding(long txid) {
        for (int level = ObjectKey.LEVELS; level >= 1; level--) {
            LogObject object = log.get(new LogKey(level, ObjectKey.blockStart(level, txid)));
            if (object != null) {
                return object;
            }
        }
        return log.get(new LogKey(0, txid));
    }

    /**
     * Objects that may hold {@code txid} when it is not known to begin a segment: the one
     * {@link #holding} names, then up to {@code count} objects starting before it, nearest first.
     */
    public List<LogObject> candidatesFor(long txid, int count) {
        List<LogObject> out = new ArrayList<>();
        LogObject exact = holding(txid);
        if (exact != null) {
            out.add(exact);
        }
        for (LogKey key = log.lowerKey(new LogKey(0, txid)); key != null && out.size() < count + 1;
             key = log.lowerKey(key)) {
            if (exact == null || !key.equals(exact.key())) {
                out.add(log.get(key));
            }
        }
        return out;
    }

    /** How many objects the catalog holds, snapshots and log. */
    public int size() {
        return snapshots.size() + log.size();
    }

    /** Bytes of every listed object. */
    public long bytes() {
        long total = 0;
        for (ObjectInfo info : snapshots.values()) {
            total += info.size();
        }
        for (LogObject object : log.values()) {
            total += object.size();
        }
        return total;
    }
}
