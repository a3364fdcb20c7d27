package io.walship.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.TxidNotAvailableException;
import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.ObjectKey;
import io.walship.storage.ObjectInfo;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class RestorePlannerTest {
    private static ObjectInfo snapshot(long txid, long second) {
        return new ObjectInfo(ObjectKey.snapshot(txid), 1, Instant.ofEpochSecond(second));
    }

    private static ObjectInfo segment(long txid) {
        return new ObjectInfo(ObjectKey.segment(txid), 1, Instant.EPOCH);
    }

    private static List<Long> starts(RestorePlan plan) {
        return plan.log().stream().map(o -> o.key().start()).toList();
    }

    private final List<ObjectInfo> snapshots = List.of(snapshot(0, 100), snapshot(10, 200), snapshot(20, 300));
    private final List<ObjectInfo> segments = List.of(segment(1), segment(4), segment(11), segment(15),
            segment(21), segment(30), new ObjectInfo("log/junk", 1, Instant.EPOCH));

    @Test
    void plan_latest_usesNewestSnapshotAndLaterSegments() {
        RestorePlan plan = RestorePlanner.plan(LogCatalog.of(snapshots, segments), RestoreTarget.latest());
        assertThat(plan.snapshotTxid()).isEqualTo(20);
        assertThat(starts(plan)).containsExactly(21L, 30L);
    }

    @Test
    void plan_txidBetweenSnapshots_usesSnapshotBefore() {
        RestorePlan plan = RestorePlanner.plan(LogCatalog.of(snapshots, segments), RestoreTarget.txid(14));
        assertThat(plan.snapshotTxid()).isEqualTo(10);
        assertThat(starts(plan)).containsExactly(11L);
    }

    @Test
    void plan_txidAtSnapshot_needsNoSegments() {
        assertThat(RestorePlanner.plan(LogCatalog.of(snapshots, segments), RestoreTarget.txid(10)).log()).isEmpty();
    }

    @Test
    void plan_time_usesSnapshotStoredBeforeIt() {
        RestorePlan plan = RestorePlanner.plan(LogCatalog.of(snapshots, segments), RestoreTarget.time(Instant.ofEpochSecond(250)));
        assertThat(plan.snapshotTxid()).isEqualTo(10);
        assertThat(starts(plan)).containsExactly(11L, 15L, 21L, 30L);
    }

    @Test
    void plan_targetBeforeFirstSnapshot_throwsTxidNotAvailable() {
        assertThatThrownBy(() -> RestorePlanner.plan(LogCatalog.of(List.of(snapshot(10, 1)), segments),
                RestoreTarget.txid(3)))
                .isInstanceOf(TxidNotAvailableException.class)
                .hasMessageContaining("earliest=10").hasMessageContaining("latest=30");
    }

    @Test
    void plan_noSnapshots_throwsTxidNotAvailable() {
        assertThatThrownBy(() -> RestorePlanner.plan(LogCatalog.of(List.of(), List.of()), RestoreTarget.latest()))
                .isInstanceOf(TxidNotAvailableException.class).hasMessageContaining("earliest=-1");
    }

    @Test
    void plan_compactedObjects_readsTheHighestLevelHoldingEachTxidAndSkipsWhatItReplaces() {
        // level 1 blocks are 16 txids: [16, 32) compacted; its segments 17 and 25 still listed (grace)
        List<ObjectInfo> log = List.of(segment(1), segment(9), segment(17), segment(25),
                new ObjectInfo(ObjectKey.compacted(1, 16), 1, Instant.EPOCH), segment(33), segment(40));
        RestorePlan plan = RestorePlanner.plan(LogCatalog.of(List.of(snapshot(8, 1)), log), RestoreTarget.latest());

        assertThat(plan.log()).extracting(o -> o.storageKey())
                .containsExactly(ObjectKey.segment(9), ObjectKey.compacted(1, 16), ObjectKey.segment(33),
                        ObjectKey.segment(40));
    }

    @Test
    void plan_positionInsideACompactedBlock_startsThereAndStopsAtTheTarget() {
        List<ObjectInfo> log = List.of(new ObjectInfo(ObjectKey.compacted(2, 0), 1, Instant.EPOCH),
                new ObjectInfo(ObjectKey.compacted(1, 256), 1, Instant.EPOCH), segment(272), segment(280));
        RestorePlan plan = RestorePlanner.plan(LogCatalog.of(List.of(snapshot(0, 1), snapshot(100, 2)), log),
                RestoreTarget.txid(271));

        assertThat(plan.snapshotTxid()).isEqualTo(100);
        assertThat(plan.log()).extracting(o -> o.storageKey())
                .containsExactly(ObjectKey.compacted(2, 0), ObjectKey.compacted(1, 256));
    }
}
