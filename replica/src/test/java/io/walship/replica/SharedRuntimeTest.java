package io.walship.replica;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.Walship;
import io.walship.internal.work.Tenants;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.CountingStorage;
import io.walship.testing.Heavy;
import io.walship.testing.LiveThreads;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Rows;
import java.nio.file.Path;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Primaries and their replicas in one runtime: bounded threads, shared watch, adaptive polls. */
@Heavy
class SharedRuntimeTest {
    private static final Walship.Threads SMALL = new Walship.Threads(2, 4, 1, 1);
    /** 1,000 primaries and 1,000 replicas: about 50 s on 2 cores (-Dwalship.sharedDatabases=N for fewer). */
    private static final int DATABASES = Integer.getInteger("walship.sharedDatabases", 1000);

    @TempDir
    Path dir;

    private static void insert(Primary primary, int value) throws Exception {
        primary.write(conn -> {
            try (Statement s = conn.createStatement()) {
                s.executeUpdate("create table if not exists t(x)");
                s.executeUpdate("insert into t values (" + value + ")");
            }
        });
    }

    @Test
    void primariesAndReplicas_ofManyDatabases_followOnBoundedThreads() throws Exception {
        // a pair holds 10 descriptors: on a machine whose limit is lower (ulimit -n), as many as fit
        long limit = java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.UnixOperatingSystemMXBean unix ? unix.getMaxFileDescriptorCount()
                : Long.MAX_VALUE;
        int databases = (int) Math.min(DATABASES, (limit - 1000) / 12);
        org.junit.jupiter.api.Assumptions.assumeTrue(databases >= 100, "ulimit -n is " + limit);
        long before = LiveThreads.named("walship-");
        try (FileSystemStorage root = FileSystemStorage.open(dir.resolve("storage"));
             Walship walship = Walship.open(root, SMALL)) {
            List<Primary> primaries = new ArrayList<>();
            List<Replica> replicas = new ArrayList<>();
            for (int i = 0; i < databases; i++) {
                Primary primary = walship.openPrimary("db-" + i, dir.resolve("p" + i + ".db"),
                        PrimaryOptions.durable());
                insert(primary, 0);
                primaries.add(primary);
                Replica replica = Replica.open(walship, "db-" + i, dir.resolve("r" + i + ".db"),
                        ReplicaOptions.defaults());
                replica.follow();
                replicas.add(replica);
            }
            long[] txids = new long[databases];
            for (int round = 1; round <= 3; round++) {
                for (int i = 0; i < databases; i++) {
                    insert(primaries.get(i), round * 1000 + i);
                }
            }
            for (int i = 0; i < databases; i++) {
                txids[i] = primaries.get(i).flush().get();
            }
            for (int i = 0; i < databases; i++) {
                assertThat(replicas.get(i).awaitTxid(txids[i], Duration.ofSeconds(30))).as("replica %d", i).isTrue();
            }
            assertThat(walship.threads()).isLessThanOrEqualTo(SMALL.total());
            // the runtime's pools and timer, and one watch thread for the whole storage root
            assertThat(LiveThreads.named("walship-") - before).isLessThanOrEqualTo(SMALL.total() + 1);
            for (int i : new int[] {0, 123, databases - 1}) {
                assertThat(Rows.queryLong(replicas.get(i).path(), "select sum(x) from t")).isEqualTo(6000 + 3 * i);
            }
            assertThat(walship.openDatabases()).hasSize(databases);
        }
    }

    @Test
    void idleFollower_backsOffToItsBound_andIsFastAgainAfterAChange() throws Exception {
        CountingStorage root = new CountingStorage(new MemoryStorage());
        ReplicaOptions options = ReplicaOptions.builder().pollInterval(Duration.ofMillis(10))
                .maxIdlePollInterval(Duration.ofMillis(320)).build();
        try (Walship walship = Walship.open(root, SMALL)) {
            Primary primary = walship.openPrimary("idle", dir.resolve("idle.db"), PrimaryOptions.durable());
            insert(primary, 1);
            primary.flush().get();
            Replica replica = Replica.open(walship, "idle", dir.resolve("idle-replica.db"), options);
            replica.follow();
            Thread.sleep(3000); // backed off to its bound long since
            long start = root.requests.get();
            Thread.sleep(3200);
            long idleReads = root.requests.get() - start;
            // fixed 10 ms polling would read ~320 times; at the 320 ms bound ~10 polls, each a GET or two
            assertThat(idleReads).as("reads of an idle follower in 3.2 s").isBetween(5L, 40L);
            insert(primary, 2);
            long txid = primary.flush().get();
            assertThat(replica.awaitTxid(txid, Duration.ofSeconds(5))).isTrue();
            // after a change it polls fast again: the next write shows within a few poll intervals
            insert(primary, 3);
            long next = primary.flush().get();
            long waited = System.nanoTime();
            assertThat(replica.awaitTxid(next, Duration.ofSeconds(5))).isTrue();
            assertThat(Tenants.of(walship).workers().threads()).isLessThanOrEqualTo(SMALL.total());
            assertThat((System.nanoTime() - waited) / 1_000_000).as("ms to see the next write").isLessThan(320);
        }
    }
}
