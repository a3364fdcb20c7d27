package io.walship;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.internal.log.ObjectKey;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.storage.StorageException;
import io.walship.testing.Await;
import io.walship.testing.FaultyStorage;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Worker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Storage that fails, times out after landing, or stalls: acks wait, none is lost, order is kept. */
class StorageFaultTest {
    @TempDir
    Path dir;

    private static PrimaryOptions fastRetry(Durability durability) {
        return PrimaryOptions.builder().durability(durability).flushInterval(Duration.ofMillis(2))
                .retryInitialBackoff(Duration.ofMillis(1)).retryMaxBackoff(Duration.ofMillis(20)).build();
    }

    @Test
    void write_storageFailingAThirdOfPuts_acksEveryTransactionInOrder() throws Exception {
        for (Durability durability : Durability.values()) {
            MemoryStorage memory = new MemoryStorage();
            FaultyStorage storage = new FaultyStorage(memory, 42);
            Path db = dir.resolve(durability + ".db");
            List<Ack<Void>> acks = new ArrayList<>();
            try (Primary primary = Primary.open(storage, db, fastRetry(durability))) {
                storage.failPuts(0.33, 0.5).delayUpTo(3);
                primary.write(conn -> exec(conn, "create table t(n int)"));
                for (int i = 1; i <= 200; i++) {
                    int n = i;
                    acks.add(primary.write(conn -> exec(conn, "insert into t values (" + n + ")")));
                    if (n % 4 == 0) {
                        acks.get(acks.size() - 1).get(); // more, smaller segments: more puts to fail
                    }
                }
                long previous = 0;
                for (Ack<Void> ack : acks) {
                    long txid = ack.get();
                    assertThat(txid).isGreaterThan(previous);
                    previous = txid;
                }
            }
            assertThat(storage.faultsInjected()).as(durability.name()).isGreaterThan(5);
            Path restored = Restore.run(memory, dir.resolve(durability + "-r.db"), RestoreTarget.latest()).path();
            assertThat(queryLong(restored, "select count(*) from t")).isEqualTo(200);
            assertThat(queryLong(restored, "select sum(n) from t")).isEqualTo(200 * 201 / 2);
        }
    }

    @Test
    void write_storageDownThenBack_acksWaitWithTheErrorShownAndComplete() throws Exception {
        MemoryStorage memory = new MemoryStorage();
        FaultyStorage storage = new FaultyStorage(memory, 1);
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), fastRetry(Durability.DURABLE))) {
            primary.write(conn -> exec(conn, "create table t(n int)")).get();
            storage.failPuts(1.0, 0);
            Ack<Void> ack = primary.write(conn -> exec(conn, "insert into t values (7)"));
            long before = storage.faultsInjected();
            Await.until("5 failed puts", Duration.ofSeconds(30), () -> storage.faultsInjected() >= before + 5);
            assertThat(ack.isStored()).isFalse();
            assertThat(primary.storageError()).get().extracting(StorageException::key)
                    .isEqualTo(ObjectKey.segment(2));
            storage.heal();
            assertThat(ack.get()).isEqualTo(2);
            assertThat(primary.storageError()).isEmpty();
        }
    }

    @Test
    void write_pendingBeyondLimit_blocksWriterUntilStored() throws Exception {
        MemoryStorage memory = new MemoryStorage();
        FaultyStorage storage = new FaultyStorage(memory, 3);
        PrimaryOptions options = fastRetry(Durability.ASYNC).toBuilder().flushBytes(1).maxPendingBytes(20_000)
                .build();
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), options)) {
            primary.write(conn -> exec(conn, "create table t(b blob)")).get();
            storage.failPuts(1.0, 0);
            primary.write(conn -> exec(conn, "insert into t values (zeroblob(30000))"));
            // until the capture thread has taken the big transaction in
            Await.until("the big transaction captured", Duration.ofSeconds(30), () -> primary.pendingBytes() > 20_000);
            Worker writer = Worker.start("second writer",
                    () -> primary.write(conn -> exec(conn, "insert into t values (1)")).get());
            Await.until("the second writer blocked", Duration.ofSeconds(30),
                    () -> writer.state() == Thread.State.WAITING);
            assertThat(primary.txid()).as("second writer waits before writing").isEqualTo(2);
            storage.heal();
            writer.join(Duration.ofSeconds(30));
            assertThat(primary.storedTxid()).isEqualTo(3);
        }
    }
}
