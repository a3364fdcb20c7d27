package io.walship;

import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.walship.internal.log.ObjectKey;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.testing.BusyLoad;
import io.walship.testing.FaultyStorage;
import io.walship.testing.MemoryStorage;
import io.walship.testing.Worker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The primary's lifecycle under a race, with busy threads beside it: writers committing, a stage
 * failing (storage throws what it must not) and close() arriving at any moment of that. Every ack
 * ends, as stored (and then restorable) or as NotStoredException; close returns; the primary ends
 * FAILED or CLOSED; nothing hangs, whichever of the three came first.
 */
class LifecycleRaceTest {
    private static final Duration BOUND = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void stageFailure_closeAndWriters_race_everyAckEndsAndNoStoredAckIsLost() throws Exception {
        try (BusyLoad load = BusyLoad.start(2)) {
            Random random = new Random(5);
            for (int round = 0; round < 25; round++) {
                race(round, random);
            }
        }
    }

    private void race(int round, Random random) throws Exception {
        MemoryStorage memory = new MemoryStorage();
        FaultyStorage storage = new FaultyStorage(memory, round);
        Path db = dir.resolve("race-" + round + ".db");
        PrimaryOptions options = PrimaryOptions.builder().flushInterval(Duration.ofMillis(1))
                .closeTimeout(Duration.ofSeconds(5)).build();
        Primary primary = Primary.open(storage, db, options);
        primary.write(conn -> exec(conn, "create table t(n int)")).get(BOUND);
        List<Ack<Void>> acks = new CopyOnWriteArrayList<>();
        AtomicBoolean stopWriters = new AtomicBoolean();
        List<Worker> writers = List.of(writer(primary, acks, stopWriters), writer(primary, acks, stopWriters));
        int failAfter = random.nextInt(3);
        int closeAfterMicros = random.nextInt(3_000);
        AtomicBoolean closed = new AtomicBoolean();
        // even rounds: the failure alone must end every ack (close comes after); odd rounds: they race
        boolean failFirst = round % 2 == 0;
        Worker failer = Worker.start("failer", () -> {
            while (acks.size() < failAfter * 10 && !closed.get()) {
                Thread.onSpinWait();
            }
            storage.throwOnNextPut(ObjectKey.LOG_PREFIX, new IllegalStateException("storage client bug"));
        });
        if (failFirst) {
            failer.join(BOUND);
            for (Ack<Void> ack : List.copyOf(acks)) {
                try {
                    ack.get(BOUND);
                } catch (NotStoredException e) {
                    // the failure, on every waiting ack
                } catch (TimeoutException e) {
                    throw new AssertionError("round " + round + ": the stage failure left txid " + ack.txid()
                            + " waiting", e);
                }
            }
        }
        Worker closer = Worker.start("closer", () -> {
            long until = System.nanoTime() + closeAfterMicros * 1_000L;
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            assertTimeoutPreemptively(BOUND, primary::close, "round " + round + ": close");
            closed.set(true);
        });
        failer.join(BOUND);
        closer.join(BOUND);
        stopWriters.set(true);
        for (Worker writer : writers) {
            writer.join(BOUND);
        }

        long storedAcked = -1;
        for (Ack<Void> ack : acks) {
            try {
                ack.get(BOUND);
                storedAcked = Math.max(storedAcked, ack.txid());
            } catch (NotStoredException e) {
                // failed or closed before it was stored: said so, as it must be
            } catch (TimeoutException e) {
                throw new AssertionError("round " + round + ": ack of txid " + ack.txid() + " never ended", e);
            }
        }
        assertThat(primary.status().health()).as("round %d", round).isIn(Health.FAILED, Health.CLOSED);
        if (storedAcked >= 0) {
            Path restored = dir.resolve("restored-" + round + ".db");
            assertThat(Restore.run(memory, restored, RestoreTarget.latest()).txid())
                    .as("round %d: every stored ack is in storage", round).isGreaterThanOrEqualTo(storedAcked);
            Files.delete(restored);
        }
    }

    /** Commits single-row transactions until stopped or refused; keeps every ack. */
    private static Worker writer(Primary primary, List<Ack<Void>> acks, AtomicBoolean stop) {
        return Worker.start("writer", () -> {
            while (!stop.get()) {
                try {
                    acks.add(primary.write(conn -> exec(conn, "insert into t values (1)")));
                } catch (NotStoredException | IllegalStateException | java.sql.SQLException refused) {
                    return; // failed or closed: later writes are refused, as they must be
                }
            }
        });
    }
}
