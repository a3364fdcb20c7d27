package io.walship.internal.log;

import io.walship.BadObjectException;
import io.walship.TxidNotAvailableException;
import io.walship.internal.log.LogCatalog.LogObject;
import io.walship.storage.Storage;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The transactions storage holds after one txid, in order, read one object at a time (each
 * fetched into memory or a spill file) and one page at a time, with the database checksum
 * storage recorded at that txid. Checks that objects follow each other without a gap and that
 * each continues the previous one's checksum. Segments and compacted objects alike, as the
 * {@link LogCatalog} chains them.
 *
 * <p>Used where a local database must be checked against, or brought up to, storage's history
 * from some txid on. Close it to delete spill files. Not thread-safe.
 */
public final class StoredLog implements Closeable {
    /** Objects before the named one tried when a position lies inside a segment, not at its start. */
    private static final int EARLIER_CANDIDATES = 3;

    private final LogCursor cursor;
    private final long latestTxid;
    private FetchedSegment fetched;
    private SegmentReader segment;
    private final long checksumAtStart;
    private long lastTxid;
    private long lastChecksum;

    private StoredLog(LogCursor cursor, long latestTxid, long txid, long checksumAtStart) {
        this.cursor = cursor;
        this.latestTxid = latestTxid;
        this.lastTxid = txid;
        this.checksumAtStart = checksumAtStart;
        this.lastChecksum = checksumAtStart;
    }

    /**
     * Positions at {@code txid}: reads the object that holds {@code txid + 1} up to there (also
     * when {@code txid} ends inside a segment). Nothing is read when {@code txid} is storage's
     * newest.
     *
     * @param catalog        what storage holds
     * @param latest         storage's newest position
     * @param spillDirectory where objects too large for memory are fetched to
     * @throws TxidNotAvailableException storage no longer holds the log after {@code txid}
     */
    public static StoredLog after(Storage storage, LogCatalog catalog, long txid, Position latest,
                                  Path spillDirectory) throws IOException {
        if (txid > latest.txid()) {
            throw new TxidNotAvailableException("txid " + txid, -1, latest.txid());
        }
        if (txid == latest.txid()) {
            return new StoredLog(new LogCursor(storage, List.of(), spillDirectory), txid, txid, latest.checksum());
        }
        List<LogObject> candidates = catalog.candidatesFor(txid + 1, EARLIER_CANDIDATES);
        for (LogObject candidate : candidates) {
            Optional<FetchedSegment> found = FetchedSegment.fetch(storage, candidate.storageKey(), spillDirectory,
                    FetchedSegment.DEFAULT_MEMORY_BYTES);
            if (found.isEmpty()) {
                continue; // deleted since the listing
            }
            FetchedSegment fetched = found.get();
            SegmentReader segment = null;
            try {
                fetched.startAfter(txid);
                segment = fetched.open();
                if (segment.firstTxid() != txid + 1) {
                    segment.close();
                    fetched.close();
                    continue;
                }
                List<LogObject> chain = catalog.chainFrom(candidate, Long.MAX_VALUE);
                StoredLog log = new StoredLog(new LogCursor(storage, chain.subList(1, chain.size()), spillDirectory),
                        latest.txid(), txid, segment.checksumBefore());
                log.fetched = fetched;
                log.segment = segment;
                return log;
            } catch (IOException | RuntimeException e) {
                if (segment != null) {
                    segment.close();
                }
                fetched.close();
                throw e;
            }
        }
        // no listed object holds it: the listing may have missed it (a segment start is asked for by key)
        Optional<FetchedSegment> asked = LogLookup.fetch(storage, txid + 1, true, spillDirectory,
                FetchedSegment.DEFAULT_MEMORY_BYTES);
        if (asked.isPresent()) {
            SegmentReader segment;
            try {
                segment = asked.get().open();
            } catch (IOException | RuntimeException e) {
                asked.get().close();
                throw e;
            }
            StoredLog log = new StoredLog(new LogCursor(storage, catalog.chain(segment.lastTxid()), spillDirectory),
                    latest.txid(), txid, segment.checksumBefore());
            log.fetched = asked.get();
            log.segment = segment;
            return log;
        }
        throw new TxidNotAvailableException("log after txid " + txid, catalog.earliestSnapshot().orElse(-1),
                latest.txid());
    }

    /** The database checksum storage recorded at the starting txid. */
    public long checksumAtStart() {
        return checksumAtStart;
    }

    /** Key of the object the current transaction comes from, for error messages. */
    public String key() {
        return segment != null ? segment.key() : "log after txid " + lastTxid;
    }

    /**
     * The next stored transaction's header, or null after the newest; read its pages with
     * {@link #readPages} (or they are skipped).
     */
    public SegmentReader.TransactionHeader next() throws IOException {
        while (true) {
            if (segment != null) {
                SegmentReader.TransactionHeader txn = segment.nextTransaction();
                if (txn != null) {
                    lastTxid = txn.txid();
                    return txn;
                }
                lastChecksum = segment.checksumAfter(); // of its last transaction, read or skipped
                closeSegment();
            }
            if (lastTxid >= latestTxid) {
                return null; // storage's newest, as it was read when this began
            }
            Optional<FetchedSegment> after = cursor.after(lastTxid);
            if (after.isEmpty()) {
                // storage held more when it was read: a hole in the log
                throw BadObjectException.txidGap(ObjectKey.segment(lastTxid + 1), lastTxid + 1, -1);
            }
            fetched = after.get();
            segment = fetched.open();
            if (segment.firstTxid() != lastTxid + 1) {
                throw BadObjectException.txidGap(segment.key(), lastTxid + 1, segment.firstTxid());
            }
            segment.checkContinues(segment.pageSize(), lastTxid, lastChecksum);
        }
    }

    /** Reads the current transaction's pages; returns the checksum the primary recorded after it. */
    public long readPages(SegmentReader.PageVisitor visitor) throws IOException {
        return segment.readPages(visitor);
    }

    /** Writes the current transaction into {@code image}: checked after it, or, unless {@code verify}, not. */
    public void applyTo(DatabaseImage image, SegmentReader.TransactionHeader txn, boolean verify) throws IOException {
        if (verify) {
            image.apply(segment, txn);
        } else {
            image.applyUnverified(segment, txn);
        }
    }

    private void closeSegment() throws IOException {
        try {
            segment.close();
        } finally {
            segment = null;
            fetched.close();
            fetched = null;
        }
    }

    @Override
    public void close() throws IOException {
        if (segment != null) {
            closeSegment();
        }
    }
}
