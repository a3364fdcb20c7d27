package io.walship.restore;

import io.walship.WalshipException;
import java.util.List;
import java.nio.file.Path;

/**
 * What a restore produced: the file, the txid it holds, and the proof (database checksum);
 * {@code segmentsApplied} counts log objects read (a compacted object is one), {@code replans}
 * how often an object was deleted under the restore and it listed storage again, and
 * {@code damagedSnapshots} the newer snapshots that did not read back whole and were passed over
 * for {@code snapshotTxid} and the log after it (empty when the newest fitting one was sound).
 */
public record RestoreResult(Path path, long txid, int pageSize, int pageCount, long checksum, long snapshotTxid,
                            int segmentsApplied, long commitMillis, int replans,
                            List<WalshipException> damagedSnapshots) {
    public RestoreResult {
        damagedSnapshots = List.copyOf(damagedSnapshots);
    }
}
