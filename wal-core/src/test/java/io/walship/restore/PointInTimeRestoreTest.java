package io.walship.restore;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.internal.log.ObjectKey;
import io.walship.internal.log.SegmentReader;
import io.walship.internal.log.Transaction;
import io.walship.storage.ObjectInfo;
import io.walship.testing.MemoryStorage;
import io.walship.testing.RandomWorkload;
import io.walship.testing.Rows;
import io.walship.testing.SqliteCli;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restoring to any txid or time that storage covers gives exactly the primary's data at that
 * point: compared row by row with a fingerprint taken on the primary right after each commit.
 */
class PointInTimeRestoreTest {
    @TempDir
    Path dir;

    @Test
    void restore_atFiftyRandomTxids_equalsPrimaryAtThatTxid() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        Map<Long, String> fingerprints = new HashMap<>();
        PrimaryOptions options = PrimaryOptions.builder().durability(Durability.ASYNC)
                .flushInterval(Duration.ofMillis(3)).checkpointFrames(100).snapshotAfterLogBytes(300_000).build();
        RandomWorkload workload = new RandomWorkload(11);
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), options)) {
            fingerprints.put(0L, primary.read(Rows::fingerprint));
            workload.init(primary);
            fingerprints.put(primary.txid(), primary.read(Rows::fingerprint));
            for (int i = 0; i < 200; i++) {
                workload.step(primary);
                fingerprints.put(primary.txid(), primary.read(Rows::fingerprint));
            }
            primary.flush().get();
        }
        assertThat(storage.list(ObjectKey.SNAPSHOT_PREFIX).size()).as("several snapshots to choose from")
                .isGreaterThan(2);
        List<Long> txids = new ArrayList<>(fingerprints.keySet());
        Random random = new Random(12);
        for (int i = 0; i < 50; i++) {
            long txid = txids.get(random.nextInt(txids.size()));
            Path target = dir.resolve("at-" + i + "-" + txid + ".db");
            RestoreResult result = Restore.run(storage, target, RestoreTarget.txid(txid));
            assertThat(result.txid()).isEqualTo(txid);
            assertThat(Rows.fingerprint(target)).as("state at txid %d", txid).isEqualTo(fingerprints.get(txid));
            assertThat(SqliteCli.integrityCheck(target)).as("txid %d", txid).isEqualTo("ok");
        }
    }

    @Test
    void restore_atTime_appliesEveryTransactionCommittedByThen() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        Map<Long, String> fingerprints = new HashMap<>();
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> Rows.exec(conn, "create table t(x)")).get();
            fingerprints.put(primary.txid(), primary.read(Rows::fingerprint));
            for (int i = 0; i < 30; i++) {
                int v = i;
                primary.write(conn -> Rows.exec(conn, "insert into t values (" + v + ")")).get();
                fingerprints.put(primary.txid(), primary.read(Rows::fingerprint));
                Thread.sleep(2); // distinct commit times
            }
        }
        TreeMap<Long, Long> lastTxidAtMillis = new TreeMap<>();
        for (ObjectInfo info : storage.list(ObjectKey.LOG_PREFIX)) {
            SegmentReader segment = SegmentReader.open(info.key(), storage.get(info.key()).orElseThrow());
            for (Transaction t = Transaction.next(segment); t != null; t = Transaction.next(segment)) {
                lastTxidAtMillis.merge(t.commitMillis(), t.txid(), Math::max);
            }
        }
        int n = 0;
        for (Map.Entry<Long, Long> e : lastTxidAtMillis.entrySet()) {
            if (n++ % 5 != 0) {
                continue;
            }
            Path target = dir.resolve("time-" + n + ".db");
            RestoreResult result = Restore.run(storage, target, RestoreTarget.time(Instant.ofEpochMilli(e.getKey())));
            assertThat(result.txid()).isEqualTo(e.getValue());
            assertThat(Rows.fingerprint(target)).isEqualTo(fingerprints.get(e.getValue()));
        }
    }
}
