package io.walship.restore;

import io.walship.CorruptObjectException;
import io.walship.TxidGapException;
import io.walship.TxidNotAvailableException;
import io.walship.format.ObjectKey;
import io.walship.format.SegmentReader;
import io.walship.format.Transaction;
import io.walship.storage.Storage;
import java.util.List;

/**
 * The transactions storage holds after one txid, in order, read one segment at a time, with
 * the database checksum storage recorded at that txid. Checks that segments follow each other
 * without a gap and that each continues the previous one's checksum.
 *
 * <p>Used where a local database must be checked against, or brought up to, storage's history
 * from some txid on. Not thread-safe.
 */
public final class StoredLog {
    private final Storage storage;
    private final List<Long> segmentFirstTxids;
    private int nextSegment;
    private SegmentReader segment;
    private final long checksumAtStart;
    private long lastTxid;
    private long lastChecksum;

    private StoredLog(Storage storage, List<Long> segmentFirstTxids, int nextSegment, SegmentReader segment,
                      long txid, long checksumAtStart) {
        this.storage = storage;
        this.segmentFirstTxids = segmentFirstTxids;
        this.nextSegment = nextSegment;
        this.segment = segment;
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
     * @throws TxidNotAvailableException storage no longer holds the log after {@code txid}
     */
    public static StoredLog after(Storage storage, List<Long> segmentFirstTxids, long txid, Position latest) {
        if (txid > latest.txid()) {
            throw new TxidNotAvailableException("txid " + txid, -1, latest.txid());
        }
        if (txid == latest.txid()) {
            return new StoredLog(storage, segmentFirstTxids, segmentFirstTxids.size(), null, txid,
                    latest.checksum());
        }
        int index = -1;
        for (int i = 0; i < segmentFirstTxids.size() && segmentFirstTxids.get(i) <= txid + 1; i++) {
            index = i;
        }
        if (index < 0) {
            throw new TxidNotAvailableException("log after txid " + txid,
                    segmentFirstTxids.isEmpty() ? -1 : segmentFirstTxids.get(0) - 1, latest.txid());
        }
        SegmentReader segment = read(storage, segmentFirstTxids.get(index), txid);
        if (segment.firstTxid() == txid + 1) {
            return new StoredLog(storage, segmentFirstTxids, index + 1, segment, txid, segment.checksumBefore());
        }
        if (segment.lastTxid() <= txid) {
            throw new TxidGapException(segment.key(), txid + 1, segment.lastTxid() + 1);
        }
        for (Transaction txn = segment.next(); txn != null; txn = segment.next()) {
            if (txn.txid() == txid) {
                return new StoredLog(storage, segmentFirstTxids, index + 1, segment, txid, txn.checksumAfter());
            }
        }
        throw new CorruptObjectException(segment.key(), "segment ends before txid " + txid + " though its header"
                + " says it holds up to " + segment.lastTxid(), -1);
    }

    /** The database checksum storage recorded at the starting txid. */
    public long checksumAtStart() {
        return checksumAtStart;
    }

    /** Key of the segment the last transaction handed out came from, for error messages. */
    public String key() {
        return segment != null ? segment.key() : "log after txid " + lastTxid;
    }

    /** The next stored transaction, or null after the newest. */
    public Transaction next() {
        while (true) {
            if (segment != null) {
                Transaction txn = segment.next();
                if (txn != null) {
                    return handOut(txn);
                }
                segment = null;
            }
            if (nextSegment >= segmentFirstTxids.size()) {
                return null;
            }
            segment = read(storage, segmentFirstTxids.get(nextSegment++), lastTxid);
            if (segment.firstTxid() != lastTxid + 1) {
                throw new TxidGapException(segment.key(), lastTxid + 1, segment.firstTxid());
            }
            if (segment.checksumBefore() != lastChecksum) {
                throw new CorruptObjectException(segment.key(), "segment does not continue the previous one's"
                        + " checksum (another history)", -1);
            }
        }
    }

    private Transaction handOut(Transaction txn) {
        lastTxid = txn.txid();
        lastChecksum = txn.checksumAfter();
        return txn;
    }

    private static SegmentReader read(Storage storage, long firstTxid, long after) {
        String key = ObjectKey.segment(firstTxid);
        byte[] bytes = storage.get(key).orElseThrow(() -> new TxidGapException(key, after + 1, -1));
        return SegmentReader.open(key, bytes);
    }
}
