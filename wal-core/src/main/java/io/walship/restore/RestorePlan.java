package io.walship.restore;

import java.util.List;

/**
 * What a restore reads: one snapshot, then the segments after it in txid order. Segments are
 * named by their first txid; where each ends is known only once read, so the applier checks
 * that each continues exactly where the previous stopped.
 */
public record RestorePlan(long snapshotTxid, List<Long> segmentFirstTxids, RestoreTarget target) {
    public RestorePlan {
        segmentFirstTxids = List.copyOf(segmentFirstTxids);
    }
}
