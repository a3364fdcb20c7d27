package io.walship.replica;

import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.storage.ForwardingStorage;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import java.io.Closeable;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A follower on file storage reads a new segment when storage says it appeared, not at its next poll. */
class ReplicaWatchTest {
    @TempDir
    Path dir;

    @Test
    void follower_onFileStorage_seesEachCommitLongBeforeItsPollInterval() throws Exception {
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            ReplicaOptions options = ReplicaOptions.builder().pollInterval(Duration.ofMinutes(10))
                    .maxErrorBackoff(Duration.ofMinutes(10)).build();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"), options)) {
                replica.follow();
                for (int i = 0; i < 20; i++) {
                    int v = i;
                    long txid = primary.write(conn -> exec(conn, "insert into t values (" + v + ")")).get();
                    // polling alone would take 10 minutes
                    assertThat(replica.awaitTxid(txid, Duration.ofSeconds(10))).as("txid %d", txid).isTrue();
                }
            }
        }
    }

    @Test
    void follower_onStorageThatCannotWatch_pollsAsBefore() throws Exception {
        Storage blind = new ForwardingStorage(FileSystemStorage.open(dir.resolve("storage"))) {
            @Override
            public Optional<Closeable> watch(String prefix, Runnable onChange) {
                return Optional.empty();
            }
        };
        try (Primary primary = Primary.open(blind, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            ReplicaOptions options = ReplicaOptions.builder().pollInterval(Duration.ofMillis(50)).build();
            try (Replica replica = Replica.open(blind, dir.resolve("replica.db"), options)) {
                replica.follow();
                long txid = primary.write(conn -> exec(conn, "insert into t values (1)")).get();
                assertThat(replica.awaitTxid(txid, Duration.ofSeconds(10))).isTrue();
            }
        }
    }
}
