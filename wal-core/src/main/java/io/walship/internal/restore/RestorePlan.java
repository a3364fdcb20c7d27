package io.walship.internal.restore;

import io.walship.restore.LogCatalog.LogObject;
import io.walship.restore.RestoreTarget;
import java.util.List;

/**
 * What a restore reads: one snapshot, then log objects (segments or compacted) in txid order.
 * Where each ends is known only once read, so the applier checks that each continues exactly
 * where the previous stopped.
 */
public record RestorePlan(long snapshotTxid, List<LogObject> log, RestoreTarget target) {
    public RestorePlan {
        log = List.copyOf(log);
    }
}
