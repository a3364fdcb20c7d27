package io.walship.replica;

import io.walship.WalshipException;
import io.walship.internal.log.FetchedSegment;
import io.walship.internal.log.LogLookup;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.SegmentSpill;
import io.walship.storage.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Where a replica's next segments come from, one batch at a time: the primary's stream when it
 * holds them (stored ones, and with {@code applyUnstored} ones not stored yet), else storage,
 * which is asked for compacted objects too when the next segment is missing and a probe is due.
 * Also says when the replica was last known caught up. Not thread-safe: the replica calls it
 * under its applyLock only.
 */
final class SegmentSource {
    /*
     * Ahead of storage (ADR 0017), a batch comes from one stream connection only, and once a
     * transaction in it is unstored nothing is read from storage after it: storage cannot hold
     * what follows transactions it does not hold yet. A stream in sync speaks for storage, but
     * for at most STREAM_STORAGE_CHECK_NANOS: should another primary have taken storage over
     * while this one's stream has not noticed, storage is where the truth is.
     */

    /**
     * How often a caught-up follower also asks for compacted objects holding its next txid (five
     * GETs). Its next segment is deleted only after a compacted object has held it for the
     * compactor's grace period (1 min by default), so a follower polling steadily never needs
     * them; one that was stalled finds them within this interval.
     */
    static final long PROBE_INTERVAL_MILLIS = 30_000;
    /** How long a replica whose stream is in sync goes without asking storage itself. */
    private static final long STREAM_STORAGE_CHECK_NANOS = TimeUnit.SECONDS.toNanos(30);
    /**
     * What the batches applied ahead of storage may keep, in all, to take themselves back
     * (overwritten page images); beyond it the replica takes only stored transactions until
     * storage confirms the others.
     */
    private static final long MAX_AHEAD_BYTES = 32L << 20;
    /** Bounds of one batch: how much a replica that fell far behind applies under one lock. */
    private static final int MAX_BATCH_SEGMENTS = 256;
    private static final long MAX_BATCH_BYTES = 64L << 20;
    /** What the segments of one batch may hold in memory together; larger ones go to spill files. */
    private static final long BATCH_MEMORY_BYTES = 8L << 20;

    private final Storage storage;
    private final Path path;
    private final ReplicaOptions options;
    /** Told each time storage was asked, or the stream vouched for it: the replica's poll age. */
    private final Runnable looked;
    /** When storage was last asked for the next txid (System.nanoTime()). */
    private long lastStorageLookNanos = System.nanoTime();
    /** When compacted objects were last looked for; 0: never. */
    private long lastProbeNanos;

    SegmentSource(Storage storage, Path path, ReplicaOptions options, Runnable looked) {
        this.storage = storage;
        this.path = path;
        this.options = options;
        this.looked = looked;
    }

    /**
     * One batch to apply after the replica's txid; the caller closes its segments.
     *
     * @param segments   in txid order, each checked whole; empty when nothing newer was found
     * @param unstored   whether any of them (or what the replica holds already) is not stored yet
     * @param connection the stream connection an unstored batch came from; -1 for none
     * @param caughtUpAt with no segments: when storage or the stream last said there was nothing
     *                   newer (System.nanoTime()); 0 when neither was asked
     * @param bad        the first segment that failed its checks, after the good ones before it
     */
    record Batch(List<FetchedSegment> segments, long bytes, boolean unstored, long connection, long caughtUpAt,
                 WalshipException bad) {
    }

    /**
     * Gathers the segments after {@code txid}.
     *
     * @param feed             the stream, or null
     * @param ahead            whether the replica holds transactions not stored yet
     * @param aheadConnection  with {@code ahead}: the stream connection they came from, or -1
     * @param aheadBytes       what the replica keeps already to take ahead batches back
     * @param probeNow         look for compacted objects now if the next segment is missing, else when due
     */
    Batch next(long txid, StreamFeed feed, boolean ahead, long aheadConnection, long aheadBytes, boolean probeNow)
            throws IOException {
        List<FetchedSegment> segments = new ArrayList<>();
        try {
            long bytes = 0;
            long memoryLeft = BATCH_MEMORY_BYTES;
            long next = txid + 1;
            long caughtUpAt = 0;
            boolean probe = probeDue() || probeNow;
            // ahead of storage, every batch keeps its undo: a rollback returns to before the first
            boolean unstored = ahead;
            long connection = ahead ? aheadConnection : -1;
            while (segments.size() < MAX_BATCH_SEGMENTS && bytes < MAX_BATCH_BYTES) {
                long askedNanos = System.nanoTime();
                Optional<FetchedSegment> fetched = Optional.empty();
                if (feed != null) {
                    boolean takeUnstored = options.applyUnstored() && aheadBytes < MAX_AHEAD_BYTES
                            && (connection < 0 || feed.connection() == connection);
                    Optional<StreamFeed.Taken> taken = feed.take(next, takeUnstored);
                    if (taken.isPresent()) {
                        fetched = Optional.of(taken.get().segment());
                        unstored |= !taken.get().stored();
                        connection = unstored ? taken.get().connection() : connection;
                    }
                }
                if (fetched.isEmpty() && feed != null) {
                    Optional<Long> vouched = feed.inSyncAfter(next - 1);
                    boolean storageChecked = askedNanos - lastStorageLookNanos < STREAM_STORAGE_CHECK_NANOS;
                    if (vouched.isPresent() && (storageChecked || unstored)) {
                        caughtUpAt = vouched.get(); // the stream says storage has nothing newer
                        looked.run();
                        break;
                    }
                }
                if (fetched.isEmpty() && unstored) {
                    break; // storage cannot hold what follows transactions it does not hold yet
                }
                if (fetched.isEmpty()) {
                    lastStorageLookNanos = askedNanos;
                    fetched = LogLookup.fetch(storage, next, probe, SegmentSpill.besideDatabase(path),
                            Math.max(0, memoryLeft));
                    looked.run();
                    if (fetched.isEmpty()) {
                        caughtUpAt = askedNanos; // storage held nothing newer when asked
                        break;
                    }
                    // behind a compacted object, the next segments are likely compacted too
                    probe = !fetched.get().key().equals(ObjectKey.segment(next));
                }
                try {
                    next = ReplicaOpening.lastTxidOf(fetched.get()) + 1;
                } catch (WalshipException e) {
                    fetched.get().close();
                    return new Batch(segments, bytes, unstored, unstored ? connection : -1, caughtUpAt, e);
                } catch (IOException | RuntimeException e) {
                    fetched.get().close(); // not in the batch yet: closed here, the batch below
                    throw e;
                }
                segments.add(fetched.get());
                bytes += fetched.get().length();
                memoryLeft -= fetched.get().spilled() ? 0 : fetched.get().length();
            }
            return new Batch(segments, bytes, unstored, unstored ? connection : -1, caughtUpAt, null);
        } catch (IOException | RuntimeException e) {
            segments.forEach(FetchedSegment::close);
            throw e;
        }
    }

    /**
     * Whether to look for compacted objects when the next segment is missing: on the first
     * look, and then every {@link #PROBE_INTERVAL_MILLIS}. A caught-up follower pays one GET a
     * poll; one whose next segments were compacted and deleted while it was away finds them
     * within that interval.
     */
    private boolean probeDue() {
        long now = System.nanoTime();
        if (lastProbeNanos != 0 && now - lastProbeNanos < PROBE_INTERVAL_MILLIS * 1_000_000) {
            return false;
        }
        lastProbeNanos = now;
        return true;
    }
}
