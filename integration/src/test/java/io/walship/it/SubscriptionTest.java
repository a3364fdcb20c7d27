package io.walship.it;

import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Ack;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.StreamedTransaction;
import io.walship.Subscription;
import io.walship.SubscriptionEndedException;
import io.walship.TransactionSubscriber;
import io.walship.internal.log.DatabaseChecksum;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.ForwardingStorage;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.Await;
import io.walship.testing.Worker;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Primary.subscribe: every txid once and in order, from storage and from memory, and never in the writer's way. */
class SubscriptionTest {
    private static final Duration BOUND = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private Storage storage;

    @BeforeEach
    void storage() throws Exception {
        storage = FileSystemStorage.open(dir.resolve("storage"));
    }

    /**
     * Applies what it receives to a restored copy of the database, checking each transaction's
     * checksum: the stream carries exactly the primary's pages.
     */
    private static final class Applier implements TransactionSubscriber {
        final List<Long> txids = new CopyOnWriteArrayList<>();
        final List<Boolean> stored = new CopyOnWriteArrayList<>();
        final CompletableFuture<SubscriptionEndedException> end = new CompletableFuture<>();
        private final FileChannel file;
        private final DatabaseChecksum checksum;
        private final int pageSize;
        volatile long sleepMillis;

        Applier(Path copy, int pageSize) throws Exception {
            this.file = FileChannel.open(copy, StandardOpenOption.READ, StandardOpenOption.WRITE);
            this.pageSize = pageSize;
            this.checksum = DatabaseChecksum.of(file, pageSize);
        }

        @Override
        public void onTransaction(StreamedTransaction txn) throws Exception {
            if (sleepMillis > 0) {
                Thread.sleep(sleepMillis);
            }
            assertThat(txn.checksumBefore()).as("checksum before txid %d", txn.txid()).isEqualTo(checksum.value());
            checksum.resize(txn.databasePages());
            file.truncate((long) txn.databasePages() * pageSize);
            long recorded = txn.readPages((pgno, image) -> {
                checksum.setPage(pgno, image, image.position());
                file.write(image.duplicate(), (long) (pgno - 1) * pageSize);
            });
            assertThat(checksum.value()).as("checksum after txid %d", txn.txid()).isEqualTo(recorded);
            txids.add(txn.txid());
            stored.add(txn.stored());
        }

        @Override
        public void onEnd(SubscriptionEndedException e) {
            end.complete(e);
        }

        long last() {
            return txids.isEmpty() ? 0 : txids.get(txids.size() - 1);
        }
    }

    private Applier applierAt(long txid) throws Exception {
        Path copy = dir.resolve("copy-" + txid + "-" + System.nanoTime() + ".db");
        RestoreResult restored = Restore.run(storage, copy, RestoreTarget.txid(txid));
        return new Applier(copy, restored.pageSize());
    }

    private static void write(Primary primary, int count) throws Exception {
        for (int i = 0; i < count; i++) {
            int v = i;
            primary.write(conn -> exec(conn, "insert into t(v, pad) values (" + v + ", randomblob(" + (v % 5) * 900
                    + "))"));
        }
    }

    private static void assertConsecutive(List<Long> txids, long first, long last) {
        assertThat(txids).hasSize((int) (last - first + 1));
        for (int i = 0; i < txids.size(); i++) {
            assertThat(txids.get(i)).as("delivery %d", i).isEqualTo(first + i);
        }
    }

    @Test
    void subscribe_fromFarBehind_catchesUpFromStorageThenGoesLive_everyTxidOnceInOrderWithItsPages()
            throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(id integer primary key, v, pad)")).get();
            write(primary, 200);
            primary.flush().get();
            Applier applier = applierAt(1);
            try (Subscription subscription = primary.subscribe(2, applier)) {
                Worker writer = Worker.start("writer", () -> write(primary, 300));
                writer.join(BOUND);
                long last = primary.txid();
                Await.until("subscriber reaches txid " + last, BOUND, () -> applier.last() == last);
                assertThat(subscription.nextTxid()).isEqualTo(last + 1);
                assertConsecutive(applier.txids, 2, last);
                assertThat(applier.stored).as("the first ones came from storage").startsWith(true);
            }
            assertThat(applier.end.get(10, TimeUnit.SECONDS).reason())
                    .isEqualTo(SubscriptionEndedException.Reason.CANCELLED);
        }
    }

    @Test
    void subscribe_fromTheMiddleOfAStoredSegment_startsExactlyThere() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"),
                PrimaryOptions.async().toBuilder().flushInterval(Duration.ofHours(1)).build())) {
            primary.write(conn -> exec(conn, "create table t(id integer primary key, v, pad)"));
            write(primary, 50);
            primary.flush().get(); // one segment holding txids 1..51
            Applier applier = applierAt(20);
            try (Subscription subscription = primary.subscribe(21, applier)) {
                Await.until("subscriber reaches txid 51", BOUND, () -> applier.last() == 51);
                assertConsecutive(applier.txids, 21, 51);
            }
        }
    }

    /** Storage that takes 300 ms to store: live deliveries come long before the ack, marked not stored. */
    @Test
    void liveDelivery_comesBeforeTheStore_markedNotStored_andTheWriterIsNeverHeldBackBySubscribers() throws Exception {
        Storage slow = new ForwardingStorage(storage) {
            @Override
            protected PutResult put(String key, Supplier<PutResult> call) {
                if (key.startsWith("log/")) {
                    try {
                        Thread.sleep(300);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return call.get();
            }
        };
        try (Primary primary = Primary.open(slow, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            long start = primary.write(conn -> exec(conn, "create table t(id integer primary key, v, pad)")).get();
            Applier applier = applierAt(start);
            CountDownLatch never = new CountDownLatch(1);
            List<Subscription> stuck = new CopyOnWriteArrayList<>();
            for (int i = 0; i < 4; i++) {
                stuck.add(primary.subscribe(start + 1, txn -> never.await()));
            }
            try (Subscription live = primary.subscribe(start + 1, applier)) {
                Ack<Void> ack = primary.write(conn -> exec(conn, "insert into t(v) values (1)"));
                Await.until("live delivery", Duration.ofSeconds(10), () -> applier.last() == ack.txid());
                assertThat(ack.isStored()).as("delivered while the store is still running").isFalse();
                assertThat(applier.stored).containsExactly(false);
                ack.get();
                write(primary, 200); // four subscribers blocked in their callbacks hold nobody back
                primary.flush().get(BOUND);
                Await.until("all delivered", BOUND, () -> applier.last() == primary.txid());
                assertConsecutive(applier.txids, start + 1, primary.txid());
            } finally {
                never.countDown();
                stuck.forEach(Subscription::close);
            }
        }
    }

    @Test
    void slowSubscriber_isCutOffTooSlow_andSubscribingAgainFromItsNextTxidGoesOnWithoutAGap() throws Exception {
        PrimaryOptions options = PrimaryOptions.durable().toBuilder().streamWindowBytes(64 << 10).build();
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), options)) {
            long start = primary.write(conn -> exec(conn, "create table t(id integer primary key, v, pad)")).get();
            Applier first = applierAt(start);
            primary.subscribe(start + 1, first);
            write(primary, 1);
            Await.until("first delivery, from memory", BOUND, () -> first.last() == start + 1);
            first.sleepMillis = 20; // now it reads from the window, and falls behind it
            Worker writer = Worker.start("writer", () -> write(primary, 300));
            SubscriptionEndedException end = first.end.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(end.reason()).isEqualTo(SubscriptionEndedException.Reason.TOO_SLOW);
            assertThat(end.nextTxid()).isEqualTo(first.last() + 1);
            assertThat(end).hasMessageContaining("streamWindowBytes");
            writer.join(BOUND);
            primary.flush().get();

            Applier again = applierAt(first.last());
            try (Subscription resumed = primary.subscribe(end.nextTxid(), again)) {
                Await.until("caught up", BOUND, () -> again.last() == primary.txid());
            }
            assertConsecutive(first.txids, start + 1, end.nextTxid() - 1);
            assertConsecutive(again.txids, end.nextTxid(), primary.txid());
        }
    }

    @Test
    void subscriberThatThrows_endsSubscriberFailed_atTheTxidItFailedOn() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            long start = primary.write(conn -> exec(conn, "create table t(id integer primary key, v, pad)")).get();
            CompletableFuture<SubscriptionEndedException> ended = new CompletableFuture<>();
            primary.subscribe(start + 1, new TransactionSubscriber() {
                @Override
                public void onTransaction(StreamedTransaction txn) {
                    if (txn.txid() == start + 3) {
                        throw new IllegalStateException("subscriber bug");
                    }
                }

                @Override
                public void onEnd(SubscriptionEndedException e) {
                    ended.complete(e);
                }
            });
            write(primary, 5);
            SubscriptionEndedException e = ended.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(e.reason()).isEqualTo(SubscriptionEndedException.Reason.SUBSCRIBER_FAILED);
            assertThat(e.nextTxid()).isEqualTo(start + 3);
            assertThat(e.getCause()).hasMessage("subscriber bug");
        }
    }

    @Test
    void primaryClose_endsSubscriptionsPrimaryClosed_withWhereToResume() throws Exception {
        CompletableFuture<SubscriptionEndedException> ended = new CompletableFuture<>();
        long last;
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            long start = primary.write(conn -> exec(conn, "create table t(id integer primary key, v, pad)")).get();
            List<Long> seen = new CopyOnWriteArrayList<>();
            primary.subscribe(start + 1, new TransactionSubscriber() {
                @Override
                public void onTransaction(StreamedTransaction txn) {
                    seen.add(txn.txid());
                }

                @Override
                public void onEnd(SubscriptionEndedException e) {
                    ended.complete(e);
                }
            });
            write(primary, 10);
            last = primary.txid();
            Await.until("delivered", BOUND, () -> seen.size() == 10);
        }
        SubscriptionEndedException e = ended.get(10, TimeUnit.SECONDS);
        assertThat(e.reason()).isEqualTo(SubscriptionEndedException.Reason.PRIMARY_CLOSED);
        assertThat(e.nextTxid()).isEqualTo(last + 1);
    }

    @Test
    void subscribe_toATxidStorageNoLongerHolds_endsNotInStorage() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(id integer primary key, v, pad)")).get();
            write(primary, 5);
            primary.flush().get();
            Files.delete(dir.resolve("storage").resolve("log").resolve("0000000000000002"));
            CompletableFuture<SubscriptionEndedException> ended = new CompletableFuture<>();
            primary.subscribe(2, new TransactionSubscriber() {
                @Override
                public void onTransaction(StreamedTransaction txn) {
                    throw new AssertionError("delivered txid " + txn.txid() + " that storage does not hold");
                }

                @Override
                public void onEnd(SubscriptionEndedException e) {
                    ended.complete(e);
                }
            });
            SubscriptionEndedException e = ended.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
            assertThat(e.reason()).isEqualTo(SubscriptionEndedException.Reason.NOT_IN_STORAGE);
            assertThat(e.nextTxid()).isEqualTo(2);
        }
    }
}
