package io.walship;

import static io.walship.BadObjectException.Kind.CORRUPT;
import static io.walship.testing.BadObjects.badObject;
import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.internal.log.ObjectKey;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.Storage;
import io.walship.testing.MemoryStorage;
import io.walship.testing.SqliteCli;
import io.walship.testing.Worker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PrimaryTest {
    @TempDir
    Path dir;

    private final MemoryStorage storage = new MemoryStorage();

    private Path db() {
        return dir.resolve("app.db");
    }

    private static void insert(Primary primary, int value) throws SQLException {
        primary.write(conn -> exec(conn, "insert into t values (" + value + ")"));
    }

    // ---------------------------------------------------------------- open

    @Test
    void open_emptyStorage_storesSnapshotAtTxidZero() {
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            assertThat(primary.txid()).isZero();
            assertThat(storage.get(ObjectKey.snapshot(0))).isPresent();
        }
    }

    /** Regression: primary.db-walship-snapshot-* files left by kills were never removed. */
    @Test
    void open_removesTemporaryFilesAKilledProcessLeft_andNothingElse() throws Exception {
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
        }
        for (String name : List.of("app.db-walship-snapshot-7", "app.db-walship-snapshot-12", "app.db.walship-restore",
                "app.db-walship-snapshot-notes.txt", "other.db-walship-snapshot-7")) {
            Files.write(dir.resolve(name), new byte[4096]);
        }
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            insert(primary, 1);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .noneMatch(n -> n.matches("app\\.db(-walship-snapshot-\\d+|\\.walship-restore)"))
                    .contains("app.db-walship-snapshot-notes.txt", "other.db-walship-snapshot-7");
        }
    }

    @Test
    void open_existingLocalDatabaseWithData_bootstrapsFromIt() throws Exception {
        SqliteCli.run(db(), "pragma page_size=8192; create table t(x); insert into t values (41), (1);");
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            assertThat(primary.pageSize()).isEqualTo(8192);
            insert(primary, 100);
            primary.flush().get();
        }
        RestoreResult restored = Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest());
        assertThat(queryLong(restored.path(), "select sum(x) from t")).isEqualTo(142);
    }

    @Test
    void open_afterClose_continuesTxidsAndKeepsLocalFile() throws Exception {
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            insert(primary, 1);
        }
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            assertThat(primary.txid()).isEqualTo(2);
            insert(primary, 2);
            assertThat(primary.flush().get()).isEqualTo(3);
            assertThat(queryLong(primary, "select sum(x) from t")).isEqualTo(3);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("diverged"));
        }
    }

    @Test
    void open_missingLocalFile_restoresFromStorage() throws Exception {
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            insert(primary, 5);
        }
        Files.delete(db());
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), PrimaryOptions.durable())) {
            assertThat(queryLong(primary, "select sum(x) from t")).isEqualTo(5);
        }
    }

    @Test
    void open_secondPrimaryOnSameFile_throwsDatabaseLocked() {
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            assertThatThrownBy(() -> Primary.open(new MemoryStorage(), db(), PrimaryOptions.durable()))
                    .isInstanceOf(DatabaseLockedException.class)
                    .hasMessageContaining("already open by a walship primary or replica");
        }
    }

    @Test
    void open_storageWithSegmentsButNoSnapshot_refusesAsForeign() {
        storage.putIfAbsent(ObjectKey.segment(1), new byte[] {1, 2, 3});

        assertThatThrownBy(() -> Primary.open(storage, db(), PrimaryOptions.durable()))
                .is(badObject(CORRUPT))
                .hasMessageContaining("segments but no snapshot");
    }

    // ---------------------------------------------------------------- write

    /**
     * Regression: flush() right after a write, in ASYNC mode with a long interval, used to seal
     * the open segment before the capture thread had appended that write, and then wait out the
     * whole interval for it.
     */
    @Test
    void flush_asyncRightAfterAWrite_storesThatWriteWithoutWaitingForTheInterval() throws Exception {
        PrimaryOptions hourly = PrimaryOptions.builder().durability(Durability.ASYNC)
                .flushInterval(java.time.Duration.ofHours(1)).build();
        try (Primary primary = Primary.open(storage, db(), hourly)) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            for (int round = 0; round < 50; round++) {
                for (int i = 0; i < 5; i++) {
                    insert(primary, i); // pending in the open segment
                }
                long txid = primary.txid();
                assertThat(primary.flush().get(java.time.Duration.ofSeconds(10))).isEqualTo(txid);
            }
        }
    }

    @Test
    void write_rolledBack_capturesNothing() throws Exception {
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            int objects = storage.size();
            assertThatThrownBy(() -> primary.write(conn -> {
                exec(conn, "insert into t values (1)");
                throw new SQLException("no");
            })).hasMessage("no");
            assertThat(primary.txid()).isEqualTo(1);
            assertThat(primary.flush().get()).isEqualTo(1);
            assertThat(storage.size()).isEqualTo(objects);
            assertThat(queryLong(primary, "select count(*) from t")).isZero();
        }
    }

    @Test
    void write_readOnlyWork_acksPreviousTxid() throws Exception {
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            Ack<Long> ack = primary.writeAndReturn(conn -> queryLong(conn, "select count(*) from t"));
            assertThat(ack.peek()).isZero();
            assertThat(ack.get()).isEqualTo(1);
        }
    }

    @Test
    void write_severalCommitsInOneCall_getOneTxidEach() throws Exception {
        try (Primary primary = Primary.open(storage, db(), PrimaryOptions.durable())) {
            Ack<Void> ack = primary.write(conn -> {
                exec(conn, "create table t(x)");
                conn.commit();
                exec(conn, "insert into t values (1)");
                conn.commit();
                exec(conn, "insert into t values (2)");
            });
            assertThat(ack.get()).isEqualTo(3);
        }
        RestoreResult at2 = Restore.run(storage, dir.resolve("r2.db"), RestoreTarget.txid(2));
        assertThat(queryLong(at2.path(), "select sum(x) from t")).isEqualTo(1);
    }

    @Test
    void write_afterClose_throws() {
        Primary primary = Primary.open(storage, db(), PrimaryOptions.durable());
        primary.close();
        assertThatThrownBy(() -> insert(primary, 1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void write_manyConcurrentWriters_groupCommitsIntoFewerSegments() throws Exception {
        // each put takes 5 ms: while one is in flight the other writers commit, and the next segment carries them all
        Storage slow = new io.walship.storage.ForwardingStorage(storage) {
            @Override
            protected io.walship.storage.PutResult put(String key,
                                                       java.util.function.Supplier<io.walship.storage.PutResult> call) {
                java.util.concurrent.locks.LockSupport.parkNanos(5_000_000);
                return call.get();
            }
        };
        try (Primary primary = Primary.open(slow, db(), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            int before = storage.list(ObjectKey.LOG_PREFIX).size();
            java.util.concurrent.ExecutorService writers = java.util.concurrent.Executors.newFixedThreadPool(8);
            List<java.util.concurrent.Future<List<Long>>> results = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                results.add(writers.submit(() -> {
                    List<Long> txids = new java.util.ArrayList<>();
                    for (int i = 0; i < 100; i++) {
                        Ack<Void> ack = primary.write(conn -> exec(conn, "insert into t values (1)"));
                        txids.add(ack.get(java.time.Duration.ofSeconds(30)));
                    }
                    return txids;
                }));
            }
            List<Long> txids = new java.util.ArrayList<>();
            for (java.util.concurrent.Future<List<Long>> result : results) {
                txids.addAll(result.get(2, java.util.concurrent.TimeUnit.MINUTES)); // a writer's failure fails the test
            }
            writers.shutdown();
            assertThat(txids).hasSize(800).doesNotHaveDuplicates();
            long segments = storage.list(ObjectKey.LOG_PREFIX).size() - before;
            assertThat(segments).as("800 commits from 8 writers, each waiting for its ack").isLessThanOrEqualTo(400);
        }
    }

    @Test
    void write_pragmasThatWouldBypassCapture_areRefusedByTheHook() throws Exception {
        try (Primary primary = Primary.open(storage, db(),
                PrimaryOptions.durable().toBuilder().captureMode(CaptureMode.WAL_HOOK).build())) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            for (String pragma : List.of("PRAGMA wal_autocheckpoint=1000", "PRAGMA journal_mode=DELETE",
                    "PRAGMA wal_checkpoint(TRUNCATE)", "PRAGMA locking_mode=EXCLUSIVE")) {
                assertThatThrownBy(() -> primary.write(conn -> {
                    conn.setAutoCommit(true);
                    exec(conn, pragma);
                })).as(pragma).isInstanceOf(SQLException.class).hasMessageContaining("not authorized");
            }
            insert(primary, 5);
            assertThat(primary.flush().get()).as("capture still works").isEqualTo(2);
            assertThat(primary.checkpoint()).as("walship's own checkpoint is allowed").isTrue();
        }
        assertThat(queryLong(Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest()).path(),
                "select sum(x) from t")).isEqualTo(5);
    }

    /**
     * Without the hook's authorizer: a checkpoint in the work is met as WAL interference (the
     * difference is shipped, nothing lost), and leaving WAL mode is refused by SQLite, since the
     * primary's read-only keeper connection holds the database (were it to happen anyway, the
     * primary would stop: {@link CommitSource} looks at the file header after each write).
     */
    @Test
    void write_pragmasThatWouldBypassCapture_inWriterMode_areDetectedAndCostNothing() throws Exception {
        PrimaryOptions writerMode = PrimaryOptions.durable().toBuilder().captureMode(CaptureMode.WRITER).build();
        try (Primary primary = Primary.open(storage, db(), writerMode)) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            insert(primary, 1);
            primary.write(conn -> {
                conn.setAutoCommit(true);
                exec(conn, "PRAGMA wal_checkpoint(TRUNCATE)");
            });
            insert(primary, 2);
            primary.flush().get();
            assertThat(primary.resyncs()).as("the truncated WAL was met as interference").isEqualTo(1);
            insert(primary, 3);
            assertThat(primary.flush().get()).isEqualTo(primary.txid());

            // SQLite itself refuses: the primary's other connections hold the database
            assertThatThrownBy(() -> primary.write(conn -> {
                conn.setAutoCommit(true);
                exec(conn, "PRAGMA journal_mode=DELETE");
            })).isInstanceOf(SQLException.class).hasMessageContaining("locked");
            assertThat(primary.status().health()).isEqualTo(Health.RUNNING);
            insert(primary, 4);
            primary.flush().get();
        }
        try (Primary reopened = Primary.open(storage, db(), writerMode)) {
            assertThat(queryLong(reopened, "select sum(x) from t")).isEqualTo(10);
        }
        assertThat(queryLong(Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest()).path(),
                "select sum(x) from t")).isEqualTo(10);
    }

    @Test
    void write_inWriterMode_workThatCommitsSeveralTimesAndThenThrows_shipsEachCommit() throws Exception {
        try (Primary primary = Primary.open(storage, db(),
                PrimaryOptions.durable().toBuilder().captureMode(CaptureMode.WRITER).build())) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            long before = primary.txid();
            assertThatThrownBy(() -> primary.write(conn -> {
                exec(conn, "insert into t values (1)");
                conn.commit();
                exec(conn, "insert into t values (2)");
                conn.commit();
                exec(conn, "insert into t values (100)");
                throw new SQLException("the work fails after two commits");
            })).hasMessageContaining("after two commits");
            assertThat(primary.txid()).isEqualTo(before + 2);
            assertThat(primary.flush().get()).isEqualTo(before + 2);
        }
        assertThat(queryLong(Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest()).path(),
                "select sum(x) from t")).isEqualTo(3);
    }

    /**
     * A transaction larger than the page cache spills frames into the WAL before it commits; rolled
     * back, they stay there with the WAL's salts and no commit frame. Without the hook they must
     * not count as a commit, and the next write's frames over them must.
     */
    @Test
    void write_inWriterMode_rolledBackSpillIsNoCommit_andTheNextWriteOverItIs() throws Exception {
        try (Primary primary = Primary.open(storage, db(),
                PrimaryOptions.durable().toBuilder().captureMode(CaptureMode.WRITER).build())) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            long before = primary.txid();
            long walBefore = Files.size(Path.of(db() + "-wal"));
            assertThatThrownBy(() -> primary.write(conn -> {
                exec(conn, "PRAGMA cache_size=20");
                try {
                    exec(conn, "with recursive n(i) as (select 1 union all select i + 1 from n where i < 500)"
                            + " insert into t select randomblob(3000) from n");
                    throw new SQLException("rolled back after spilling");
                } finally {
                    exec(conn, "PRAGMA cache_size=-2000");
                }
            })).hasMessageContaining("after spilling");
            assertThat(Files.size(Path.of(db() + "-wal"))).as("the spill reached the WAL")
                    .isGreaterThan(walBefore + 100 * 4096);
            assertThat(primary.txid()).isEqualTo(before);

            insert(primary, 7);
            assertThat(primary.txid()).isEqualTo(before + 1);
            assertThat(primary.flush().get()).isEqualTo(before + 1);
        }
        RestoreResult restored = Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest());
        assertThat(queryLong(restored.path(), "select count(*) from t")).isEqualTo(1);
        assertThat(Files.readAllBytes(restored.path())).isEqualTo(Files.readAllBytes(db()));
    }

    @Test
    void captureMode_autoTakesTheShippedHook_unlessTheJvmSaysWriter() {
        String chosen = System.getProperty("walship.capture");
        try {
            System.clearProperty("walship.capture");
            assertThat(CommitSource.resolve(CaptureMode.AUTO)).as("linux-x86_64 has a hook")
                    .isEqualTo(CaptureMode.WAL_HOOK);
            System.setProperty("walship.capture", "writer");
            assertThat(CommitSource.resolve(CaptureMode.AUTO)).isEqualTo(CaptureMode.WRITER);
            assertThat(CommitSource.resolve(CaptureMode.WAL_HOOK)).as("an explicit mode wins")
                    .isEqualTo(CaptureMode.WAL_HOOK);
        } finally {
            if (chosen == null) {
                System.clearProperty("walship.capture");
            } else {
                System.setProperty("walship.capture", chosen);
            }
        }
    }

    // ---------------------------------------------------------------- snapshot, checkpoint

    @Test
    void snapshot_whileWritersContinue_restoresExactlyAtItsTxid() throws Exception {
        try (Primary primary = Primary.open(storage, db(),
                PrimaryOptions.durable().toBuilder().checkpointFrames(10).build())) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            for (int i = 1; i <= 50; i++) {
                insert(primary, i);
            }
            long snapshotTxid = primary.snapshot();
            assertThat(snapshotTxid).isEqualTo(51);
            for (int i = 51; i <= 60; i++) {
                insert(primary, i);
            }
            primary.flush().get();
            assertThat(primary.snapshot()).isEqualTo(61);
            assertThat(primary.snapshot()).as("no writes since").isEqualTo(61);
        }
        assertThat(storage.list(ObjectKey.SNAPSHOT_PREFIX)).hasSize(3);
        assertThat(queryLong(Restore.run(storage, dir.resolve("a.db"), RestoreTarget.txid(51)).path(),
                "select sum(x) from t")).isEqualTo(50 * 51 / 2);
        assertThat(queryLong(Restore.run(storage, dir.resolve("b.db"), RestoreTarget.txid(55)).path(),
                "select sum(x) from t")).isEqualTo(54 * 55 / 2);
        assertThat(queryLong(Restore.run(storage, dir.resolve("c.db"), RestoreTarget.txid(20)).path(),
                "select sum(x) from t")).as("from the txid-0 snapshot").isEqualTo(19 * 20 / 2);
    }

    @Test
    void checkpoint_whileReaderHoldsSnapshot_retriesLaterWithoutLosingFrames() throws Exception {
        try (Primary primary = Primary.open(storage, db(),
                PrimaryOptions.durable().toBuilder().checkpointFrames(5).readConnections(1).build())) {
            primary.write(conn -> exec(conn, "create table t(x)"));
            java.util.concurrent.CountDownLatch reading = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            Worker reader = Worker.start("reader", () -> primary.read(conn -> {
                conn.setAutoCommit(false);
                queryLong(conn, "select count(*) from t");
                reading.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    throw new SQLException(e);
                }
                return null;
            }));
            assertThat(reading.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            for (int i = 1; i <= 40; i++) {
                insert(primary, i);
            }
            assertThat(primary.checkpoint()).as("reader pins the WAL").isFalse();
            release.countDown();
            reader.join(java.time.Duration.ofSeconds(30));
            for (int i = 41; i <= 45; i++) {
                insert(primary, i);
            }
            assertThat(primary.checkpoint()).isTrue();
            insert(primary, 46);
            primary.flush().get();
        }
        assertThat(queryLong(Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest()).path(),
                "select sum(x) from t")).isEqualTo(46 * 47 / 2);
        assertThat(Files.readAllBytes(dir.resolve("r.db"))).isEqualTo(Files.readAllBytes(db()));
    }
}
