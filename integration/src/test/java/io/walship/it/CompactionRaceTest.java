package io.walship.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Ack;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.TxidRange;
import io.walship.compaction.CompactionPolicy;
import io.walship.compaction.CompactionResult;
import io.walship.compaction.Compactor;
import io.walship.internal.log.LogCatalog;
import io.walship.internal.log.StoredHistory;
import io.walship.replica.Replica;
import io.walship.replica.ReplicaOptions;
import io.walship.restore.Restore;
import io.walship.restore.Verifier;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.CheckedHistory;
import io.walship.testing.Heavy;
import io.walship.testing.MisleadingListings;
import io.walship.testing.Worker;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compaction racing everything at once, on a loaded machine: two DURABLE writers (so segments
 * hold several transactions and span block boundaries), a following replica, two compactors
 * running back to back with a short grace period, file storage whose listings omit, delay and
 * reorder keys and whose writes are delayed, and busy threads taking the CPU. After every round
 * of the compactor nothing it did may have cost a txid: it reports no hole or damage, and the
 * history proven from the objects' own headers (on an honest listing) is one range reaching every
 * acknowledged txid; every 250 rounds {@code verify} replays it all, checking the database checksum
 * after every txid. At the end {@code verify} passes again, 280 txids (the first and last 40, and
 * 200 spread between) restore to exactly the rows the primary held, and the replica holds the latest.
 *
 * <p>Regression: under load average 4-14 a level-1 object was written with 15 of its block's 16
 * txids (the listing had missed the last segment while showing later ones) and the 16th was then
 * deleted as replaced. The rounds run {@code walship.compactionRaceRounds} times (1,500 by default,
 * 20,000 under {@code -Psoak}).
 */
@Heavy
class CompactionRaceTest {
    private static final int ROUNDS = Integer.getInteger("walship.compactionRaceRounds", 1_500);
    private static final Duration GRACE = Duration.ofMillis(50);

    @TempDir
    Path dir;

    @Test
    @Timeout(1800)
    void compactionUnderLoad_withMisleadingListings_neverCostsATxid() throws Exception {
        race(null);
    }

    /** The same race through encryption: listings of sealed objects, compacted objects sealed anew. */
    @Test
    @Timeout(1800)
    void compactionUnderLoad_withMisleadingListings_throughEncryption_neverCostsATxid() throws Exception {
        byte[] key = new byte[32];
        new java.util.Random(27).nextBytes(key);
        race(io.walship.encryption.Encryption.with(io.walship.encryption.KeyProvider.of(java.util.Map.of("race", key))));
    }

    /** @param encryption how everything is stored, or null: plaintext */
    private void race(io.walship.encryption.Encryption encryption) throws Exception {
        FileSystemStorage plainFiles = FileSystemStorage.open(dir.resolve("storage"));
        MisleadingListings misleading = new MisleadingListings(plainFiles, 11).omit(0.03).late(4).stale(4)
                .shuffled().delayPutsUpTo(2);
        // what the writers, the replica and the compactors use; `files`: what the checks read, honestly
        io.walship.storage.Storage storage = encryption == null ? misleading : encryption.wrap(misleading);
        io.walship.storage.Storage files = encryption == null ? plainFiles : encryption.wrap(plainFiles);
        CheckedHistory history = new CheckedHistory(11);
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong acked = new AtomicLong();
        List<Worker> load = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            load.add(Worker.busy("busy-" + i, stop));
        }
        PrimaryOptions options = PrimaryOptions.builder().compaction(null).build();
        CompactionPolicy policy = CompactionPolicy.defaults().withGrace(GRACE);
        try (Primary primary = Primary.open(storage, dir.resolve("app.db"), options);
             Replica replica = Replica.open(storage, dir.resolve("replica.db"),
                     ReplicaOptions.builder().pollInterval(Duration.ofMillis(5)).build());
             Compactor compactor = new Compactor(storage, policy, java.time.InstantSource.system(),
                     dir.resolve("work"));
             Compactor rival = new Compactor(storage, policy, java.time.InstantSource.system(),
                     dir.resolve("work"))) {
            acked.set(history.createTable(primary));
            replica.follow();
            for (int i = 0; i < 2; i++) {
                load.add(Worker.start("writer-" + i, () -> {
                    while (!stop.get()) {
                        Ack<Void> ack = history.writeOneUnacked(primary);
                        long txid = ack.get(Duration.ofSeconds(60));
                        acked.accumulateAndGet(txid, Math::max);
                        Thread.sleep(3); // a busy service, not a bulk load: a few hundred transactions a second
                    }
                }));
            }
            load.add(Worker.start("rival-compactor", () -> {
                while (!stop.get()) {
                    assertThat(rival.run().problems()).as("the rival compactor's findings").isEmpty();
                }
            }));
            StoredHistory.Headers headers = new StoredHistory.Headers(); // the check's own, read from the objects
            long created = 0;
            long replaced = 0;
            for (int round = 1; round <= ROUNDS; round++) {
                long stored = acked.get();
                CompactionResult result = compactor.run();
                assertThat(result.problems()).as("round %d found", round).isEmpty();
                created += result.created();
                replaced += result.replaced();
                StoredHistory proven = StoredHistory.read(files, LogCatalog.list(files), headers);
                assertThat(proven.holes()).as("round %d: holes", round).isEmpty();
                assertThat(proven.restorable()).as("round %d: restorable", round).hasSize(1);
                assertThat(proven.restorable().get(0).last()).as("round %d: every acked txid", round)
                        .isGreaterThanOrEqualTo(stored);
                if (round % 250 == 0) {
                    Verifier.Report report = Verifier.verify(files, dir, Restore.Progress.NONE);
                    assertThat(report.problem()).as("round %d: verify", round).isEmpty();
                }
            }
            stop.set(true);
            for (Worker worker : load) {
                worker.join(Duration.ofSeconds(120));
            }
            long latest = primary.flush().get(Duration.ofSeconds(60));
            misleading.honest();
            compactor.run();
            Thread.sleep(GRACE.toMillis() * 2);
            CompactionResult settled = compactor.run();
            assertThat(settled.problems()).isEmpty();
            assertThat(created).as("this compactor wrote compacted objects (its rival others)").isPositive();
            assertThat(LogCatalog.list(files).level(0)).as("small segments left of %d txids", latest)
                    .hasSizeLessThan((int) (latest / 4));

            assertThat(replica.awaitTxid(latest, Duration.ofSeconds(90))).as("replica at %d, now %d", latest,
                    replica.txid()).isTrue();
            assertThat(Verifier.verify(files, dir, Restore.Progress.NONE).problem()).isEmpty();
            TxidRange range = StoredHistory.read(files).restorable().get(0);
            assertThat(range.last()).isEqualTo(latest);
            // verify proved every txid's database checksum; these compare rows too: the first and last
            // blocks whole, and 200 txids spread over the rest
            long first = Math.max(1, range.first());
            java.util.TreeSet<Long> sample = new java.util.TreeSet<>();
            for (long txid = first; txid <= Math.min(latest, first + 40); txid++) {
                sample.add(txid);
            }
            for (long txid = Math.max(first, latest - 40); txid <= latest; txid++) {
                sample.add(txid);
            }
            for (int i = 0; i < 200; i++) {
                sample.add(first + (latest - first) * i / 200);
            }
            for (long txid : sample) {
                history.assertRestoresExactly(files, txid, dir);
            }
            replica.read(conn -> {
                history.assertState(conn, latest);
                return null;
            });
            System.out.printf("compaction race: %d rounds, %d txids, %d compacted objects written and %d objects"
                    + " replaced by this compactor, %d restores checked%n", ROUNDS, latest, created, replaced,
                    sample.size());
        } finally {
            stop.set(true);
        }
    }
}
