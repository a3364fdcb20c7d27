package io.walship.replica;

import static io.walship.BadObjectException.Kind.CORRUPT;
import static io.walship.BadObjectException.Kind.UNSUPPORTED_FORMAT;
import static io.walship.testing.BadObjects.badObject;
import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.DatabaseLockedException;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.internal.log.FormatLayout;
import io.walship.internal.log.ObjectKey;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.testing.Await;
import io.walship.testing.MemoryStorage;
import io.walship.testing.SqliteCli;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReplicaTest {
    @TempDir
    Path dir;

    private final MemoryStorage storage = new MemoryStorage();
    private Primary primary;

    @BeforeEach
    void openPrimary() throws Exception {
        primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable());
        primary.write(conn -> {
            exec(conn, "create table account(id integer primary key, balance int)");
            exec(conn, "create table audit(id integer primary key, note text, body blob)");
            for (int i = 0; i < 10; i++) {
                exec(conn, "insert into account values (" + i + ", 100)");
            }
        }).get();
    }

    @org.junit.jupiter.api.AfterEach
    void closePrimary() {
        primary.close();
    }

    private static long q(Replica replica, String sql) throws SQLException {
        return replica.read(conn -> queryLong(conn, sql));
    }

    private long transfer(Random random) throws Exception {
        int from = random.nextInt(10);
        int to = random.nextInt(10);
        int amount = random.nextInt(50);
        int blob = random.nextInt(10) == 0 ? 20_000 + random.nextInt(60_000) : 10;
        return primary.write(conn -> {
            exec(conn, "update account set balance = balance - " + amount + " where id = " + from);
            exec(conn, "insert into audit(note, body) values ('moved " + amount + "', randomblob(" + blob + "))");
            exec(conn, "update account set balance = balance + " + amount + " where id = " + to);
        }).txid();
    }

    @Test
    void open_restoresLatestState() throws Exception {
        long txid = transfer(new Random(1));
        primary.flush().get();
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            assertThat(replica.txid()).isEqualTo(txid);
            assertThat(q(replica, "select sum(balance) from account")).isEqualTo(1000);
        }
        assertThat(SqliteCli.integrityCheck(dir.resolve("replica.db"))).isEqualTo("ok");
        assertThat(SqliteCli.run(dir.resolve("replica.db"), "pragma journal_mode;")).isEqualTo("delete");
    }

    @Test
    void follow_whilePrimaryWrites_readersNeverSeeHalfATransaction() throws Exception {
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            replica.follow();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong queries = new AtomicLong();
            AtomicReference<String> violation = new AtomicReference<>();
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                Thread t = new Thread(() -> {
                    while (!stop.get() && violation.get() == null) {
                        try {
                            String state = replica.read(conn -> queryLong(conn, "select sum(balance) from account")
                                    + "/" + queryLong(conn, "select count(*) from account"));
                            if (!state.equals("1000/10")) {
                                violation.set(state);
                            }
                            queries.incrementAndGet();
                        } catch (SQLException e) {
                            violation.set(e.toString());
                        }
                    }
                });
                t.start();
                readers.add(t);
            }
            Random random = new Random(2);
            long last = 0;
            for (int i = 0; i < 300; i++) {
                last = transfer(random);
                if (i % 100 == 50) {
                    primary.write(conn -> {
                        exec(conn, "delete from audit where id % 3 = 0");
                    });
                    last = primary.write(conn -> {
                        conn.setAutoCommit(true);
                        exec(conn, "VACUUM");
                    }).txid();
                }
            }
            primary.flush().get();
            assertThat(replica.awaitTxid(last, Duration.ofSeconds(30))).isTrue();
            stop.set(true);
            for (Thread t : readers) {
                t.join();
            }
            assertThat(violation.get()).as("a reader saw a torn state").isNull();
            assertThat(queries.get()).isGreaterThan(100);
            assertThat(q(replica, "select count(*) from audit"))
                    .isEqualTo(queryLong(primary, "select count(*) from audit"));
            assertThat(q(replica, "select sum(length(body)) from audit"))
                    .isEqualTo(queryLong(primary, "select sum(length(body)) from audit"));
        }
        assertThat(SqliteCli.integrityCheck(dir.resolve("replica.db"))).isEqualTo("ok");
    }

    /**
     * A batch of a few pages is written from the images its check kept; one of more pages than
     * ReplicaFile.KEPT_IMAGES_BYTES holds is read a second time. Either way the file ends with the
     * primary's bytes, with the database grown, cut by a vacuum and grown again inside the batch
     * (pages the draft checksum and the kept images must forget, then see written anew).
     */
    @Test
    void poll_batchesBelowAndAboveTheKeptImagesBound_leaveThePrimarysPages() throws Exception {
        Path replicaPath = dir.resolve("replica.db");
        List<AppliedBatch> batches = new CopyOnWriteArrayList<>(); // listeners run on their own thread
        try (Replica replica = Replica.open(storage, replicaPath)) {
            replica.onApplied(batches::add);
            for (long grown : new long[] {200_000, 2 * ReplicaFile.KEPT_IMAGES_BYTES}) {
                long first = primary.write(conn -> exec(conn,
                        "insert into audit(note, body) values ('grown', randomblob(" + grown + "))")).txid();
                primary.write(conn -> exec(conn, "delete from audit where note = 'grown'"));
                primary.write(conn -> {
                    conn.setAutoCommit(true);
                    exec(conn, "vacuum");
                });
                long last = primary.write(conn -> {
                    exec(conn, "insert into audit(note, body) values ('again', randomblob(30000))");
                    exec(conn, "update account set balance = balance + 1");
                }).get();
                batches.clear();
                assertThat(replica.poll()).isEqualTo(last);
                Await.until("the batch's listener", Duration.ofSeconds(30), () -> !batches.isEmpty());
                assertThat(batches).as("one batch").singleElement()
                        .satisfies(b -> assertThat(List.of(b.firstTxid(), b.lastTxid())).containsExactly(first, last));
                assertSamePages(replicaPath, dir.resolve("restored-" + grown + ".db"));
            }
        }
        try (Replica reopened = Replica.open(storage, replicaPath)) {
            assertThat(reopened.txid()).isEqualTo(primary.txid());
            assertSamePages(replicaPath, dir.resolve("restored-again.db"));
        }
    }

    /** The replica file holds the pages of a restore of the primary's latest state, page 1's header aside. */
    private void assertSamePages(Path replicaPath, Path restored) throws Exception {
        Restore.run(storage, restored, RestoreTarget.latest());
        byte[] expected = Files.readAllBytes(restored);
        byte[] actual = Files.readAllBytes(replicaPath);
        assertThat(actual.length).as("file size").isEqualTo(expected.length);
        assertThat(Arrays.mismatch(Arrays.copyOfRange(actual, 100, actual.length),
                Arrays.copyOfRange(expected, 100, expected.length))).as("first differing byte after 100").isEqualTo(-1);
        assertThat(SqliteCli.integrityCheck(replicaPath)).isEqualTo("ok");
    }

    @Test
    void awaitTxid_givesReadYourWrites() throws Exception {
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            replica.follow();
            for (int i = 0; i < 20; i++) {
                int v = i;
                long txid = primary.write(conn -> exec(conn, "insert into audit(note) values ('w" + v + "')")).get();
                assertThat(replica.awaitTxid(txid, Duration.ofSeconds(10))).isTrue();
                assertThat(q(replica, "select count(*) from audit where note = 'w" + v
                        + "'")).isEqualTo(1);
            }
            assertThat(replica.awaitTxid(primary.txid() + 100, Duration.ofMillis(50))).isFalse();
        }
    }

    @Test
    void poll_corruptSegment_keepsStateReportsKeyAndRecoversOnceFixed() throws Exception {
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            long before = replica.txid();
            transfer(new Random(3));
            primary.flush().get();
            String key = ObjectKey.segment(before + 1);
            byte[] good = storage.get(key).orElseThrow();
            byte[] bad = good.clone();
            bad[bad.length / 2] ^= 4;
            storage.overwrite(key, bad);

            assertThatThrownBy(replica::poll).is(badObject(CORRUPT))
                    .hasMessageContaining("key=" + key);
            assertThat(replica.txid()).isEqualTo(before);
            assertThat(q(replica, "select sum(balance) from account")).isEqualTo(1000);

            ByteBuffer.wrap(bad = good.clone()).putShort(FormatLayout.VERSION_OFFSET, (short) 3);
            storage.overwrite(key, bad);
            assertThatThrownBy(replica::poll).is(badObject(UNSUPPORTED_FORMAT));

            storage.overwrite(key, good);
            assertThat(replica.poll()).isEqualTo(before + 1);
        }
    }

    @Test
    void follow_corruptSegment_reportsLastErrorThenCatchesUp() throws Exception {
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"),
                ReplicaOptions.builder().pollInterval(Duration.ofMillis(2)).maxErrorBackoff(Duration.ofMillis(20))
                        .build())) {
            long before = replica.txid();
            long txid = transfer(new Random(4));
            primary.flush().get();
            String key = ObjectKey.segment(before + 1);
            byte[] good = storage.get(key).orElseThrow();
            storage.overwrite(key, java.util.Arrays.copyOf(good, good.length - 1));
            replica.follow();
            Await.until("the replica to report the torn segment", Duration.ofSeconds(30),
                    () -> replica.lastError().isPresent());
            assertThat(replica.lastError().get()).is(badObject(CORRUPT));
            assertThat(replica.txid()).isEqualTo(before);
            storage.overwrite(key, good);
            assertThat(replica.awaitTxid(txid, Duration.ofSeconds(10))).isTrue();
        }
    }

    @Test
    void open_existingReplica_reusesFileAndCatchesUp() throws Exception {
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            replica.poll();
        }
        long txid = transfer(new Random(5));
        primary.flush().get();
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            assertThat(replica.poll()).isEqualTo(txid);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).noneMatch(n -> n.contains("diverged"));
        }
    }

    @Test
    void open_replicaFileChangedBySomeoneElse_movesItAsideAndRestores() throws Exception {
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            replica.poll();
        }
        SqliteCli.run(dir.resolve("replica.db"), "update account set balance = 0;");
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            assertThat(q(replica, "select sum(balance) from account")).isEqualTo(1000);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).anyMatch(n -> n.contains("diverged"));
        }
    }

    @Test
    void open_interruptedApplyWhoseSegmentsAreGone_restoresAgainInsteadOfFailing() throws Exception {
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            replica.poll();
        }
        Path statePath = ReplicaState.pathFor(dir.resolve("replica.db"));
        ReplicaState state = ReplicaState.read(statePath).orElseThrow();
        new ReplicaState(state.pageSize(), state.pageCount(), state.txid(), state.checksum(), state.txid() + 1,
                state.txid() + 5, state.changeCounter(), state.sequence() + 1, state.page1()).update(statePath, true);
        long txid = transfer(new Random(6));
        primary.flush().get();

        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            assertThat(replica.poll()).isEqualTo(txid);
            assertThat(q(replica, "select sum(balance) from account")).isEqualTo(1000);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).anyMatch(n -> n.contains("diverged"));
        }
    }

    /** A crash while unstored transactions were taken back may leave the file torn: the next open restores. */
    @Test
    void open_stateFlaggedRollingBack_restoresAgainInsteadOfTrustingTheFile() throws Exception {
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            replica.poll();
        }
        Path statePath = ReplicaState.pathFor(dir.resolve("replica.db"));
        ReplicaState state = ReplicaState.read(statePath).orElseThrow();
        new ReplicaState(state.pageSize(), state.pageCount(), state.txid(), state.checksum(), 0, 0,
                state.changeCounter(), state.sequence() + 1, state.page1(),
                FormatLayout.REPLICA_FLAG_AHEAD | FormatLayout.REPLICA_FLAG_ROLLING_BACK).update(statePath, true);

        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            assertThat(replica.txid()).isEqualTo(state.txid());
            assertThat(q(replica, "select sum(balance) from account")).isEqualTo(1000);
        }
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).anyMatch(n -> n.contains("diverged"));
        }
        assertThat(ReplicaState.read(statePath).orElseThrow().flags()).as("a fresh state").isZero();
    }

    @Test
    void open_twice_throwsDatabaseLocked() {
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            assertThatThrownBy(() -> Replica.open(storage, dir.resolve("replica.db")))
                    .isInstanceOf(DatabaseLockedException.class);
        }
    }

    @Test
    void read_cannotWrite() throws Exception {
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
            assertThatThrownBy(() -> replica.read(conn -> {
                exec(conn, "delete from account");
                return null;
            })).isInstanceOf(SQLException.class);
        }
    }
}
