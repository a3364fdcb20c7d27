package io.walship.replica;

import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.compaction.CompactionPolicy;
import io.walship.compaction.Compactor;
import io.walship.internal.log.ObjectKey;
import io.walship.storage.ForwardingStorage;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Rows;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica finds its next transactions without listing even after the segments it wanted were
 * compacted into larger objects and deleted: it falls behind, compaction runs, it catches up to
 * the primary's exact rows.
 */
class FollowerCompactionTest {
    private static final Duration BOUND = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private final AtomicInteger compactedReads = new AtomicInteger();
    private final MemoryStorage memory = new MemoryStorage();
    /** Counts GETs of compacted objects: proof the replica read past deleted segments through them. */
    private final ForwardingStorage storage = new ForwardingStorage(memory) {
        @Override
        public Optional<InputStream> open(String key) {
            Optional<InputStream> found = super.open(key);
            if (found.isPresent() && ObjectKey.parseLog(key).map(k -> k.level() > 0).orElse(false)) {
                compactedReads.incrementAndGet();
            }
            return found;
        }
    };

    private Compactor compactor() {
        return new Compactor(storage, CompactionPolicy.defaults().withGrace(Duration.ZERO), InstantSource.system(),
                dir);
    }

    private static long writeRows(Primary primary, int count) throws Exception {
        long txid = 0;
        for (int i = 0; i < count; i++) {
            txid = primary.write(conn -> exec(conn, "insert into t(v) values (randomblob(100))")).get(BOUND);
        }
        return txid;
    }

    @Test
    void replicaFarBehind_readsTheCompactedObjectsThatReplacedItsDeletedSegments() throws Exception {
        PrimaryOptions options = PrimaryOptions.builder().compaction(null).build();
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), options)) {
            primary.write(conn -> exec(conn, "create table t(id integer primary key, v blob)")).get(BOUND);
            writeRows(primary, 10);
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
                long behind = replica.txid();
                long latest = writeRows(primary, 600);
                compactor().run(); // compacts
                compactor().run(); // deletes what the first run's objects hold
                assertThat(memory.get(ObjectKey.segment(behind + 1))).as("the replica's next segment").isEmpty();

                assertThat(replica.poll()).isEqualTo(latest);
                assertThat(compactedReads.get()).isPositive();
                assertThat(Rows.fingerprint(dir.resolve("replica.db")))
                        .isEqualTo(primary.read(Rows::fingerprint));
            }
        }
    }

    @Test
    void followerRacingACompactorThatDeletes_keepsUpWithThePrimary() throws Exception {
        PrimaryOptions options = PrimaryOptions.builder().compaction(null).build();
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), options)) {
            primary.write(conn -> exec(conn, "create table t(id integer primary key, v blob)")).get(BOUND);
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"),
                    ReplicaOptions.builder().pollInterval(Duration.ofMillis(2)).build())) {
                replica.follow();
                AtomicBoolean writing = new AtomicBoolean(true);
                CompletableFuture<Integer> compacting = CompletableFuture.supplyAsync(() -> {
                    int runs = 0;
                    while (writing.get()) {
                        compactor().run();
                        runs++;
                    }
                    return runs;
                });
                long latest = writeRows(primary, 1500);
                writing.set(false);
                assertThat(compacting.get(60, TimeUnit.SECONDS)).isPositive();
                compactor().run();
                assertThat(replica.awaitTxid(latest, Duration.ofSeconds(90))).isTrue();
                assertThat(replica.status().error()).isEmpty();
                assertThat(Rows.fingerprint(dir.resolve("replica.db")))
                        .isEqualTo(primary.read(Rows::fingerprint));
            }
        }
    }
}
