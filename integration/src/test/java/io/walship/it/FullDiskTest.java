package io.walship.it;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Ack;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.StorageException;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.SmallDisk;
import io.walship.testing.SqliteCli;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The storage directory sits on a real 2 MiB file system that fills up while the primary writes:
 * acks wait and the primary says why; once the operator grows the disk everything is stored.
 */
class FullDiskTest {
    @TempDir
    Path dir;

    @Test
    void write_storageDiskFills_acksWaitWithNoSpaceThenCompleteWhenGrown() throws Exception {
        try (SmallDisk disk = SmallDisk.mount(dir.resolve("disk"), 2 << 20)) {
            // scheduled snapshots off: the disk must fill with segments, whose acks are what this test watches
            // (a snapshot refused first would report NO_SPACE while the last segment still fit)
            PrimaryOptions options = PrimaryOptions.builder().flushInterval(Duration.ofMillis(5))
                    .retryInitialBackoff(Duration.ofMillis(5)).retryMaxBackoff(Duration.ofMillis(50))
                    .snapshotAfterLogBytes(0).compaction(null).build();
            List<Ack<Void>> acks = new ArrayList<>();
            Path db = dir.resolve("app.db");
            try (Primary primary = Primary.open(FileSystemStorage.open(disk.dir()), db, options)) {
                primary.write(conn -> exec(conn, "create table t(id integer primary key, body blob)")).get();
                int rows = 0;
                while (primary.storageError().map(e -> !e.key().startsWith("log/")).orElse(true)) {
                    assertThat(rows).as("the 2 MiB disk should be full by now").isLessThan(200);
                    acks.add(primary.write(conn -> exec(conn, "insert into t(body) values (randomblob(50000))")));
                    rows++;
                    Thread.sleep(2);
                }
                StorageException error = primary.storageError().orElseThrow();
                assertThat(error.kind()).isEqualTo(StorageException.Kind.NO_SPACE);
                assertThat(error.getMessage()).contains("is full");
                Ack<Void> last = acks.get(acks.size() - 1);
                assertThat(last.isStored()).as("ack waits while the disk is full").isFalse();

                disk.resize(64 << 20);

                for (Ack<Void> ack : acks) {
                    ack.get(Duration.ofSeconds(30));
                }
                // a snapshot refused by the full disk may still be in its retry backoff: it clears once stored
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (primary.storageError().isPresent() && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(primary.storageError()).isEmpty();
                assertThat(primary.storedTxid()).isEqualTo(primary.txid());
            }
            RestoreResult restored = Restore.run(FileSystemStorage.open(disk.dir()), dir.resolve("restored.db"),
                    RestoreTarget.latest());
            assertThat(queryLong(restored.path(), "select count(*) from t")).isEqualTo(acks.size());
            assertThat(SqliteCli.integrityCheck(restored.path())).isEqualTo("ok");
        }
    }
}
