package io.walship;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.internal.log.ObjectKey;
import io.walship.internal.metrics.Metrics;
import io.walship.metrics.WalshipMeter;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.ForwardingStorage;
import io.walship.storage.PutResult;
import io.walship.testing.BusyLoad;
import io.walship.testing.Await;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Worker;
import java.nio.file.Path;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * DURABLE group commit over slow storage: after an upload that acknowledged several writers, the
 * next upload waits briefly for them to commit again (ADR 0029).
 */
class GroupCommitTest {
    private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

    @TempDir
    Path dir;

    @Test
    void pauseIsAFifthOfASlowUpload_cappedByTheOption() {
        PrimaryOptions durable = PrimaryOptions.durable();

        assertThat(SegmentFlusher.gatherNanos(durable, 16, 25 * MS)).isEqualTo(5 * MS);
        assertThat(SegmentFlusher.gatherNanos(durable, 2, 400 * MS)).isEqualTo(10 * MS);
        assertThat(SegmentFlusher.gatherNanos(PrimaryOptions.durable().toBuilder()
                .groupCommitDelay(Duration.ofMillis(3)).build(), 8, 100 * MS)).isEqualTo(3 * MS);
    }

    @Test
    void noPause_forALoneWriter_aLocalDisk_ASYNC_orWhenTurnedOff() {
        PrimaryOptions durable = PrimaryOptions.durable();

        assertThat(SegmentFlusher.gatherNanos(durable, 1, 100 * MS)).as("one transaction acked").isZero();
        assertThat(SegmentFlusher.gatherNanos(durable, 16, 3 * MS)).as("a local disk's upload").isZero();
        assertThat(SegmentFlusher.gatherNanos(PrimaryOptions.durable().toBuilder().durability(Durability.ASYNC)
                .build(), 16, 100 * MS)).isZero();
        assertThat(SegmentFlusher.gatherNanos(PrimaryOptions.durable().toBuilder().groupCommitDelay(Duration.ZERO)
                .build(), 16, 100 * MS)).isZero();
        assertThatThrownBy(() -> PrimaryOptions.builder().groupCommitDelay(Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("groupCommitDelay");
    }

    /**
     * The pause is for writers waiting on their acks: a write nobody waits on (a stream of
     * writes at a fixed rate, ASYNC use of a DURABLE primary) must not hold the next upload back.
     */
    @Test
    void anAckReleasesOnlyTheWritersWaitingOnIt() throws Exception {
        AckRegistry acks = new AckRegistry(0, Metrics.NONE.timer(WalshipMeter.PRIMARY_ACK_LATENCY));
        CompletableFuture<Long> blocked = acks.futureFor(1);
        acks.futureFor(2); // nobody waits
        CompletableFuture<Long> chained = acks.futureFor(3);
        AtomicLong seen = new AtomicLong();
        chained.thenAccept(seen::set);
        acks.futureFor(4); // nobody waits
        CountDownLatch waiting = new CountDownLatch(1);
        Worker getter = Worker.start("getter", () -> {
            waiting.countDown();
            blocked.get();
        });
        assertThat(waiting.await(10, TimeUnit.SECONDS)).isTrue();
        Await.until("the getter blocks in get()", Duration.ofSeconds(10), () -> getter.state() == Thread.State.WAITING);

        assertThat(acks.stored(4)).isEqualTo(2);
        getter.join(Duration.ofSeconds(10));
        assertThat(seen).hasValue(3);
        assertThat(acks.stored(4)).as("nothing left to release").isZero();
    }

    /**
     * Writers that each wait for their ack split into two cohorts on slow storage when the next
     * upload leaves the moment the previous one returns: each ack then waits for two uploads.
     * With the pause, the writers an upload released join the next one: fewer uploads for the same
     * transactions, beside two busy threads, and every acknowledged transaction restores.
     * (Regression: a first version compared against writers that came back at once, and under
     * load the flusher itself was sometimes late enough to merge the cohorts without a pause.)
     */
    @Test
    void writersReleasedByAnAck_shareTheNextUpload_underLoad() throws Exception {
        try (BusyLoad load = BusyLoad.start(2)) {
            int separate = segmentUploads(Duration.ZERO, "separate");
            int gathered = segmentUploads(Duration.ofMillis(50), "gathered");

            assertThat(gathered).as("uploads with the pause (%d without)", separate).isLessThan(separate * 3 / 4);
        }
    }

    /**
     * Log uploads of 4 writers x 10 acked single-row transactions over 100 ms puts, each writer
     * committing again 5 ms after its ack (its request's own work): the next upload has left by
     * then unless the flusher waits for it.
     */
    private int segmentUploads(Duration groupCommitDelay, String name) throws Exception {
        MemoryStorage memory = new MemoryStorage();
        AtomicInteger logPuts = new AtomicInteger();
        AtomicBoolean slow = new AtomicBoolean();
        ForwardingStorage storage = new ForwardingStorage(memory) {
            @Override
            protected PutResult put(String key, Supplier<PutResult> call) {
                if (slow.get() && key.startsWith(ObjectKey.LOG_PREFIX)) {
                    logPuts.incrementAndGet();
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return call.get();
            }
        };
        int writers = 4;
        int rounds = 10;
        Path db = dir.resolve(name + ".db");
        long last;
        try (Primary primary = Primary.open(storage, db, PrimaryOptions.durable().toBuilder()
                .snapshotAfterLogBytes(0).compaction(null).groupCommitDelay(groupCommitDelay).build())) {
            primary.write(conn -> {
                try (Statement s = conn.createStatement()) {
                    s.execute("create table t(w integer, i integer)");
                }
            }).get();
            slow.set(true);
            List<Worker> running = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                running.add(Worker.start(name + "-writer-" + w, () -> {
                    for (int i = 0; i < rounds; i++) {
                        int round = i;
                        primary.write(conn -> {
                            try (Statement s = conn.createStatement()) {
                                s.execute("insert into t values (" + writer + ", " + round + ")");
                            }
                        }).get();
                        Thread.sleep(5);
                    }
                }));
            }
            for (Worker w : running) {
                w.join(Duration.ofSeconds(60));
            }
            last = primary.txid();
        }
        RestoreResult restored = Restore.run(memory, dir.resolve(name + "-restored.db"), RestoreTarget.latest());
        assertThat(restored.txid()).isEqualTo(last);
        assertThat(last).isEqualTo(1 + (long) writers * rounds);
        return logPuts.get();
    }
}
