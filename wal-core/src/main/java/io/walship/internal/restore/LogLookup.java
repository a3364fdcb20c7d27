package io.walship.internal.restore;

import io.walship.format.ObjectKey;
import io.walship.internal.format.SegmentReader;
import io.walship.restore.LogCatalog;
import io.walship.storage.Storage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Finds the log object that holds a txid without listing storage: the path of followers, which
 * must cost GETs only. First {@code log/<txid>} (the segment the primary stored); when that is
 * gone (compacted, then deleted after the grace period), the compacted objects whose blocks hold
 * the txid, highest level first: the key of each follows from the txid by arithmetic (see
 * {@link ObjectKey}).
 */
public final class LogLookup {
    private LogLookup() {
    }

    /**
     * The object holding {@code txid}, which must begin a segment (a follower's next txid does),
     * fetched and set to start at {@code txid}; empty when storage holds nothing from there (the
     * reader is caught up). Compacted objects are tried only when {@code probeLevels}: each try is
     * a GET, which a caught-up follower should not pay on every poll.
     */
    public static Optional<FetchedSegment> fetch(Storage storage, long txid, boolean probeLevels, Path spillDirectory,
                                                 long memoryBytes) throws IOException {
        Optional<FetchedSegment> segment = FetchedSegment.fetch(storage, ObjectKey.segment(txid), spillDirectory,
                memoryBytes);
        if (segment.isPresent() || !probeLevels) {
            return segment;
        }
        for (ObjectKey.LogKey holder : ObjectKey.holders(txid).subList(1, ObjectKey.LEVELS + 1)) {
            String key = holder.key();
            Optional<FetchedSegment> compacted = FetchedSegment.fetch(storage, key, spillDirectory, memoryBytes);
            if (compacted.isEmpty()) {
                continue;
            }
            boolean holds;
            try (SegmentReader reader = compacted.get().open()) {
                holds = reader.firstTxid() <= txid && txid <= reader.lastTxid();
            } catch (IOException | RuntimeException e) {
                compacted.get().close();
                throw e;
            }
            if (holds) {
                return Optional.of(compacted.get().startAfter(txid - 1));
            }
            compacted.get().close();
        }
        return Optional.empty();
    }

    /** A stored object fetched and opened, its reader starting at the txid asked for. Close it after use. */
    public record Opened(FetchedSegment fetched, SegmentReader reader) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try (fetched) {
                reader.close();
            }
        }

        private static Opened of(FetchedSegment fetched) throws IOException {
            try {
                return new Opened(fetched, fetched.open());
            } catch (IOException | RuntimeException e) {
                fetched.close();
                throw e;
            }
        }
    }

    /**
     * Opens the object holding {@code txid}, anywhere inside it, positioned there (the reader
     * skips what comes before, as for a restore); empty when storage does not hold it (not stored
     * yet, removed by retention). One GET when {@code txid} begins a segment or a compacted block,
     * else a listing and the catalog's candidates, as StoredLog does. Each object is checked whole
     * once.
     */
    public static Optional<Opened> openHolding(Storage storage, long txid, Path spillDirectory, long memoryBytes)
            throws IOException {
        Optional<FetchedSegment> start = fetch(storage, txid, true, spillDirectory, memoryBytes);
        if (start.isPresent()) {
            return Optional.of(Opened.of(start.get()));
        }
        for (LogCatalog.LogObject candidate : LogCatalog.list(storage).candidatesFor(txid, 4)) {
            Optional<FetchedSegment> fetched = FetchedSegment.fetch(storage, candidate.storageKey(), spillDirectory,
                    memoryBytes);
            if (fetched.isEmpty()) {
                continue;
            }
            Opened opened = Opened.of(fetched.get().startAfter(txid - 1));
            if (opened.reader().firstTxid() == txid) {
                return Optional.of(opened);
            }
            opened.close();
        }
        return Optional.empty();
    }
}
