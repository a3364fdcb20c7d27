package io.walship.compaction;

/**
 * What one compaction run did and what storage holds after it.
 *
 * @param created      compacted objects written (or found written by a rival compactor)
 * @param bytesWritten bytes of those objects
 * @param replaced     smaller objects deleted because a compacted object holds them
 * @param expired      snapshots and log objects deleted by retention
 * @param bytesDeleted bytes of every deleted object, as listed
 * @param earliestTxid the earliest txid storage can restore after the run, -1 when empty
 * @param objects      objects storage holds after the run
 * @param bytes        bytes storage holds after the run
 */
public record CompactionResult(int created, long bytesWritten, int replaced, int expired, long bytesDeleted,
                               long earliestTxid, int objects, long bytes) {
}
