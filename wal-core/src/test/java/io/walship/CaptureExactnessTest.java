package io.walship;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.testing.MemoryStorage;
import io.walship.testing.RandomWorkload;
import io.walship.testing.SqliteCli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whatever the workload, restoring the stored snapshot and segments gives a file byte-identical
 * to the primary's own, checkpointed, and the sqlite3 CLI finds it sound.
 */
class CaptureExactnessTest {
    @TempDir
    Path dir;

    @ParameterizedTest(name = "pageSize={0} durability={1} checkpointFrames={2} snapshotAfterLogBytes={3}")
    @CsvSource({
        "4096, DURABLE, 4000, 0",
        "4096, ASYNC, 50, 200000",
        "1024, DURABLE, 30, 100000",
        "65536, ASYNC, 40, 1000000",
    })
    void restore_afterRandomWorkload_isByteIdenticalToPrimary(int pageSize, Durability durability,
                                                               int checkpointFrames, long snapshotAfterLogBytes)
            throws Exception {
        MemoryStorage storage = new MemoryStorage();
        Path db = dir.resolve("primary.db");
        PrimaryOptions options = PrimaryOptions.builder().pageSize(pageSize).durability(durability)
                .flushInterval(java.time.Duration.ofMillis(5)).checkpointFrames(checkpointFrames)
                .snapshotAfterLogBytes(snapshotAfterLogBytes).build();
        RandomWorkload workload = new RandomWorkload(pageSize * 31L + checkpointFrames);
        long txid;
        try (Primary primary = Primary.open(storage, db, options)) {
            workload.init(primary);
            for (int i = 0; i < 250; i++) {
                workload.step(primary);
            }
            txid = primary.flush().get();
            assertThat(primary.pageSize()).isEqualTo(pageSize);
        }
        assertThat(workload.rollbacks()).isPositive();
        // close folds the whole WAL into the file (everything is stored by then) and leaves it empty
        assertThat(Files.size(dir.resolve("primary.db-wal"))).isZero();

        RestoreResult restored = Restore.run(storage, dir.resolve("restored.db"), RestoreTarget.latest());

        assertThat(restored.txid()).isEqualTo(txid);
        assertThat(Files.readAllBytes(restored.path())).isEqualTo(Files.readAllBytes(db));
        assertThat(SqliteCli.integrityCheck(restored.path())).isEqualTo("ok");
    }
}
