package io.walship.restore;

import io.walship.TxidNotAvailableException;
import io.walship.format.ObjectKey;
import io.walship.storage.ObjectInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns listings of {@code snapshots/} and {@code log/} into a {@link RestorePlan}: the newest
 * snapshot at or before the target, and every segment after it up to the target. Needs no
 * storage, so plans are tested on plain lists. Keys that are not walship keys are ignored.
 */
public final class RestorePlanner {
    private RestorePlanner() {
    }

    public static RestorePlan plan(List<ObjectInfo> snapshots, List<ObjectInfo> segments, RestoreTarget target) {
        List<Long> snapshotTxids = new ArrayList<>();
        ObjectInfo chosen = null;
        long chosenTxid = -1;
        for (ObjectInfo info : snapshots) {
            Optional<Long> txid = ObjectKey.parseSnapshot(info.key());
            if (txid.isEmpty()) {
                continue;
            }
            snapshotTxids.add(txid.get());
            boolean eligible = target.time() != null
                    ? !info.lastModified().isAfter(target.time())
                    : txid.get() <= target.txid();
            if (eligible && txid.get() > chosenTxid) {
                chosen = info;
                chosenTxid = txid.get();
            }
        }
        List<Long> segmentTxids = new ArrayList<>();
        for (ObjectInfo info : segments) {
            ObjectKey.parseSegment(info.key()).ifPresent(segmentTxids::add);
        }
        segmentTxids.sort(null);
        if (chosen == null) {
            long earliest = snapshotTxids.stream().mapToLong(Long::longValue).min().orElse(-1);
            long latest = Math.max(snapshotTxids.stream().mapToLong(Long::longValue).max().orElse(-1),
                    segmentTxids.isEmpty() ? -1 : segmentTxids.get(segmentTxids.size() - 1));
            throw new TxidNotAvailableException(target.toString(), earliest, latest);
        }
        List<Long> needed = new ArrayList<>();
        for (long first : segmentTxids) {
            if (first > chosenTxid && first <= target.txid()) {
                needed.add(first);
            }
        }
        return new RestorePlan(chosenTxid, needed, target);
    }
}
