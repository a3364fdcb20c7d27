package io.walship.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.walship.WalshipException;
import io.walship.internal.work.Workers;
import io.walship.storage.StorageException;
import io.walship.testing.BusyLoad;
import io.walship.testing.Await;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Worker;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The follower on its own, with scripted turns: its cadence (lower bounds on the waits, which a
 * loaded machine only lengthens) and its end, with busy threads beside it on the two cores.
 */
class FollowerTest {
    private static final Duration BOUND = Duration.ofSeconds(30);
    private static final Duration POLL = Duration.ofMillis(40);

    private Workers workers;
    private BusyLoad load;

    @BeforeEach
    void start() {
        workers = Workers.start("follower-test", Workers.Sizes.single());
        load = BusyLoad.start(2);
    }

    @AfterEach
    void stop() throws InterruptedException {
        load.close();
        workers.close();
    }

    /** Turns whose applies follow a script; records when each ran. */
    private static final class ScriptedTurns implements Follower.Turns {
        final List<Long> turnNanos = new CopyOnWriteArrayList<>();
        final AtomicLong txid = new AtomicLong();
        final AtomicBoolean closed = new AtomicBoolean();
        final AtomicInteger failuresLeft = new AtomicInteger();
        final AtomicBoolean torn = new AtomicBoolean();
        final AtomicInteger succeeded = new AtomicInteger();
        final List<WalshipException> failed = new CopyOnWriteArrayList<>();

        @Override
        public void applyAvailable() throws IOException {
            turnNanos.add(System.nanoTime());
            if (torn.get()) {
                throw new ReplicaFailedException("test.db", txid.get() + 1, txid.get() + 1, new IOException("torn"));
            }
            if (failuresLeft.getAndDecrement() > 0) {
                throw new StorageException("get", "log/x", StorageException.Kind.UNAVAILABLE, "scripted", null);
            }
        }

        @Override
        public long txid() {
            return txid.get();
        }

        @Override
        public boolean aheadWaiting() {
            return false;
        }

        @Override
        public boolean closed() {
            return closed.get();
        }

        @Override
        public void succeeded() {
            succeeded.incrementAndGet();
        }

        @Override
        public void failed(WalshipException e) {
            failed.add(e);
        }
    }

    /**
     * Returns once every step signalled before has run: the IO pool has one thread taking lanes in
     * turn, so a probe follower's first turn comes after them.
     */
    private void drainIoLane() {
        ScriptedTurns probe = new ScriptedTurns();
        Follower follower = follower(probe, ReplicaOptions.builder().pollInterval(POLL).build());
        follower.start();
        Await.until("the probe's first turn", BOUND, () -> !probe.turnNanos.isEmpty());
        probe.closed.set(true);
        follower.awaitEnd();
    }

    private Follower follower(ScriptedTurns turns, ReplicaOptions options) {
        return new Follower("test.db", options, workers, new MemoryStorage(), turns);
    }

    @Test
    void afterAFailure_theBackoffIsWaitedOut_evenWhileStorageSignals() throws Exception {
        ScriptedTurns turns = new ScriptedTurns();
        turns.failuresLeft.set(3);
        Follower follower = follower(turns, ReplicaOptions.builder().pollInterval(POLL)
                .maxIdlePollInterval(Duration.ofSeconds(10)).maxErrorBackoff(Duration.ofSeconds(10)).build());
        AtomicBoolean stopSignals = new AtomicBoolean();
        Worker signals = Worker.start("signals", () -> {
            while (!stopSignals.get()) {
                follower.storageChanged(); // a watch that keeps firing must not cut a backoff short
                Thread.onSpinWait();
            }
        });
        try {
            follower.start();
            Await.until("three failures and a success", BOUND, () -> turns.succeeded.get() >= 1);
        } finally {
            stopSignals.set(true);
            signals.join(BOUND);
        }
        assertThat(turns.failed).hasSize(3).allSatisfy(e -> assertThat(e).isInstanceOf(StorageException.class));
        // backoffs of 1, 2 and 4 poll intervals between the four turns: no sooner, whatever the signals
        List<Long> at = turns.turnNanos;
        for (int i = 1; i <= 3; i++) {
            long waited = at.get(i) - at.get(i - 1);
            assertThat(waited).as("wait before turn %d", i).isGreaterThanOrEqualTo(POLL.toNanos() << (i - 1));
        }
        turns.closed.set(true);
        assertTimeoutPreemptively(BOUND, follower::awaitEnd);
    }

    @Test
    void idle_waitsDoubleUpToTheMaximum() throws Exception {
        ScriptedTurns turns = new ScriptedTurns();
        Duration max = POLL.multipliedBy(4);
        Follower follower = follower(turns, ReplicaOptions.builder().pollInterval(POLL).maxIdlePollInterval(max)
                .build());
        follower.start();
        Await.until("six idle turns", BOUND, () -> turns.turnNanos.size() >= 6);
        List<Long> at = List.copyOf(turns.turnNanos);
        long[] least = {2, 4, 4, 4, 4}; // poll intervals: doubled after each idle turn, capped at the maximum
        for (int i = 1; i < 6; i++) {
            assertThat(at.get(i) - at.get(i - 1)).as("idle wait before turn %d", i)
                    .isGreaterThanOrEqualTo(POLL.toNanos() * least[i - 1]);
        }
        turns.closed.set(true);
        assertTimeoutPreemptively(BOUND, follower::awaitEnd);
    }

    @Test
    void close_endsFollowing_andNoTurnRunsAfterIt_underSignalsAndLoad() throws Exception {
        for (int round = 0; round < 50; round++) {
            ScriptedTurns turns = new ScriptedTurns();
            Follower follower = follower(turns, ReplicaOptions.builder().pollInterval(Duration.ofMillis(1)).build());
            AtomicBoolean stopSignals = new AtomicBoolean();
            Worker signals = Worker.start("signals", () -> {
                while (!stopSignals.get()) {
                    turns.txid.incrementAndGet(); // news at every turn: the shortest waits
                    follower.storageChanged();
                }
            });
            try {
                follower.start();
                Await.until("a few turns", BOUND, () -> turns.turnNanos.size() >= 3);
                turns.closed.set(true);
                assertTimeoutPreemptively(BOUND, follower::awaitEnd, "round " + round);
            } finally {
                stopSignals.set(true);
                signals.join(BOUND);
            }
            int turnsAtEnd = turns.turnNanos.size();
            follower.storageChanged(); // after the end: a step may run, but no turn applies
            drainIoLane();
            assertThat(turns.turnNanos).as("round %d: turns after the end", round).hasSize(turnsAtEnd);
        }
    }

    @Test
    void tornFile_endsFollowing_withoutAClose() throws Exception {
        ScriptedTurns turns = new ScriptedTurns();
        turns.torn.set(true);
        Follower follower = follower(turns, ReplicaOptions.builder().pollInterval(POLL).build());
        follower.start();
        assertTimeoutPreemptively(BOUND, follower::awaitEnd);
        follower.storageChanged();
        drainIoLane();
        assertThat(turns.turnNanos).as("one turn found the file torn; none after").hasSize(1);
        assertThat(turns.failed).as("the replica reported it itself").isEmpty();
    }
}
