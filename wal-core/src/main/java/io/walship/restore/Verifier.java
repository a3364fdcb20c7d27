package io.walship.restore;

import io.walship.BadObjectException;
import io.walship.TxidNotAvailableException;
import io.walship.WalshipException;
import io.walship.internal.log.DatabaseImage;
import io.walship.internal.log.FetchedSegment;
import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.LogCursor;
import io.walship.internal.log.ObjectKey.LogKey;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.SegmentReader;
import io.walship.internal.log.SnapshotCheck;
import io.walship.storage.Storage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;

/**
 * Replays the whole history in storage and checks everything: every snapshot's pages against
 * its checksums, every log object's checksum and continuity (compacted objects also against the
 * smaller objects they replace, while those remain), every transaction's database
 * checksum, and that each later snapshot equals the replayed state at its txid. Stops at the
 * first bad object and names it.
 */
public final class Verifier {
    private Verifier() {
    }

    /** What a verification found. {@code problem} is empty when everything checked out. */
    public record Report(int snapshotsChecked, int segmentsChecked, long transactionsChecked, long earliestTxid,
                         long latestTxid, Optional<WalshipException> problem) {
        /** Whether every object checked was sound. */
        public boolean ok() {
            return problem.isEmpty();
        }
    }

    /** Verifies, using {@code workDir} for a scratch copy of the database (deleted afterwards). */
    public static Report verify(Storage storage, Path workDir, Restore.Progress progress) throws IOException {
        LogCatalog catalog = LogCatalog.list(storage);
        NavigableSet<Long> snapshots = catalog.snapshots().navigableKeySet();
        if (snapshots.isEmpty()) {
            return new Report(0, 0, 0, -1, -1, Optional.of(new TxidNotAvailableException("latest", -1,
                    catalog.newestLogStart())));
        }
        Path scratch = Files.createTempFile(workDir, "walship-verify", ".db");
        int snapshotsChecked = 0;
        int segmentsChecked = 0;
        long transactions = 0;
        long earliest = snapshots.first();
        long latest = earliest;
        try {
            DatabaseImage image = null;
            try {
                image = Restore.openSnapshot(storage, ObjectKey.snapshot(earliest), scratch, progress);
                snapshotsChecked++;
                List<LogCatalog.LogObject> chain = catalog.chain(earliest);
                LogCursor cursor = new LogCursor(storage, chain, workDir);
                int done = 0;
                for (Optional<FetchedSegment> next = cursor.after(image.txid()); next.isPresent();
                     next = cursor.after(image.txid())) {
                    String key = next.get().key();
                    LogKey object = ObjectKey.parseLog(key).orElseThrow();
                    Map<Long, Long> checksums = new HashMap<>();
                    boolean replacesRemaining = !catalog.inside(object).isEmpty();
                    long enteredAt;
                    try (FetchedSegment fetched = next.get(); SegmentReader segment = fetched.open()) {
                        image.checkContinues(segment);
                        enteredAt = segment.firstTxid(); // inside it when a listing's chain led to it late
                        for (SegmentReader.TransactionHeader txn = segment.nextTransaction(); txn != null;
                             txn = segment.nextTransaction()) {
                            image.apply(segment, txn);
                            transactions++;
                            if (replacesRemaining) {
                                checksums.put(txn.txid(), image.checksum());
                            }
                            if (snapshots.contains(txn.txid()) && checkSnapshot(storage, txn.txid(), image)) {
                                snapshotsChecked++;
                            }
                        }
                    }
                    segmentsChecked++;
                    segmentsChecked += checkReplaced(storage, catalog, object, key, enteredAt, checksums, workDir);
                    latest = image.txid();
                    progress.advanced("log", ++done, Math.max(done, chain.size()));
                }
                for (long txid : snapshots.tailSet(latest, false)) {
                    throw BadObjectException.txidGap(ObjectKey.snapshot(txid), latest + 1, txid);
                }
                return new Report(snapshotsChecked, segmentsChecked, transactions, earliest, latest, Optional.empty());
            } finally {
                if (image != null) {
                    image.close();
                }
            }
        } catch (WalshipException e) {
            return new Report(snapshotsChecked, segmentsChecked, transactions, earliest, latest, Optional.of(e));
        } finally {
            Files.deleteIfExists(scratch);
        }
    }

    /**
     * Checks the lower-level objects a compacted object replaces (those not yet deleted): each
     * of their transactions from {@code enteredAt} on (what was read of it) must lie inside it and
     * leave the database checksum it records. Returns how many objects were checked.
     */
    private static int checkReplaced(Storage storage, LogCatalog catalog, LogKey compacted, String compactedKey,
                                     long enteredAt, Map<Long, Long> checksums, Path workDir) throws IOException {
        int checked = 0;
        for (LogCatalog.LogObject replaced : catalog.inside(compacted)) {
            Optional<FetchedSegment> fetched = FetchedSegment.fetch(storage, replaced.storageKey(), workDir,
                    FetchedSegment.DEFAULT_MEMORY_BYTES);
            if (fetched.isEmpty()) {
                continue; // deleted since the listing: what it held is in the compacted object
            }
            try (FetchedSegment closing = fetched.get(); SegmentReader segment = closing.open()) {
                for (SegmentReader.TransactionHeader txn = segment.nextTransaction(); txn != null;
                     txn = segment.nextTransaction()) {
                    long after = segment.readPages((pgno, page) -> { });
                    if (txn.txid() < enteredAt) {
                        continue; // applied from before the compacted object: checked as the history
                    }
                    Long expected = checksums.get(txn.txid());
                    if (expected == null || expected != after) {
                        throw BadObjectException.corrupt(compactedKey, "does not hold what "
                                + replaced.storageKey() + " holds at txid " + txn.txid() + " (database checksum "
                                + Long.toHexString(after) + " there, " + (expected == null ? "missing"
                                : Long.toHexString(expected)) + " in the compacted object)", -1);
                    }
                }
            }
            checked++;
        }
        return checked;
    }

    /**
     * Streams snapshot {@code txid} and checks it equals the replayed {@code image}; false when it
     * is gone since the listing (retention thinned it meanwhile), which is no damage.
     */
    private static boolean checkSnapshot(Storage storage, long txid, DatabaseImage image) throws IOException {
        String key = ObjectKey.snapshot(txid);
        Optional<SnapshotCheck.Checked> checked = SnapshotCheck.check(storage, key);
        if (checked.isEmpty()) {
            return false;
        }
        SnapshotCheck.Checked snapshot = checked.get();
        if (snapshot.databaseChecksum() != image.checksum() || snapshot.pageCount() != image.pageCount()) {
            throw BadObjectException.corrupt(key, "snapshot differs from the log replayed to txid " + txid
                    + ": checksum " + Long.toHexString(snapshot.databaseChecksum()) + " vs "
                    + Long.toHexString(image.checksum()), -1);
        }
        return true;
    }
}
