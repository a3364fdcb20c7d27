package io.walship;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.internal.work.Tenants;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.testing.Await;
import io.walship.testing.CountingStorage;
import io.walship.testing.LiveThreads;
import io.walship.testing.ManualClock;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Rows;
import java.nio.file.Path;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many databases in one runtime: bounded threads, no cost while idle, one database's trouble its own. */
class WalshipTest {
    private static final Walship.Threads SMALL = new Walship.Threads(2, 4, 1, 1);

    @TempDir
    Path dir;

    private static void insert(Primary primary, int value) throws Exception {
        primary.write(conn -> {
            try (Statement s = conn.createStatement()) {
                s.executeUpdate("insert into t values (" + value + ")");
            }
        });
    }

    private static Primary openWithTable(Walship walship, String name, Path file, PrimaryOptions options)
            throws Exception {
        Primary primary = walship.openPrimary(name, file, options);
        primary.write(conn -> {
            try (Statement s = conn.createStatement()) {
                s.executeUpdate("create table if not exists t(x)");
            }
        }).get();
        return primary;
    }

    @Test
    void manyPrimaries_runOnBoundedThreads_andEachStoresItsOwnHistory() throws Exception {
        int databases = 300;
        MemoryStorage root = new MemoryStorage();
        long threadsBefore = LiveThreads.named("walship-");
        try (Walship walship = Walship.open(root, SMALL)) {
            List<Primary> primaries = new ArrayList<>();
            for (int i = 0; i < databases; i++) {
                primaries.add(openWithTable(walship, "tenant-" + i, dir.resolve("tenant-" + i + ".db"),
                        PrimaryOptions.durable()));
            }
            ExecutorService writers = Executors.newFixedThreadPool(8);
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                int first = w;
                done.add(writers.submit(() -> {
                    for (int i = first; i < databases; i += 8) {
                        for (int v = 1; v <= 3; v++) {
                            insert(primaries.get(i), i * 10 + v);
                        }
                        primaries.get(i).flush().get();
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(2, TimeUnit.MINUTES);
            }
            writers.shutdown();
            assertThat(walship.threads()).isLessThanOrEqualTo(SMALL.total());
            assertThat(LiveThreads.named("walship-") - threadsBefore).isLessThanOrEqualTo(SMALL.total());
            assertThat(walship.openDatabases()).hasSize(databases);
        }
        for (int i : new int[] {0, 137, databases - 1}) {
            Path copy = dir.resolve("copy-" + i + ".db");
            Restore.run(root.under("tenant-" + i), copy, RestoreTarget.latest());
            assertThat(Rows.queryLong(copy, "select sum(x) from t")).isEqualTo(3L * (i * 10) + 6);
            assertThat(Rows.queryLong(copy, "select count(*) from t")).isEqualTo(3);
        }
        assertThat(root.list("")).allMatch(o -> o.key().startsWith("tenant-"));
    }

    @Test
    void idleRuntime_makesNoStorageRequest_andArmsNoTimer_overASimulatedHour() throws Exception {
        CountingStorage root = new CountingStorage(new MemoryStorage());
        ManualClock clock = new ManualClock(Instant.parse("2026-12-06T00:00:00Z"));
        PrimaryOptions options = PrimaryOptions.async().toBuilder().clock(clock)
                .flushInterval(Duration.ofMillis(50)).compactionInterval(Duration.ofMillis(100)).build();
        try (Walship walship = Walship.open(root, SMALL)) {
            List<Primary> primaries = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                Primary primary = openWithTable(walship, "idle-" + i, dir.resolve("idle-" + i + ".db"), options);
                insert(primary, i);
                primaries.add(primary);
            }
            for (Primary primary : primaries) {
                primary.flush().get();
            }
            Tenants tenants = Tenants.of(walship);
            // the compaction run due after the last writes, then nothing is armed any more
            for (int check = 0; check < 2; check++) { // twice: a lane between its alarm and its pool is neither
                Await.until("runtime idle", Duration.ofSeconds(60),
                        () -> tenants.workers().alarms() == 0 && !tenants.workers().busy());
                Thread.sleep(100);
            }
            long before = root.requests.get();
            for (int minute = 0; minute < 60; minute++) {
                clock.advance(Duration.ofMinutes(1));
                Thread.sleep(20);
            }
            Thread.sleep(500); // five compaction intervals, ten flush intervals of real time
            assertThat(root.requests.get() - before).as("storage requests while idle").isZero();
            assertThat(tenants.workers().alarms()).as("alarms armed while idle").isZero();
            insert(primaries.get(7), 1000); // and the next write is shipped as usual
            assertThat(primaries.get(7).flush().get()).isGreaterThan(0);
        }
    }

    @Test
    void failingAndFencedDatabases_leaveTheOthersWriting() throws Exception {
        CountingStorage root = new CountingStorage(new MemoryStorage());
        PrimaryOptions options = PrimaryOptions.durable().toBuilder()
                .retryInitialBackoff(Duration.ofMillis(20)).retryMaxBackoff(Duration.ofMillis(100)).build();
        Walship.Threads oneIoThread = new Walship.Threads(1, 1, 1, 1);
        try (Walship walship = Walship.open(root, oneIoThread)) {
            Primary failing = openWithTable(walship, "failing", dir.resolve("failing.db"), options);
            Primary fenced = openWithTable(walship, "fenced", dir.resolve("fenced.db"), options);
            List<Primary> healthy = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                healthy.add(openWithTable(walship, "ok-" + i, dir.resolve("ok-" + i + ".db"), options));
            }
            root.failPutsUnder = "failing/";
            Ack<Void> stuck = failing.write(conn -> {
                try (Statement s = conn.createStatement()) {
                    s.executeUpdate("insert into t values (1)");
                }
            });
            long next = fenced.status().txid() + 1;
            root.rawPut("fenced/" + io.walship.internal.log.ObjectKey.segment(next),
                    "another primary's segment".getBytes());
            Ack<Void> rival = fenced.write(conn -> {
                try (Statement s = conn.createStatement()) {
                    s.executeUpdate("insert into t values (1)");
                }
            });
            // with one IO thread, the failing database's retries must not hold it
            for (int round = 0; round < 20; round++) {
                for (Primary primary : healthy) {
                    insert(primary, round);
                }
                for (Primary primary : healthy) {
                    primary.flush().get(Duration.ofSeconds(10));
                }
            }
            assertThat(rival.stored()).failsWithin(Duration.ofSeconds(10));
            assertThat(fenced.status().health()).isEqualTo(Health.FAILED);
            assertThat(failing.status().health()).isEqualTo(Health.RETRYING);
            assertThat(stuck.stored()).isNotDone();
            root.failPutsUnder = "";
            assertThat(stuck.get()).isGreaterThan(0); // storage back: it ships where it stopped
            for (Primary primary : healthy) {
                assertThat(primary.status().health()).isEqualTo(Health.RUNNING);
            }
        }
    }

    @Test
    void runtimeMemoryBudget_spillsTheSegmentsOfADatabaseWhoseStorageIsDown_andTheOthersGoOn() throws Exception {
        CountingStorage root = new CountingStorage(new MemoryStorage());
        PrimaryOptions options = PrimaryOptions.async().toBuilder()
                .retryInitialBackoff(Duration.ofMillis(20)).retryMaxBackoff(Duration.ofMillis(100)).build();
        // each database alone may hold 4 MiB in memory (the default); the runtime holds 64 KiB for all
        try (Walship walship = Walship.open(root, SMALL, 64 << 10)) {
            Primary down = openWithTable(walship, "down", dir.resolve("down.db"), options);
            List<Primary> healthy = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                healthy.add(openWithTable(walship, "ok-" + i, dir.resolve("ok-" + i + ".db"), options));
            }
            root.failPutsUnder = "down/";
            for (int i = 0; i < 50; i++) { // ~1 MiB of log: within its own budget, not the runtime's
                down.write(conn -> {
                    try (Statement s = conn.createStatement()) {
                        s.executeUpdate("insert into t values (randomblob(20000))");
                    }
                });
            }
            Path spill = io.walship.internal.log.SegmentSpill.besideDatabase(dir.resolve("down.db"));
            Await.until("the stuck database's segments in spill files", Duration.ofSeconds(30), () -> {
                try (var files = java.nio.file.Files.list(spill)) {
                    return files.findAny().isPresent();
                } catch (java.io.IOException e) {
                    return false;
                }
            });
            down.flush(); // its uploads fail from now on
            Await.until("the stuck database retrying", Duration.ofSeconds(30),
                    () -> down.status().health() == Health.RETRYING);
            for (int round = 0; round < 10; round++) {
                for (Primary primary : healthy) {
                    insert(primary, round);
                }
                for (Primary primary : healthy) {
                    primary.flush().get(Duration.ofSeconds(10));
                }
            }
            assertThat(down.status().health()).isEqualTo(Health.RETRYING);
            root.failPutsUnder = "";
            down.flush().get(Duration.ofSeconds(30));
        }
        Path copy = dir.resolve("down-copy.db");
        Restore.run(root.under("down"), copy, RestoreTarget.latest());
        assertThat(Rows.queryLong(copy, "select count(*) from t")).isEqualTo(50);
    }

    @Test
    void closingAndReopeningOneDatabase_underLoad_leavesTheOthersWriting() throws Exception {
        MemoryStorage root = new MemoryStorage();
        try (Walship walship = Walship.open(root, SMALL)) {
            Primary steady = openWithTable(walship, "steady", dir.resolve("steady.db"), PrimaryOptions.durable());
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong steadyWrites = new AtomicLong();
            Thread load = new Thread(() -> {
                try {
                    while (running.get()) {
                        insert(steady, (int) steadyWrites.incrementAndGet());
                    }
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            });
            load.start();
            Path moving = dir.resolve("moving.db");
            int expected = 0;
            for (int cycle = 0; cycle < 10; cycle++) {
                try (Primary primary = openWithTable(walship, "moving", moving, PrimaryOptions.durable())) {
                    for (int i = 0; i < 5; i++) {
                        insert(primary, ++expected);
                    }
                    primary.flush().get();
                }
                assertThat(walship.openDatabases()).containsExactly("steady");
            }
            running.set(false);
            load.join();
            assertThat(steady.flush().get()).isGreaterThan(steadyWrites.get() / 2);
            Path copy = dir.resolve("moving-copy.db");
            Restore.run(walship.storage("moving"), copy, RestoreTarget.latest());
            assertThat(Rows.queryLong(copy, "select count(*) from t")).isEqualTo(expected);
        }
    }

    @Test
    void names_mustBeStorageKeysAndUniqueInTheRuntime() {
        Walship walship = Walship.open(new MemoryStorage(), SMALL);
        {
            assertThatThrownBy(() -> walship.openPrimary("Tenant/1", dir.resolve("a.db"), PrimaryOptions.durable()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid database name");
            assertThatThrownBy(() -> walship.openPrimary("log", dir.resolve("a.db"), PrimaryOptions.durable()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("walship's own objects");
            walship.openPrimary("a", dir.resolve("a.db"), PrimaryOptions.durable());
            assertThatThrownBy(() -> walship.openPrimary("a", dir.resolve("b.db"), PrimaryOptions.durable()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("is open in this runtime already");
            walship.close();
            assertThat(walship.openDatabases()).isEmpty();
            assertThatThrownBy(() -> walship.openPrimary("b", dir.resolve("b.db"), PrimaryOptions.durable()))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("runtime is closed");
        }
    }
}
