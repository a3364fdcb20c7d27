package io.walship.compaction;

import io.walship.TxidRange;
import io.walship.WalshipException;
import java.util.List;

/**
 * What one compaction run did and what storage holds after it.
 *
 * @param created      compacted objects written (or found written by a rival compactor)
 * @param bytesWritten bytes of those objects
 * @param replaced     smaller objects deleted because a compacted object read back holds them
 * @param expired      snapshots and log objects deleted by retention
 * @param bytesDeleted bytes of every deleted object, as listed
 * @param earliestTxid the earliest txid storage can restore after the run, -1 when empty
 * @param objects      objects storage holds after the run
 * @param bytes        bytes storage holds after the run
 * @param restorable   the ranges of txids storage can restore, as the run proved them from the
 *                     objects' headers (before its retention deletions)
 * @param holes        txids no snapshot and log reach although storage holds later ones: between two
 *                     restorable ranges, or after the last one (log stored past a missing txid)
 * @param problems     what the run found wrong and left alone: holes in the history
 *                     ({@link io.walship.BadObjectException} (TXID_GAP)), damaged objects and compacted objects
 *                     that do not hold what they replace ({@link io.walship.BadObjectException} (CORRUPT)).
 *                     While any hole exists retention deletes nothing.
 */
public record CompactionResult(int created, long bytesWritten, int replaced, int expired, long bytesDeleted,
                               long earliestTxid, int objects, long bytes, List<TxidRange> restorable,
                               List<TxidRange> holes, List<WalshipException> problems) {
    public CompactionResult {
        restorable = List.copyOf(restorable);
        holes = List.copyOf(holes);
        problems = List.copyOf(problems);
    }

    /** Whether the run found nothing wrong. */
    public boolean ok() {
        return problems.isEmpty();
    }
}
