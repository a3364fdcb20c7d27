package io.walship.restore;

import io.walship.internal.log.LogCatalog.LogObject;
import java.util.List;

/**
 * What a restore reads: one snapshot, then log objects (segments or compacted) in txid order.
 * Where each ends is known only once read, so the applier checks that each continues exactly
 * where the previous stopped.
 */
record RestorePlan(long snapshotTxid, List<LogObject> log, RestoreTarget target) {
    public RestorePlan {
        log = List.copyOf(log);
    }
}
