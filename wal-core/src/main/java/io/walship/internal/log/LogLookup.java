package io.walship.internal.log;

import io.walship.TxidNotAvailableException;
import io.walship.storage.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the log object that holds a txid without listing storage: the path of followers, which
 * must cost GETs only. First {@code log/<txid>} (the segment the primary stored); when that is
 * gone (compacted, then deleted after the grace period), the compacted objects whose blocks hold
 * the txid, highest level first: the key of each follows from the txid by arithmetic (see
 * {@link ObjectKey}).
 */
public final class LogLookup {
    private static final Logger log = LoggerFactory.getLogger(LogLookup.class);

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

    /**
     * The newest state in storage, read from the last log object (or the newest snapshot when no
     * log follows it), or empty when storage holds no snapshot. The listing is a hint: objects
     * after the newest one it shows are asked for by key (six GETs when there are none).
     */
    public static Optional<Position> latestPosition(Storage storage) {
        return latestPosition(storage, LogCatalog.list(storage));
    }

    /** As {@link #latestPosition(Storage)}, from a catalog already listed. */
    public static Optional<Position> latestPosition(Storage storage, LogCatalog catalog) {
        if (catalog.latestSnapshot().isEmpty()) {
            return Optional.empty();
        }
        Path scratch = Path.of(System.getProperty("java.io.tmpdir"));
        long snapshotTxid = catalog.latestSnapshot().getAsLong();
        List<LogCatalog.LogObject> chain = catalog.chain(snapshotTxid);
        Position position;
        try {
            if (!chain.isEmpty()) {
                String key = chain.get(chain.size() - 1).storageKey();
                position = endOf(FetchedSegment.require(storage, key, snapshotTxid + 1, scratch));
            } else {
                String key = ObjectKey.snapshot(snapshotTxid);
                try (InputStream in = storage.open(key).orElseThrow(() -> new TxidNotAvailableException(key, -1, -1))) {
                    SnapshotReader reader = SnapshotReader.open(key, in);
                    position = new Position(reader.txid(), reader.pageSize(), reader.pageCount(),
                            reader.databaseChecksum(), key, reader.createdMillis());
                }
            }
            for (Optional<FetchedSegment> next = fetch(storage, position.txid() + 1, true, scratch,
                    FetchedSegment.DEFAULT_MEMORY_BYTES); next.isPresent();
                 next = fetch(storage, position.txid() + 1, true, scratch,
                         FetchedSegment.DEFAULT_MEMORY_BYTES)) {
                log.debug("latest position found past the listing key={} txid={}", next.get().key(),
                        position.txid());
                position = endOf(next.get());
            }
            return Optional.of(position);
        } catch (IOException e) {
            throw new UncheckedIOException("reading the newest position in " + storage + " failed", e);
        }
    }

    /** The state after the last transaction of {@code fetched}, which it closes. */
    private static Position endOf(FetchedSegment fetched) throws IOException {
        try (FetchedSegment closing = fetched; SegmentReader segment = fetched.open()) {
            SegmentReader.TransactionHeader last = null;
            long checksumAfter = 0;
            for (SegmentReader.TransactionHeader txn = segment.nextTransaction(); txn != null;
                 txn = segment.nextTransaction()) {
                last = txn;
                checksumAfter = segment.readPages((pgno, image) -> { });
            }
            return new Position(last.txid(), segment.pageSize(), last.databasePages(), checksumAfter, fetched.key(),
                    last.commitMillis());
        }
    }
}
