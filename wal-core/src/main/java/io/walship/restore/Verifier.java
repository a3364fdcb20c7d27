package io.walship.restore;

import io.walship.CorruptObjectException;
import io.walship.TxidGapException;
import io.walship.TxidNotAvailableException;
import io.walship.WalshipException;
import io.walship.format.DatabaseChecksum;
import io.walship.format.ObjectKey;
import io.walship.format.SegmentReader;
import io.walship.format.SnapshotReader;
import io.walship.storage.ObjectInfo;
import io.walship.storage.Storage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Replays the whole history in storage and checks everything: every snapshot's pages against
 * its checksums, every segment's object checksum and continuity, every transaction's database
 * checksum, and that each later snapshot equals the replayed state at its txid. Stops at the
 * first bad object and names it.
 */
public final class Verifier {
    private Verifier() {
    }

    /** What a verification found. {@code problem} is empty when everything checked out. */
    public record Report(int snapshotsChecked, int segmentsChecked, long transactionsChecked, long earliestTxid,
                         long latestTxid, Optional<WalshipException> problem) {
        public boolean ok() {
            return problem.isEmpty();
        }
    }

    /** Verifies, using {@code workDir} for a scratch copy of the database (deleted afterwards). */
    public static Report verify(Storage storage, Path workDir, Restore.Progress progress) throws IOException {
        List<ObjectInfo> snapshotInfos = storage.list(ObjectKey.SNAPSHOT_PREFIX);
        TreeSet<Long> snapshots = new TreeSet<>();
        snapshotInfos.forEach(o -> ObjectKey.parseSnapshot(o.key()).ifPresent(snapshots::add));
        TreeSet<Long> segments = new TreeSet<>();
        storage.list(ObjectKey.LOG_PREFIX).forEach(o -> ObjectKey.parseSegment(o.key()).ifPresent(segments::add));
        if (snapshots.isEmpty()) {
            return new Report(0, 0, 0, -1, -1, Optional.of(new TxidNotAvailableException("latest", -1,
                    segments.isEmpty() ? -1 : segments.last())));
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
                List<Long> pending = new ArrayList<>(segments.tailSet(earliest, false));
                int done = 0;
                for (long first : pending) {
                    String key = ObjectKey.segment(first);
                    if (first != image.txid() + 1) {
                        throw new TxidGapException(key, image.txid() + 1, first);
                    }
                    try (FetchedSegment fetched = FetchedSegment.require(storage, key, first, workDir);
                         SegmentReader segment = fetched.open()) {
                        image.checkContinues(segment);
                        for (SegmentReader.TransactionHeader txn = segment.nextTransaction(); txn != null;
                             txn = segment.nextTransaction()) {
                            image.apply(segment, txn);
                            transactions++;
                            if (snapshots.contains(txn.txid())) {
                                checkSnapshot(storage, txn.txid(), image);
                                snapshotsChecked++;
                            }
                        }
                    }
                    segmentsChecked++;
                    latest = image.txid();
                    progress.advanced("log", ++done, pending.size());
                }
                for (long txid : snapshots.tailSet(latest, false)) {
                    throw new TxidGapException(ObjectKey.snapshot(txid), latest + 1, txid);
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

    /** Streams snapshot {@code txid} and checks it equals the replayed {@code image}. */
    private static void checkSnapshot(Storage storage, long txid, DatabaseImage image) throws IOException {
        String key = ObjectKey.snapshot(txid);
        try (InputStream in = storage.open(key).orElseThrow(() -> new TxidNotAvailableException(key, -1, -1))) {
            SnapshotReader reader = SnapshotReader.open(key, in);
            DatabaseChecksum checksum = new DatabaseChecksum(reader.pageSize());
            byte[] page = new byte[reader.pageSize()];
            for (int pgno = 1; pgno <= reader.pageCount(); pgno++) {
                reader.readPage(page, 0);
                checksum.setPage(pgno, page, 0);
            }
            reader.finish();
            if (checksum.value() != reader.databaseChecksum()) {
                throw new CorruptObjectException(key, "pages do not match the snapshot's own checksum", -1);
            }
            if (reader.databaseChecksum() != image.checksum() || reader.pageCount() != image.pageCount()) {
                throw new CorruptObjectException(key, "snapshot differs from the log replayed to txid " + txid
                        + ": checksum " + Long.toHexString(reader.databaseChecksum()) + " vs "
                        + Long.toHexString(image.checksum()), -1);
            }
        }
    }
}
