package io.walship.it;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.SqlFunction;
import io.walship.StreamServer;
import io.walship.metrics.WalshipMeter;
import io.walship.replica.AppliedBatch;
import io.walship.replica.Replica;
import io.walship.replica.ReplicaOptions;
import io.walship.storage.ForwardingStorage;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.StorageException;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.Await;
import io.walship.testing.Rows;
import io.walship.testing.Worker;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica that applies what the stream sends before the primary stored it
 * ({@link ReplicaOptions#applyUnstored()}): fresher, and whatever the primary then loses is taken
 * back exactly, while what it keeps is confirmed without a restore.
 */
class UnstoredStreamTest {
    private static final Duration BOUND = Duration.ofSeconds(30);
    private static final String TOKEN = "s3cret-token";
    private static final SqlFunction<Long> INVARIANT = conn -> queryLong(conn,
            "select (select sum(balance) from account) = 1000 and (select n from meta) = (select count(*) from moves)");
    private static final SqlFunction<String> FINGERPRINT = Rows::fingerprint;
    private static final SqlFunction<Long> LOST_ROWS = conn -> queryLong(conn,
            "select count(*) from moves where amount = 999");

    @TempDir
    Path dir;
    /** Storage whose PUTs fail (retryably) while {@link #storing} is false: a primary that cannot store. */
    private Storage storage;
    private final AtomicBoolean storing = new AtomicBoolean(true);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<AppliedBatch> batches = new CopyOnWriteArrayList<>();

    @BeforeEach
    void storage() throws Exception {
        storage = new ForwardingStorage(FileSystemStorage.open(dir.resolve("storage"))) {
            @Override
            public PutResult putIfAbsent(String key, byte[] content) {
                refuseWhileNotStoring(key);
                return super.putIfAbsent(key, content);
            }

            @Override
            public PutResult putIfAbsent(String key, Path file) {
                refuseWhileNotStoring(key);
                return super.putIfAbsent(key, file);
            }

            private void refuseWhileNotStoring(String key) {
                if (!storing.get()) {
                    throw new StorageException("put", key, true, "storage unreachable (test)", null);
                }
            }
        };
    }

    private static PrimaryOptions primaryOptions() {
        return PrimaryOptions.async().toBuilder().closeTimeout(Duration.ofSeconds(1))
                .retryMaxBackoff(Duration.ofMillis(50)).build();
    }

    private ReplicaOptions ahead(StreamServer stream, Duration unstoredTimeout) {
        return ReplicaOptions.builder().pollInterval(Duration.ofMillis(50)).stream(stream.uri(), TOKEN)
                .applyUnstored(true).unstoredTimeout(unstoredTimeout).meterRegistry(registry).build();
    }

    private static long setUp(Primary primary) throws Exception {
        primary.write(conn -> {
            exec(conn, "create table account(id integer primary key, balance integer)");
            exec(conn, "create table meta(n integer)");
            exec(conn, "create table moves(id integer primary key, amount integer, pad)");
            exec(conn, "insert into account values (1, 600), (2, 400)");
            exec(conn, "insert into meta values (0)");
        });
        primary.flush().get();
        return primary.txid();
    }

    private static long move(Primary primary, int amount, int padBytes) throws Exception {
        primary.write(conn -> {
            exec(conn, "update account set balance = balance - " + amount + " where id = 1");
            exec(conn, "insert into moves(amount, pad) values (" + amount + ", randomblob(" + padBytes + "))");
            exec(conn, "update account set balance = balance + " + amount + " where id = 2");
            exec(conn, "update meta set n = n + 1");
        });
        return primary.txid();
    }

    /** Three transactions the primary cannot store, each visible on the replica; returns the last txid. */
    private long writeUnstored(Primary primary, Replica replica) throws Exception {
        storing.set(false);
        long txid = 0;
        for (int i = 0; i < 3; i++) {
            txid = move(primary, 999, 3000); // overflow pages and a page split: more than one page per table
        }
        assertThat(replica.awaitTxid(txid, BOUND)).as("unstored txid %d visible", txid).isTrue();
        assertThat(primary.storedTxid()).as("the primary stored none of them").isLessThan(txid - 2);
        assertThat(replica.read(LOST_ROWS)).isEqualTo(3);
        assertThat(gauge(WalshipMeter.REPLICA_UNSTORED)).isGreaterThanOrEqualTo(1);
        return txid;
    }

    /** Starts following and returns once the replica holds {@code txid} and the stream serves it. */
    private static void follow(Replica replica, StreamServer stream, long txid) throws Exception {
        replica.follow();
        assertThat(replica.awaitTxid(txid, BOUND)).isTrue();
        Await.until("the stream serves the replica", BOUND, () -> stream.clients() == 1);
    }

    /** Another primary, on a file of its own, writes five transactions: the replica follows them from storage. */
    private void followAnotherPrimary(Replica replica, String as) throws Exception {
        try (Primary second = Primary.open(storage, dir.resolve("b.db"), PrimaryOptions.durable())) {
            long txid = 0;
            for (int i = 1; i <= 5; i++) {
                txid = move(second, i, 100);
            }
            assertThat(replica.awaitTxid(txid, BOUND)).as(as).isTrue();
            assertThat(replica.read(LOST_ROWS)).isZero();
            assertThat(replica.read(FINGERPRINT)).isEqualTo(second.read(FINGERPRINT));
        }
    }

    private double gauge(WalshipMeter meter) {
        return registry.get(meter.meterName()).gauge().value();
    }

    private double count(WalshipMeter meter) {
        return registry.get(meter.meterName()).counter().count();
    }

    private long divergedCopies() throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().startsWith("replica.db.diverged-")).count();
        }
    }

    @Test
    void applyUnstored_showsWritesBeforeTheyAreStored_wholeTransactionsOnly_thenTheStreamConfirmsThem()
            throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), primaryOptions());
             StreamServer stream = primary.serveStream(new InetSocketAddress("localhost", 0), TOKEN)) {
            long start = setUp(primary);
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"), ahead(stream, BOUND))) {
                follow(replica, stream, start);
                AtomicBoolean reading = new AtomicBoolean(true);
                Worker reader = Worker.start("reader", () -> {
                    while (reading.get()) {
                        assertThat(replica.read(INVARIANT)).isEqualTo(1);
                    }
                });
                try {
                    storing.set(false);
                    long txid = 0;
                    for (int i = 1; i <= 40; i++) {
                        txid = move(primary, i % 7 - 3, (i % 4) * 700);
                        assertThat(replica.awaitTxid(txid, BOUND)).as("unstored txid %d visible", txid).isTrue();
                    }
                    assertThat(primary.storedTxid()).as("storage has none of them").isEqualTo(start);
                    assertThat(gauge(WalshipMeter.REPLICA_UNSTORED)).isEqualTo(40);

                    storing.set(true);
                    primary.flush().get();
                    Await.until("the stream confirms them", BOUND, () -> gauge(WalshipMeter.REPLICA_UNSTORED) == 0);
                    assertThat(replica.txid()).isEqualTo(txid);
                } finally {
                    reading.set(false);
                }
                reader.join(BOUND);
                assertThat(count(WalshipMeter.REPLICA_TAKEN_BACK)).isZero();
                assertThat(replica.read(FINGERPRINT)).isEqualTo(primary.read(FINGERPRINT));
            }
        }
    }

    @Test
    void unstoredTransactionsThePrimaryLost_areTakenBackExactly_listenersTold_thenTheNewHistoryFollowed()
            throws Exception {
        Primary first = Primary.open(storage, dir.resolve("a.db"), primaryOptions());
        StreamServer stream = first.serveStream(new InetSocketAddress("localhost", 0), TOKEN);
        long start = setUp(first);
        String before = first.read(FINGERPRINT);
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"),
                ahead(stream, Duration.ofMillis(500)))) {
            replica.onApplied(batches::add);
            follow(replica, stream, start);
            long lost = writeUnstored(first, replica);

            stream.close(); // the primary's machine is gone, its WAL with it
            first.close();
            storing.set(true);
            Await.until("taken back", BOUND, () -> replica.txid() == start);
            assertThat(replica.read(LOST_ROWS)).isZero();
            assertThat(replica.read(FINGERPRINT)).as("exactly the state before").isEqualTo(before);
            assertThat(count(WalshipMeter.REPLICA_TAKEN_BACK)).isEqualTo(3);
            assertThat(gauge(WalshipMeter.REPLICA_UNSTORED)).isZero();
            Await.until("listener told", BOUND, () -> batches.stream().anyMatch(AppliedBatch::takenBack));
            AppliedBatch takenBack = batches.stream().filter(AppliedBatch::takenBack).findFirst().orElseThrow();
            assertThat(takenBack.firstTxid()).isEqualTo(start + 1);
            assertThat(takenBack.lastTxid()).isEqualTo(lost);
            assertThat(takenBack.tables()).contains("moves", "account", "meta");

            followAnotherPrimary(replica, "the new history, from storage");
            assertThat(batches.stream().filter(b -> !b.takenBack()).mapToLong(AppliedBatch::lastTxid).max())
                    .hasValue(start + 5);
        }
    }

    @Test
    void storageHoldingAnotherHistoryAtTheReplicasTxid_takesBackAtOnce_withoutWaitingForTheTimeout()
            throws Exception {
        Primary first = Primary.open(storage, dir.resolve("a.db"), primaryOptions());
        StreamServer stream = first.serveStream(new InetSocketAddress("localhost", 0), TOKEN);
        long start = setUp(first);
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"), ahead(stream, Duration.ofHours(1)))) {
            follow(replica, stream, start);
            writeUnstored(first, replica);
            stream.close();
            first.close();
            storing.set(true);
            followAnotherPrimary(replica, "the other history, long before an hour");
            assertThat(count(WalshipMeter.REPLICA_TAKEN_BACK)).isEqualTo(3);
        }
    }

    @Test
    void primaryRestarted_storesWhatItsWalKept_storageConfirmsTheReplica_nothingTakenBack() throws Exception {
        Primary first = Primary.open(storage, dir.resolve("a.db"), primaryOptions());
        StreamServer stream = first.serveStream(new InetSocketAddress("localhost", 0), TOKEN);
        long start = setUp(first);
        try (Replica replica = Replica.open(storage, dir.resolve("replica.db"), ahead(stream, Duration.ofHours(1)))) {
            follow(replica, stream, start);
            long kept = writeUnstored(first, replica);
            stream.close();
            first.close(); // times out storing: the transactions stay in its WAL
            storing.set(true);
            try (Primary again = Primary.open(storage, dir.resolve("a.db"), PrimaryOptions.durable())) {
                again.flush().get();
                assertThat(again.storedTxid()).isGreaterThanOrEqualTo(kept);
                Await.until("storage confirms them", BOUND, () -> gauge(WalshipMeter.REPLICA_UNSTORED) == 0);
                assertThat(replica.txid()).isEqualTo(kept);
                assertThat(replica.read(LOST_ROWS)).isEqualTo(3);
                assertThat(count(WalshipMeter.REPLICA_TAKEN_BACK)).isZero();
                long txid = move(again, 1, 100);
                assertThat(replica.awaitTxid(txid, BOUND)).isTrue();
                assertThat(replica.read(FINGERPRINT)).isEqualTo(again.read(FINGERPRINT));
            }
        }
    }

    @Test
    void replicaReopenedWhileAhead_restoresFromStorage_butKeepsItsFileOnceStorageCaughtUp() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), primaryOptions());
             StreamServer stream = primary.serveStream(new InetSocketAddress("localhost", 0), TOKEN)) {
            long start = setUp(primary);
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"), ahead(stream, BOUND))) {
                follow(replica, stream, start);
                writeUnstored(primary, replica);
            }
            try (Replica reopened = Replica.open(storage, dir.resolve("replica.db"))) {
                assertThat(reopened.txid()).as("storage does not hold them: restored").isEqualTo(start);
                assertThat(reopened.read(LOST_ROWS)).isZero();
            }
            assertThat(divergedCopies()).isEqualTo(1);

            long txid;
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"), ahead(stream, BOUND))) {
                replica.follow();
                txid = primary.txid();
                Await.until("the stream serves the replica", BOUND, () -> stream.clients() == 1);
                assertThat(replica.awaitTxid(txid, BOUND)).as("unstored, again").isTrue();
            }
            storing.set(true);
            primary.flush().get();
            try (Replica reopened = Replica.open(storage, dir.resolve("replica.db"))) {
                assertThat(reopened.txid()).as("storage caught up: the file is kept").isEqualTo(txid);
                assertThat(reopened.read(FINGERPRINT)).isEqualTo(primary.read(FINGERPRINT));
            }
            assertThat(divergedCopies()).as("no second restore").isEqualTo(1);
        }
    }
}
