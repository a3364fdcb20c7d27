package io.walship.restore;

import io.walship.TxidNotAvailableException;
import io.walship.internal.log.LogCatalog;
import io.walship.storage.ObjectInfo;
import java.util.Map;

/**
 * Turns a {@link LogCatalog} into a {@link RestorePlan}: the newest snapshot at or before the
 * target, and the fewest log objects after it up to the target. Needs no storage, so plans are
 * tested on plain lists.
 */
final class RestorePlanner {
    private RestorePlanner() {
    }

    /**
     * @throws TxidNotAvailableException no snapshot at or before the target: it lies before the
     *                                   retention window (the exception names the earliest txid)
     */
    static RestorePlan plan(LogCatalog catalog, RestoreTarget target) {
        Map.Entry<Long, ObjectInfo> chosen = null;
        for (Map.Entry<Long, ObjectInfo> snapshot : catalog.snapshots().entrySet()) {
            boolean eligible = target.time() != null
                    ? !snapshot.getValue().lastModified().isAfter(target.time())
                    : snapshot.getKey() <= target.txid();
            if (eligible) {
                chosen = snapshot; // ascending: the last eligible is the newest
            }
        }
        if (chosen == null) {
            long latest = Math.max(catalog.latestSnapshot().orElse(-1), catalog.newestLogStart());
            throw new TxidNotAvailableException(target.toString(), catalog.earliestSnapshot().orElse(-1), latest);
        }
        return new RestorePlan(chosen.getKey(), catalog.chain(chosen.getKey(), target.txid()), target);
    }
}
