package io.walship.restore;

import io.walship.CorruptObjectException;
import io.walship.TxidGapException;
import io.walship.TxidNotAvailableException;
import io.walship.format.ObjectKey;
import io.walship.format.SegmentReader;
import io.walship.storage.Storage;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The transactions storage holds after one txid, in order, read one segment at a time (each
 * fetched into memory or a spill file) and one page at a time, with the database checksum
 * storage recorded at that txid. Checks that segments follow each other without a gap and that
 * each continues the previous one's checksum.
 *
 * <p>Used where a local database must be checked against, or brought up to, storage's history
 * from some txid on. Close it to delete spill files. Not thread-safe.
 */
public final class StoredLog implements Closeable {
    private final Storage storage;
    private final List<Long> segmentFirstTxids;
    private final Path spillDirectory;
    private int nextSegment;
    private FetchedSegment fetched;
    private SegmentReader segment;
    private final long checksumAtStart;
    private long lastTxid;
    private long lastChecksum;

    private StoredLog(Storage storage, List<Long> segmentFirstTxids, Path spillDirectory, long txid,
                      long checksumAtStart) {
        this.storage = storage;
        this.segmentFirstTxids = segmentFirstTxids;
        this.spillDirectory = spillDirectory;
        this.lastTxid = txid;
        this.checksumAtStart = checksumAtStart;
        this.lastChecksum = checksumAtStart;
    }

    /**
     * Positions at {@code txid}: reads the segment that holds {@code txid + 1} (or {@code txid}
     * itself) up to there. Nothing is read when {@code txid} is storage's newest.
     *
     * @param segmentFirstTxids the first txids of storage's segments, ascending
     * @param latest            storage's newest position
     * @param spillDirectory    where segments too large for memory are fetched to
     * @throws TxidNotAvailableException storage no longer holds the log after {@code txid}
     */
    public static StoredLog after(Storage storage, List<Long> segmentFirstTxids, long txid, Position latest,
                                  Path spillDirectory) throws IOException {
        if (txid > latest.txid()) {
            throw new TxidNotAvailableException("txid " + txid, -1, latest.txid());
        }
        if (txid == latest.txid()) {
            StoredLog log = new StoredLog(storage, segmentFirstTxids, spillDirectory, txid, latest.checksum());
            log.nextSegment = segmentFirstTxids.size();
            return log;
        }
        int index = -1;
        for (int i = 0; i < segmentFirstTxids.size() && segmentFirstTxids.get(i) <= txid + 1; i++) {
            index = i;
        }
        if (index < 0) {
            throw new TxidNotAvailableException("log after txid " + txid,
                    segmentFirstTxids.isEmpty() ? -1 : segmentFirstTxids.get(0) - 1, latest.txid());
        }
        FetchedSegment fetched = FetchedSegment.require(storage, ObjectKey.segment(segmentFirstTxids.get(index)),
                txid + 1, spillDirectory);
        SegmentReader segment = null;
        try {
            segment = fetched.open();
            long checksum;
            if (segment.firstTxid() == txid + 1) {
                checksum = segment.checksumBefore();
            } else if (segment.lastTxid() <= txid) {
                throw new TxidGapException(segment.key(), txid + 1, segment.lastTxid() + 1);
            } else {
                checksum = skipTo(segment, txid);
            }
            StoredLog log = new StoredLog(storage, segmentFirstTxids, spillDirectory, txid, checksum);
            log.nextSegment = index + 1;
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

    /** Reads the segment's transactions up to and including {@code txid}; returns the checksum after it. */
    private static long skipTo(SegmentReader segment, long txid) throws IOException {
        for (SegmentReader.TransactionHeader txn = segment.nextTransaction(); txn != null;
             txn = segment.nextTransaction()) {
            long checksum = segment.readPages((pgno, image) -> { });
            if (txn.txid() == txid) {
                return checksum;
            }
        }
        throw new CorruptObjectException(segment.key(), "segment ends before txid " + txid + " though its header"
                + " says it holds up to " + segment.lastTxid(), -1);
    }

    /** The database checksum storage recorded at the starting txid. */
    public long checksumAtStart() {
        return checksumAtStart;
    }

    /** Key of the segment the current transaction comes from, for error messages. */
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
            if (nextSegment >= segmentFirstTxids.size()) {
                return null;
            }
            fetched = FetchedSegment.require(storage, ObjectKey.segment(segmentFirstTxids.get(nextSegment++)),
                    lastTxid + 1, spillDirectory);
            segment = fetched.open();
            if (segment.firstTxid() != lastTxid + 1) {
                throw new TxidGapException(segment.key(), lastTxid + 1, segment.firstTxid());
            }
            if (segment.checksumBefore() != lastChecksum) {
                throw new CorruptObjectException(segment.key(), "segment does not continue the previous one's"
                        + " checksum (another history)", -1);
            }
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
