package io.walship.restore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.TxidNotAvailableException;
import io.walship.format.ObjectKey;
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

    private final List<ObjectInfo> snapshots = List.of(snapshot(0, 100), snapshot(10, 200), snapshot(20, 300));
    private final List<ObjectInfo> segments = List.of(segment(1), segment(4), segment(11), segment(15),
            segment(21), segment(30), new ObjectInfo("log/junk", 1, Instant.EPOCH));

    @Test
    void plan_latest_usesNewestSnapshotAndLaterSegments() {
        RestorePlan plan = RestorePlanner.plan(snapshots, segments, RestoreTarget.latest());
        assertThat(plan.snapshotTxid()).isEqualTo(20);
        assertThat(plan.segmentFirstTxids()).containsExactly(21L, 30L);
    }

    @Test
    void plan_txidBetweenSnapshots_usesSnapshotBefore() {
        RestorePlan plan = RestorePlanner.plan(snapshots, segments, RestoreTarget.txid(14));
        assertThat(plan.snapshotTxid()).isEqualTo(10);
        assertThat(plan.segmentFirstTxids()).containsExactly(11L);
    }

    @Test
    void plan_txidAtSnapshot_needsNoSegments() {
        assertThat(RestorePlanner.plan(snapshots, segments, RestoreTarget.txid(10)).segmentFirstTxids()).isEmpty();
    }

    @Test
    void plan_time_usesSnapshotStoredBeforeIt() {
        RestorePlan plan = RestorePlanner.plan(snapshots, segments, RestoreTarget.time(Instant.ofEpochSecond(250)));
        assertThat(plan.snapshotTxid()).isEqualTo(10);
        assertThat(plan.segmentFirstTxids()).containsExactly(11L, 15L, 21L, 30L);
    }

    @Test
    void plan_targetBeforeFirstSnapshot_throwsTxidNotAvailable() {
        assertThatThrownBy(() -> RestorePlanner.plan(List.of(snapshot(10, 1)), segments, RestoreTarget.txid(3)))
                .isInstanceOf(TxidNotAvailableException.class)
                .hasMessageContaining("earliest=10").hasMessageContaining("latest=30");
    }

    @Test
    void plan_noSnapshots_throwsTxidNotAvailable() {
        assertThatThrownBy(() -> RestorePlanner.plan(List.of(), List.of(), RestoreTarget.latest()))
                .isInstanceOf(TxidNotAvailableException.class).hasMessageContaining("earliest=-1");
    }
}
