package io.walship.it;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.FencedException;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.replica.Replica;
import io.walship.replica.ReplicaOptions;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.storage.fs.FileSystemStorage;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Split brain, many rounds: two primaries on one storage directory (each with its own storage
 * handle, as two hosts would have) write at the same moment while a replica follows. Exactly one
 * primary keeps writing, the other is fenced, and the replica - watched by a reader the whole
 * time - never shows a single row of the loser.
 */
class SplitBrainTest {
    private static final Logger log = LoggerFactory.getLogger(SplitBrainTest.class);
    private static final int ROUNDS = Integer.getInteger("walship.splitBrainRounds", 50);

    @TempDir
    Path dir;

    @Test
    void write_twoPrimariesRacing_exactlyOneWinsAndReplicaNeverSeesTheLoser() throws Exception {
        int replicaReads = 0;
        for (int round = 0; round < ROUNDS; round++) {
            Path storageDir = dir.resolve("storage-" + round);
            Path a = dir.resolve("a" + round + ".db");
            try (Primary seed = Primary.open(FileSystemStorage.open(storageDir), a, PrimaryOptions.durable())) {
                seed.write(conn -> exec(conn, "create table t(who text, n int)")).get();
            }
            List<Primary> primaries = List.of(
                    Primary.open(FileSystemStorage.open(storageDir), a, PrimaryOptions.durable()),
                    Primary.open(FileSystemStorage.open(storageDir), dir.resolve("b" + round + ".db"),
                            PrimaryOptions.durable()));
            Set<String> seenByReplica = ConcurrentHashMap.newKeySet();
            AtomicBoolean racing = new AtomicBoolean(true);
            AtomicLong reads = new AtomicLong();
            try (Replica replica = Replica.open(FileSystemStorage.open(storageDir), dir.resolve("r" + round + ".db"),
                    ReplicaOptions.builder().pollInterval(Duration.ofMillis(1)).build())) {
                replica.follow();
                Thread watcher = new Thread(() -> {
                    while (racing.get()) {
                        try {
                            replica.read(conn -> {
                                try (Statement s = conn.createStatement();
                                     ResultSet rs = s.executeQuery("select distinct who from t")) {
                                    while (rs.next()) {
                                        seenByReplica.add(rs.getString(1));
                                    }
                                }
                                return null;
                            });
                            reads.incrementAndGet();
                        } catch (java.sql.SQLException e) {
                            seenByReplica.add("error: " + e);
                        }
                    }
                });
                watcher.start();

                CountDownLatch start = new CountDownLatch(1);
                List<AtomicLong> stored = List.of(new AtomicLong(), new AtomicLong());
                List<AtomicReference<Throwable>> errors = List.of(new AtomicReference<>(), new AtomicReference<>());
                List<Thread> writers = new ArrayList<>();
                for (int i = 0; i < 2; i++) {
                    int who = i;
                    writers.add(new Thread(() -> {
                        try {
                            start.await();
                            for (int n = 0; n < 30; n++) {
                                int value = n;
                                primaries.get(who).write(conn -> exec(conn, "insert into t values ('" + who + "', "
                                        + value + ")")).get();
                                stored.get(who).incrementAndGet();
                            }
                        } catch (Throwable t) {
                            errors.get(who).set(t);
                        }
                    }));
                }
                writers.forEach(Thread::start);
                start.countDown();
                for (Thread t : writers) {
                    t.join();
                }
                primaries.forEach(Primary::close);

                long fenced = errors.stream().filter(e -> e.get() instanceof FencedException).count();
                assertThat(fenced).as("round %d: %s", round, errors).isEqualTo(1);
                int winner = errors.get(0).get() == null ? 0 : 1;
                assertThat(errors.get(winner).get()).isNull();
                assertThat(stored.get(winner).get()).isEqualTo(30);

                assertThat(replica.awaitTxid(31, Duration.ofSeconds(30))).isTrue();
                racing.set(false);
                watcher.join();
                replicaReads += reads.get();
                assertThat(seenByReplica).as("round %d: what the replica ever showed", round)
                        .containsOnly(Integer.toString(winner));
                long rows = replica.read(conn -> queryLong(conn, "select count(*) from t"));
                assertThat(rows).isEqualTo(30);
            }
            Path restored = Restore.run(FileSystemStorage.open(storageDir), dir.resolve("x" + round + ".db"),
                    RestoreTarget.latest()).path();
            assertThat(queryLong(restored, "select count(*) from t")).isEqualTo(30);
            assertThat(queryLong(restored, "select count(distinct who) from t")).as("nothing of the loser")
                    .isEqualTo(1);
        }
        log.info("split brain rounds={} fenced={} replicaReads={} loserRowsSeen=0", ROUNDS, ROUNDS, replicaReads);
    }
}
