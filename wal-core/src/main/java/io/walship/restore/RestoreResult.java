package io.walship.restore;

import java.nio.file.Path;

/** What a restore produced: the file, the txid it holds, and the proof (database checksum). */
public record RestoreResult(Path path, long txid, int pageSize, int pageCount, long checksum, long snapshotTxid,
                            int segmentsApplied, long commitMillis) {
}
