package io.walship.replica;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.walship.Health;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.internal.log.SegmentSpill;
import io.walship.metrics.WalshipMeter;
import io.walship.testing.Await;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Rows;
import io.walship.testing.SmallDisk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica whose disk fills: in the middle of writing a batch, readers never see part of it
 * (regression for ReplicaFile.apply committing in a finally, which released the lock over a
 * half-written batch); while fetching a batch too large for memory, the replica keeps its txid,
 * says why, and goes on by itself once space is freed. A real tmpfs fills; no ENOSPC is faked.
 */
class ReplicaDiskFullTest {
    private static final int ACCOUNTS = 50;
    private static final long TOTAL = ACCOUNTS * 1000L;
    private static final int FILLER = 100_000;
    private static final Duration BOUND = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void follow_diskFillsMidBatch_readersSeeWholeStatesOrAreRefusedAndReopenRepairs() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (SmallDisk disk = SmallDisk.mount(dir.resolve("small"), 3L << 20);
             Primary primary = primaryWithAccounts(storage)) {
            Path replicaPath = disk.dir().resolve("replica.db");
            ReplicaOptions options = ReplicaOptions.builder().pollInterval(Duration.ofMillis(5))
                    .meterRegistry(registry).build();
            Replica replica = Replica.open(storage, replicaPath, options);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong wholeReads = new AtomicLong();
            AtomicLong refusedReads = new AtomicLong();
            ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                Thread reader = new Thread(() -> {
                    while (!stop.get()) {
                        try {
                            // pages of the start and of the end of a batch: a torn file breaks one of these
                            long sum = replica.read(conn -> queryLong(conn, "select sum(balance) from account"));
                            long consistent = replica.read(conn -> queryLong(conn, "select (select n from counter)"
                                    + " = (select count(*) from filler) and (select n from counter) * " + FILLER
                                    + " = (select coalesce(sum(length(b)), 0) from filler)"));
                            if (sum != TOTAL || consistent != 1) {
                                wrong.add("sum " + sum + " consistent " + consistent);
                            }
                            wholeReads.incrementAndGet();
                        } catch (ReplicaFailedException e) {
                            refusedReads.incrementAndGet();
                        } catch (Exception | Error e) {
                            wrong.add(e.toString());
                        }
                    }
                }, "reader-" + r);
                reader.start();
                readers.add(reader);
            }
            try {
                replica.follow();
                Random random = new Random(7);
                long deadline = System.nanoTime() + BOUND.toNanos();
                // transfers keep the sum; the filler grows the database past the small disk
                while (replica.status().health() != Health.FAILED) {
                    assertThat(System.nanoTime()).as("replica did not fail within " + BOUND).isLessThan(deadline);
                    int from = random.nextInt(ACCOUNTS);
                    int to = random.nextInt(ACCOUNTS);
                    long txid = primary.write(conn -> transfer(conn, from, to)).get();
                    // Kept in step, so each batch fits in memory and the disk fills while pages are
                    // written. A replica far behind spills its batch beside the file and fills the disk
                    // there instead (next test): on a loaded machine that happened here and the
                    // replica, rightly, retried rather than failed.
                    replica.awaitTxid(txid, BOUND);
                }
                Await.until("a reader meets the failed replica", BOUND, () -> refusedReads.get() > 0);
            } finally {
                stop.set(true);
                for (Thread reader : readers) {
                    reader.join(BOUND.toMillis());
                }
            }
            assertThat(wrong).as("torn or failed reads").isEmpty();
            assertThat(wholeReads.get()).isPositive();
            assertThat(refusedReads.get()).isPositive();
            ReplicaStatus failed = replica.status();
            assertThat(failed.error()).get().satisfies(p -> assertThat(p.error())
                    .isInstanceOf(ReplicaFailedException.class).hasMessageContaining("No space left"));
            assertThatThrownBy(() -> replica.read(conn -> queryLong(conn, "select 1")))
                    .isInstanceOf(ReplicaFailedException.class);
            assertThat(registry.get(WalshipMeter.REPLICA_FAILED.meterName()).gauge().value()).isEqualTo(1);
            assertThat(registry.get(WalshipMeter.REPLICA_ERRORS.meterName()).tag("kind", "torn").counter().count())
                    .isEqualTo(1);
            replica.close();

            disk.resize(256L << 20); // the operator frees space
            assertThat(spillFiles(replicaPath)).as("spill files left on the full disk").isEmpty();
            try (Replica reopened = Replica.open(storage, replicaPath, options)) {
                assertThat(reopened.poll()).isEqualTo(primary.txid());
                String expected = primary.read(conn -> Rows.fingerprint(conn));
                String actual = reopened.read(conn -> Rows.fingerprint(conn));
                assertThat(actual).isEqualTo(expected);
                assertThat(reopened.status().health()).isEqualTo(Health.RUNNING);
            }
        }
    }

    @Test
    void follow_diskFullWhileFetchingALongBatch_keepsTxidSaysWhyAndGoesOnWhenSpaceIsFreed() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        try (SmallDisk disk = SmallDisk.mount(dir.resolve("small"), 3L << 20);
             Primary primary = primaryWithAccounts(storage)) {
            Path replicaPath = disk.dir().resolve("replica.db");
            ReplicaOptions options = ReplicaOptions.builder().pollInterval(Duration.ofMillis(5))
                    .maxErrorBackoff(Duration.ofMillis(100)).build();
            try (Replica replica = Replica.open(storage, replicaPath, options)) {
                long before = replica.txid();
                // ~12 MB the replica has not seen: more than a batch keeps in memory, more than the disk holds
                Random random = new Random(11);
                long last = 0;
                for (int i = 0; i < 120; i++) {
                    int from = random.nextInt(ACCOUNTS);
                    int to = random.nextInt(ACCOUNTS);
                    last = primary.write(conn -> transfer(conn, from, to)).txid();
                }
                primary.write(conn -> exec(conn, "update counter set n = n")).get(); // all of it stored

                replica.follow();
                Await.until("an error", BOUND, () -> replica.status().error().isPresent());
                ReplicaStatus retrying = replica.status();
                assertThat(retrying.health()).isEqualTo(Health.RETRYING);
                assertThat(retrying.error()).get().satisfies(p -> assertThat(p.error().toString())
                        .contains("No space left"));
                assertThat(replica.txid()).isEqualTo(before);
                long sum = replica.read(conn -> queryLong(conn, "select sum(balance) from account"));
                assertThat(sum).as("readers see the last whole state").isEqualTo(TOTAL);

                disk.resize(256L << 20); // the operator frees space; nothing else is done
                assertThat(replica.awaitTxid(last, BOUND)).as("replica went on").isTrue();
                String expected = primary.read(conn -> Rows.fingerprint(conn));
                String actual = replica.read(conn -> Rows.fingerprint(conn));
                assertThat(actual).isEqualTo(expected);
                assertThat(replica.status().health()).isEqualTo(Health.RUNNING);
                assertThat(spillFiles(replicaPath)).isEmpty();
            }
        }
    }

    /** A primary whose accounts hold TOTAL, with an empty filler table and its counter. */
    private Primary primaryWithAccounts(MemoryStorage storage) throws Exception {
        Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable());
        primary.write(conn -> {
            exec(conn, "create table account(id integer primary key, balance int)");
            exec(conn, "create table filler(b blob)");
            exec(conn, "create table counter(n int)");
            exec(conn, "insert into counter values (0)");
            for (int i = 0; i < ACCOUNTS; i++) {
                exec(conn, "insert into account values (" + i + ", 1000)");
            }
        }).get();
        return primary;
    }

    /** Moves 7 between two accounts (the sum stays) and adds one filler blob the counter counts. */
    private static void transfer(Connection conn, int from, int to) throws SQLException {
        exec(conn, "update account set balance = balance - 7 where id = " + from);
        exec(conn, "update account set balance = balance + 7 where id = " + to);
        exec(conn, "insert into filler values (randomblob(" + FILLER + "))");
        exec(conn, "update counter set n = n + 1");
    }

    private static List<Path> spillFiles(Path replicaPath) throws IOException {
        Path spill = SegmentSpill.besideDatabase(replicaPath);
        if (!Files.isDirectory(spill)) {
            return List.of();
        }
        try (var files = Files.list(spill)) {
            return files.toList();
        }
    }
}
