package io.walship.restore;

import java.nio.file.Path;

/**
 * What a restore produced: the file, the txid it holds, and the proof (database checksum);
 * {@code segmentsApplied} counts log objects read (a compacted object is one), {@code replans}
 * how often an object was deleted under the restore and it listed storage again.
 */
public record RestoreResult(Path path, long txid, int pageSize, int pageCount, long checksum, long snapshotTxid,
                            int segmentsApplied, long commitMillis, int replans) {
}
