package io.walship.internal.log;

import io.walship.storage.Storage;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fetches the log objects a restore applies several at a time and hands them out in order, so a
 * restore over remote storage waits for bandwidth, not for one round trip per object. An object
 * storage no longer holds (deleted by compaction or retention since the listing) is reported as
 * {@link ObjectGoneException}, so the restore can plan again from where it stands.
 */
public final class SegmentPrefetch implements Closeable {
    /*
     * Bounds. At most MAX_IN_FLIGHT fetches run or wait to be taken, and together at most
     * MAX_IN_FLIGHT_BYTES by the sizes storage listed, except that the next segment is always
     * fetched: a segment larger than the bound goes alone (and spills beyond its memory share
     * into a file, as FetchedSegment does). So the heap a restore needs stays a constant, not a
     * function of the segments' sizes, while thousands of small segments come eight at a time.
     */
    static final int MAX_IN_FLIGHT = 8;
    static final long MAX_IN_FLIGHT_BYTES = 16L << 20;
    private static final AtomicInteger THREADS = new AtomicInteger();

    /** An object to fetch: its key and the size storage listed for it. */
    public record Planned(String key, long size) {
    }

    private record Fetching(Planned segment, Future<FetchedSegment> result) {
    }

    private final Storage storage;
    private final List<Planned> segments;
    private final Path spillDirectory;
    private final ExecutorService pool;
    private final ArrayDeque<Fetching> inFlight = new ArrayDeque<>();
    private int nextToFetch;
    private long inFlightBytes;

    public SegmentPrefetch(Storage storage, List<Planned> segments, Path spillDirectory) {
        this.storage = storage;
        this.segments = segments;
        this.spillDirectory = spillDirectory;
        this.pool = Executors.newFixedThreadPool(MAX_IN_FLIGHT, r -> {
            Thread t = new Thread(r, "walship-restore-fetch-" + THREADS.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        fill();
    }

    /** The next segment in order, waiting for its fetch; null after the last. Close it after use. */
    public FetchedSegment next() throws IOException {
        fill();
        Fetching head = inFlight.poll();
        if (head == null) {
            return null;
        }
        inFlightBytes -= head.segment().size();
        try {
            return head.result().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while fetching " + head.segment().key());
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException) {
                throw (IOException) cause;
            }
            if (cause instanceof RuntimeException) {
                throw (RuntimeException) cause;
            }
            throw new IOException("fetching " + head.segment().key() + " failed", cause);
        } finally {
            fill();
        }
    }

    private void fill() {
        while (nextToFetch < segments.size() && inFlight.size() < MAX_IN_FLIGHT) {
            Planned segment = segments.get(nextToFetch);
            if (!inFlight.isEmpty() && inFlightBytes + segment.size() > MAX_IN_FLIGHT_BYTES) {
                return;
            }
            nextToFetch++;
            inFlightBytes += segment.size();
            inFlight.add(new Fetching(segment, pool.submit(() -> {
                return FetchedSegment.fetch(storage, segment.key(), spillDirectory, FetchedSegment.DEFAULT_MEMORY_BYTES)
                        .orElseThrow(() -> new ObjectGoneException(segment.key()));
            })));
        }
    }

    /** Stops fetching and deletes what was fetched but not taken. */
    @Override
    public void close() {
        pool.shutdownNow();
        try {
            pool.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Fetching fetching : inFlight) {
            Future<FetchedSegment> result = fetching.result();
            if (result.isDone() && !result.isCancelled()) {
                try {
                    result.get().close();
                } catch (ExecutionException | InterruptedException | UncheckedIOException e) {
                    // failed or not fetched: nothing to delete
                }
            }
        }
        inFlight.clear();
    }
}
