package io.walship;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.internal.log.ObjectKey;
import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.storage.ForwardingStorage;
import io.walship.storage.Storage;
import io.walship.testing.MemoryStorage;
import io.walship.testing.SqliteCli;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two primaries on one storage: exactly one keeps writing, the other stops with a fencing error.
 * Racing writers with a following replica: {@code it.SplitBrainTest}.
 */
class FencingTest {
    @TempDir
    Path dir;

    @Test
    void write_secondPrimaryBehindTheFirst_isFenced() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        try (Primary first = Primary.open(storage, dir.resolve("a.db"), PrimaryOptions.durable())) {
            first.write(conn -> exec(conn, "create table t(x)")).get();
            try (Primary second = Primary.open(storage, dir.resolve("b.db"), PrimaryOptions.durable())) {
                first.write(conn -> exec(conn, "insert into t values (1)")).get();

                Ack<Void> lost = second.write(conn -> exec(conn, "insert into t values (2)"));
                assertThatThrownBy(lost::get).isInstanceOf(FencedException.class)
                        .hasMessageContaining("key=log/0000000000000002")
                        .hasMessageContaining("txid=2");
                assertThatThrownBy(() -> second.write(conn -> exec(conn, "insert into t values (3)")))
                        .isInstanceOf(FencedException.class);
            }
            first.write(conn -> exec(conn, "insert into t values (4)")).get();
        }
        assertThat(queryLong(Restore.run(storage, dir.resolve("r.db"), RestoreTarget.latest()).path(),
                "select sum(x) from t")).isEqualTo(5);
    }

    /**
     * Both primaries look at the empty storage before either stores its snapshot at txid 0, so
     * both bootstrap and race for {@code snapshots/0}: in every round exactly one wins and the
     * other is fenced, its file kept. A primary's last look is not its listing but asking for
     * {@code snapshots/0} by key (a listing is a hint), so a latch holds each there until the
     * other has asked too. Regression: with the latch on the listing only, a primary that stored
     * its snapshot between the other's listing and its asking made the other adopt that history
     * instead of racing for the key (round 18 of a CI run on a busy machine).
     */
    @Test
    void open_twoPrimariesBootstrappingOneStorage_exactlyOneWinsEveryRound() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 20; round++) {
                MemoryStorage memory = new MemoryStorage();
                CountDownLatch bothLooked = new CountDownLatch(2);
                String firstSnapshot = ObjectKey.snapshot(0);
                Storage racing = new ForwardingStorage(memory) {
                    @Override
                    public Optional<byte[]> getRange(String key, long offset, int length) {
                        Optional<byte[]> found = super.getRange(key, offset, length);
                        if (key.equals(firstSnapshot)) {
                            bothLooked.countDown();
                            try {
                                assertThat(bothLooked.await(10, TimeUnit.SECONDS)).as("the other primary looked").isTrue();
                            } catch (InterruptedException e) {
                                throw new AssertionError(e);
                            }
                        }
                        return found;
                    }
                };
                List<String> names = List.of("a", "b");
                List<Future<Primary>> opens = new ArrayList<>();
                for (String name : names) {
                    Path db = dir.resolve(round + "-" + name + ".db");
                    SqliteCli.run(db, "create table " + name + "(x); insert into " + name + " values (1);");
                    opens.add(pool.submit(() -> Primary.open(racing, db, PrimaryOptions.durable())));
                }
                List<Primary> winners = new ArrayList<>();
                List<Throwable> losers = new ArrayList<>();
                String table = null;
                for (int i = 0; i < opens.size(); i++) {
                    try {
                        winners.add(opens.get(i).get(30, TimeUnit.SECONDS));
                        table = names.get(i);
                    } catch (ExecutionException e) {
                        losers.add(e.getCause());
                    }
                }
                assertThat(winners).as("round %d", round).hasSize(1);
                assertThat(losers).as("round %d", round).singleElement().isInstanceOf(FencedException.class)
                        .satisfies(e -> assertThat(e.getMessage()).contains("snapshots/0000000000000000"));
                Primary winner = winners.get(0);
                String winnerTable = table;
                winner.write(conn -> exec(conn, "insert into " + winnerTable + " values (2)")).get();
                winner.close();
                assertThat(winner.openOutcome().kind()).isEqualTo(OpenOutcome.Kind.BOOTSTRAPPED);
                Path restored = Restore.run(memory, dir.resolve(round + "-restored.db"), RestoreTarget.latest()).path();
                assertThat(queryLong(restored, "select sum(x) from " + winnerTable)).as("the winner's history").isEqualTo(3);
                for (String name : List.of("a", "b")) {
                    assertThat(dir.resolve(round + "-" + name + ".db")).as("never lost").exists();
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
