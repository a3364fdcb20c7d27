package io.walship.internal.restore;

import io.walship.TxidGapException;
import io.walship.TxidNotAvailableException;
import io.walship.internal.format.SegmentReader;
import io.walship.restore.LogCatalog.LogObject;
import io.walship.restore.LogCatalog;
import io.walship.storage.Storage;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

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

    private final Storage storage;
    private final List<LogObject> chain;
    private final Path spillDirectory;
    private int nextObject;
    private FetchedSegment fetched;
    private SegmentReader segment;
    private final long checksumAtStart;
    private long lastTxid;
    private long lastChecksum;

    private StoredLog(Storage storage, List<LogObject> chain, Path spillDirectory, long txid, long checksumAtStart) {
        this.storage = storage;
        this.chain = chain;
        this.spillDirectory = spillDirectory;
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
            StoredLog log = new StoredLog(storage, List.of(), spillDirectory, txid, latest.checksum());
            log.nextObject = 0;
            return log;
        }
        List<LogObject> candidates = catalog.candidatesFor(txid + 1, EARLIER_CANDIDATES);
        for (LogObject candidate : candidates) {
            FetchedSegment fetched = FetchedSegment.require(storage, candidate.storageKey(), txid + 1, spillDirectory);
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
                StoredLog log = new StoredLog(storage, chain, spillDirectory, txid, segment.checksumBefore());
                log.nextObject = 1;
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
            if (nextObject >= chain.size()) {
                return null;
            }
            String key = chain.get(nextObject++).storageKey();
            fetched = FetchedSegment.require(storage, key, lastTxid + 1, spillDirectory).startAfter(lastTxid);
            segment = fetched.open();
            if (segment.firstTxid() != lastTxid + 1) {
                throw new TxidGapException(segment.key(), lastTxid + 1, segment.firstTxid());
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
