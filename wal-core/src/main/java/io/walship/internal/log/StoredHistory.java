package io.walship.internal.log;

import io.walship.TxidRange;
import io.walship.WalshipException;
import io.walship.internal.log.LogCatalog.LogObject;
import io.walship.internal.log.ObjectKey.LogKey;
import io.walship.storage.ObjectInfo;
import io.walship.storage.Storage;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What storage can restore, proven from the objects themselves rather than from a listing: every
 * listed log object's header says which txids it holds, and walking from each snapshot through
 * the objects that hold the next txid gives the ranges of txids a restore reaches, with the holes
 * between them. Whoever deletes (the compactor) or reports (ls, status) plans from this.
 *
 * <p><b>A listing is a hint.</b> It can miss an object that exists (a directory read racing a
 * writer's link, an eventually consistent store) and still show later ones, or show one that was
 * deleted since. So a listed key counts only once its header was read, and where the walk finds
 * no listed object holding the next txid it asks storage directly for the keys that could hold
 * it (the segment {@code log/<x>} and the compacted block of each level, as a follower does)
 * before calling it a hole. An object whose header cannot be read is damaged and counts for
 * nothing; one deleted since the listing is simply gone.
 *
 * <p>Cost: one ranged read of {@value FormatLayout#SEGMENT_HEADER_SIZE} bytes per log object not
 * read before ({@link Headers} keeps them for a caller that reads the history again and again),
 * several at a time, and at most six GETs per range end. Snapshots are not read: their key is
 * their txid.
 */
public final class StoredHistory {
    /** Header reads in flight at once when there are many. */
    private static final int PARALLEL_READS = 8;
    private static final AtomicInteger THREADS = new AtomicInteger();

    /** A log object and the txids its own header says it holds. */
    public record Span(LogObject object, SegmentHeader header) {
        public LogKey key() {
            return object.key();
        }

        public long first() {
            return header.firstTxid();
        }

        public long last() {
            return header.lastTxid();
        }

        public String storageKey() {
            return object.storageKey();
        }
    }

    /**
     * Headers read before, by key, size and time stored (an object's key is never reused for
     * other bytes while it exists, and one deleted and written again differs in time): a caller
     * that reads the history every minute reads each object's header once. Thread-safe.
     */
    public static final class Headers {
        private record Known(long size, Instant stored, SegmentHeader header) {
        }

        private final Map<String, Known> byKey = new ConcurrentHashMap<>();

        Optional<SegmentHeader> get(ObjectInfo info) {
            Known known = byKey.get(info.key());
            return known != null && known.size() == info.size() && known.stored().equals(info.lastModified())
                    ? Optional.of(known.header()) : Optional.empty();
        }

        void put(ObjectInfo info, SegmentHeader header) {
            byKey.put(info.key(), new Known(info.size(), info.lastModified(), header));
        }

        /** Forgets every key not in {@code listed}: what was deleted. */
        void retainOnly(Set<String> listed) {
            byKey.keySet().retainAll(listed);
        }
    }

    private final LogCatalog catalog;
    private final NavigableMap<LogKey, Span> spans;
    private final Map<String, WalshipException> damaged;
    private final List<TxidRange> restorable;

    private StoredHistory(LogCatalog catalog, NavigableMap<LogKey, Span> spans, Map<String, WalshipException> damaged,
                          List<TxidRange> restorable) {
        this.catalog = catalog;
        this.spans = Collections.unmodifiableNavigableMap(spans);
        this.damaged = Collections.unmodifiableMap(damaged);
        this.restorable = List.copyOf(restorable);
    }

    /** Lists storage and reads the history, every header afresh. */
    public static StoredHistory read(Storage storage) {
        return read(storage, LogCatalog.list(storage), new Headers());
    }

    /**
     * Reads the history of what {@code catalog} listed, taking headers from {@code headers} where
     * known and adding those it reads.
     *
     * @throws io.walship.storage.StorageException storage failed while reading headers
     */
    public static StoredHistory read(Storage storage, LogCatalog catalog, Headers headers) {
        Map<String, WalshipException> damaged = new LinkedHashMap<>();
        NavigableMap<LogKey, Span> spans = readHeaders(storage, catalog, headers, damaged);
        headers.retainOnly(catalog.log().values().stream().map(LogObject::storageKey)
                .collect(java.util.stream.Collectors.toSet()));
        if (!spans.isEmpty()) {
            catalog = withSnapshotsAskedFor(storage, catalog);
        }
        List<ObjectInfo> probed = new ArrayList<>();
        List<TxidRange> restorable = walk(storage, catalog, spans, probed, damaged);
        return new StoredHistory(catalog.plus(probed), spans, damaged, restorable);
    }

    private static NavigableMap<LogKey, Span> readHeaders(Storage storage, LogCatalog catalog, Headers headers,
                                                          Map<String, WalshipException> damaged) {
        NavigableMap<LogKey, Span> spans = new TreeMap<>();
        List<LogObject> unknown = new ArrayList<>();
        for (LogObject object : catalog.log().values()) {
            Optional<SegmentHeader> known = headers.get(object.info());
            if (known.isPresent()) {
                spans.put(object.key(), new Span(object, known.get()));
            } else {
                unknown.add(object);
            }
        }
        List<HeaderRead> reads = new ArrayList<>();
        if (unknown.size() <= PARALLEL_READS) {
            for (LogObject object : unknown) {
                reads.add(readHeader(storage, object.storageKey(), object.size()));
            }
        } else {
            ExecutorService pool = Executors.newFixedThreadPool(PARALLEL_READS, r -> {
                Thread t = new Thread(r, "walship-header-read-" + THREADS.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
            try {
                List<Future<HeaderRead>> futures = new ArrayList<>();
                for (LogObject object : unknown) {
                    futures.add(pool.submit(() -> readHeader(storage, object.storageKey(), object.size())));
                }
                for (Future<HeaderRead> future : futures) {
                    reads.add(await(future));
                }
            } finally {
                pool.shutdownNow();
            }
        }
        for (int i = 0; i < unknown.size(); i++) {
            LogObject object = unknown.get(i);
            HeaderRead read = reads.get(i);
            if (read.header() != null) {
                headers.put(object.info(), read.header());
                spans.put(object.key(), new Span(object, read.header()));
            } else if (read.damage() != null) {
                damaged.put(object.storageKey(), read.damage());
            } // else deleted since the listing
        }
        return spans;
    }

    private static HeaderRead await(Future<HeaderRead> future) {
        try {
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading object headers", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException) {
                throw (RuntimeException) e.getCause();
            }
            throw new IllegalStateException("reading an object header failed", e.getCause());
        }
    }

    /** A header, or why it could not be read; both null when the object is gone. */
    private record HeaderRead(SegmentHeader header, WalshipException damage) {
    }

    private static HeaderRead readHeader(Storage storage, String key, long size) {
        Optional<byte[]> bytes = storage.getRange(key, 0, FormatLayout.SEGMENT_HEADER_SIZE);
        if (bytes.isEmpty()) {
            return new HeaderRead(null, null);
        }
        try {
            return new HeaderRead(SegmentHeader.parse(key, ByteBuffer.wrap(bytes.get()), size), null);
        } catch (WalshipException e) {
            return new HeaderRead(null, e);
        }
    }

    /**
     * The ranges a restore reaches: from each snapshot not already inside a range, through the
     * object holding the next txid that reaches furthest, until none does (after asking storage
     * for the keys that could hold it). Adds what it found by asking to {@code spans} and
     * {@code probed}.
     */
    private static List<TxidRange> walk(Storage storage, LogCatalog catalog, NavigableMap<LogKey, Span> spans,
                                        List<ObjectInfo> probed, Map<String, WalshipException> damaged) {
        NavigableMap<Long, Span> byFirst = new TreeMap<>();
        for (Span span : spans.values()) {
            byFirst.merge(span.first(), span, (a, b) -> b.last() > a.last() ? b : a);
        }
        List<TxidRange> ranges = new ArrayList<>();
        Iterator<Span> ascending = byFirst.values().iterator();
        Span pending = null; // read from the iterator, first > the txid wanted then
        Span furthest = null; // of the spans starting at or before the txid wanted, the one reaching furthest
        long start = -1;
        long reach = -1;
        for (long snapshot : catalog.snapshots().keySet()) {
            if (snapshot <= reach) {
                continue;
            }
            if (start >= 0) {
                add(ranges, start, reach);
            }
            start = snapshot;
            reach = snapshot;
            while (true) {
                long next = reach + 1;
                while (pending != null || ascending.hasNext()) {
                    Span span = pending != null ? pending : ascending.next();
                    pending = null;
                    if (span.first() > next) {
                        pending = span;
                        break;
                    }
                    furthest = furthest == null || span.last() > furthest.last() ? span : furthest;
                }
                if (furthest != null && furthest.last() >= next) {
                    reach = furthest.last();
                    continue;
                }
                Optional<Span> found = probe(storage, catalog, next, damaged);
                if (found.isEmpty()) {
                    break;
                }
                spans.put(found.get().key(), found.get());
                probed.add(found.get().object().info());
                furthest = found.get();
                reach = furthest.last();
            }
        }
        if (start >= 0) {
            add(ranges, start, reach);
        }
        return ranges;
    }

    /** Adds {@code first..last}, joined to the previous range when nothing lies between them. */
    private static void add(List<TxidRange> ranges, long first, long last) {
        if (!ranges.isEmpty() && ranges.get(ranges.size() - 1).last() + 1 >= first) {
            TxidRange previous = ranges.remove(ranges.size() - 1);
            ranges.add(new TxidRange(previous.first(), Math.max(previous.last(), last)));
        } else {
            ranges.add(new TxidRange(first, last));
        }
    }

    /**
     * {@code catalog}, or when it lists no snapshot, with the snapshots a history most likely
     * starts from asked for by key: txid 0, where a primary bootstraps, and just before the oldest
     * log object, where retention leaves its base. A listing can miss what exists (a new storage's
     * first snapshot, shown late by an eventually consistent store); found ones count as stored now.
     * Two GETs, only when no snapshot is listed.
     */
    public static LogCatalog withSnapshotsAskedFor(Storage storage, LogCatalog catalog) {
        if (!catalog.snapshots().isEmpty()) {
            return catalog;
        }
        long oldest = catalog.log().isEmpty() ? 1 : catalog.log().firstKey().start();
        List<ObjectInfo> found = new ArrayList<>();
        for (long txid : new java.util.TreeSet<>(List.of(0L, Math.max(0, oldest - 1)))) {
            String key = ObjectKey.snapshot(txid);
            if (storage.getRange(key, 0, 1).isPresent()) {
                found.add(new ObjectInfo(key, 0, Instant.now()));
            }
        }
        return catalog.plus(found);
    }

    /**
     * Asks storage directly for the keys that can hold {@code txid} (which begins a segment, as
     * every end of a chain does) and were not listed: the segment starting there, then each
     * level's compacted block. The first whose header holds it, or empty.
     */
    private static Optional<Span> probe(Storage storage, LogCatalog catalog, long txid,
                                        Map<String, WalshipException> damaged) {
        for (LogKey key : ObjectKey.holders(txid)) {
            if (catalog.log().containsKey(key)) {
                continue; // listed, and its header was read: it does not hold txid
            }
            HeaderRead read = readHeader(storage, key.key(), -1);
            if (read.damage() != null) {
                damaged.put(key.key(), read.damage());
            }
            if (read.header() != null && read.header().holds(txid)) {
                return Optional.of(new Span(new LogObject(key, unlisted(key.key(), read.header())), read.header()));
            }
        }
        return Optional.empty();
    }

    /**
     * What a listing would have said of an object found by asking for its key: its size bounded by
     * its header (the raw body, which compression only shrinks) and stored "now", so that a grace
     * period counts from when it was found, never from earlier.
     */
    public static ObjectInfo unlisted(String key, SegmentHeader header) {
        return new ObjectInfo(key, FormatLayout.SEGMENT_HEADER_SIZE + header.rawBodyBytes() + FormatLayout.TRAILER_SIZE,
                Instant.now());
    }

    /**
     * This history with objects added that hold only txids it already holds (what a compactor just
     * wrote): the ranges stay, and no listing is taken again, which could miss more than the first.
     */
    public StoredHistory with(Collection<Span> added) {
        if (added.isEmpty()) {
            return this;
        }
        NavigableMap<LogKey, Span> more = new TreeMap<>(spans);
        added.forEach(span -> more.put(span.key(), span));
        return new StoredHistory(catalog.plus(added.stream().map(span -> span.object().info()).toList()), more,
                damaged, restorable);
    }

    /** The listing, with the objects found by asking storage directly added. */
    public LogCatalog catalog() {
        return catalog;
    }

    /** Every log object whose header was read, by key. */
    public NavigableMap<LogKey, Span> spans() {
        return spans;
    }

    /** The object at {@code key}, if its header was read. */
    public Optional<Span> span(LogKey key) {
        return Optional.ofNullable(spans.get(key));
    }

    /** The ranges of txids storage can restore, ascending, none touching the next. */
    public List<TxidRange> restorable() {
        return restorable;
    }

    /** The txids no snapshot and log reach although storage holds later ones; see {@link #holes(List, long)}. */
    public List<TxidRange> holes() {
        return holes(restorable, newest());
    }

    /**
     * The holes of {@code restorable} ranges in a storage whose objects hold txids up to
     * {@code newest}: between two ranges, and after the last one up to {@code newest} (log stored
     * past a txid that is missing is unrestorable until a snapshot follows it).
     */
    public static List<TxidRange> holes(List<TxidRange> restorable, long newest) {
        List<TxidRange> holes = new ArrayList<>();
        for (int i = 1; i < restorable.size(); i++) {
            holes.add(new TxidRange(restorable.get(i - 1).last() + 1, restorable.get(i).first() - 1));
        }
        if (!restorable.isEmpty() && newest > restorable.get(restorable.size() - 1).last()) {
            holes.add(new TxidRange(restorable.get(restorable.size() - 1).last() + 1, newest));
        }
        return holes;
    }

    /** The first txid after {@code txid} that an object starts with (a snapshot's txid + 1), or -1. */
    public long nextHeldAfter(long txid) {
        long next = Long.MAX_VALUE;
        for (Span span : spans.values()) {
            if (span.first() > txid) {
                next = Math.min(next, span.first());
            }
        }
        Long snapshot = catalog.snapshots().higherKey(txid);
        if (snapshot != null) {
            next = Math.min(next, snapshot + 1);
        }
        return next == Long.MAX_VALUE ? -1 : next;
    }

    /** The newest txid any snapshot or log object holds, or -1 when storage holds none. */
    public long newest() {
        long newest = catalog.latestSnapshot().orElse(-1);
        for (Span span : spans.values()) {
            newest = Math.max(newest, span.last());
        }
        return newest;
    }

    /** The earliest restorable txid, or -1 when storage holds no snapshot. */
    public long earliest() {
        return restorable.isEmpty() ? -1 : restorable.get(0).first();
    }

    /** The latest restorable txid, or -1 when storage holds no snapshot. */
    public long latest() {
        return restorable.isEmpty() ? -1 : restorable.get(restorable.size() - 1).last();
    }

    /** Log objects whose header could not be read (not a segment, unknown version, inconsistent), by key. */
    public Map<String, WalshipException> damaged() {
        return damaged;
    }
}
