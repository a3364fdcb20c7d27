package io.walship;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.walship.restore.Restore;
import io.walship.restore.RestoreTarget;
import io.walship.testing.MemoryStorage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two primaries on one storage: exactly one keeps writing, the other stops with a fencing error. */
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

    @Test
    void write_twoPrimariesRacing_exactlyOneWinsEveryRound() throws Exception {
        for (int round = 0; round < 10; round++) {
            MemoryStorage storage = new MemoryStorage();
            Path a = dir.resolve("a" + round + ".db");
            Path b = dir.resolve("b" + round + ".db");
            try (Primary seed = Primary.open(storage, a, PrimaryOptions.durable())) {
                seed.write(conn -> exec(conn, "create table t(who text, n int)")).get();
            }
            List<Primary> primaries = List.of(Primary.open(storage, a, PrimaryOptions.durable()),
                    Primary.open(storage, b, PrimaryOptions.durable()));
            CountDownLatch start = new CountDownLatch(1);
            List<AtomicLong> stored = List.of(new AtomicLong(), new AtomicLong());
            List<AtomicReference<Throwable>> errors = List.of(new AtomicReference<>(), new AtomicReference<>());
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                int who = i;
                threads.add(new Thread(() -> {
                    try {
                        start.await();
                        for (int n = 0; n < 30; n++) {
                            int value = n;
                            primaries.get(who).write(conn -> exec(conn, "insert into t values ('" + who + "', "
                                    + value + ")")).get();
                            stored.get(who).incrementAndGet();
                        }
                    } catch (Throwable t) {
                        errors.get(who).set(t);
                    }
                }));
            }
            threads.forEach(Thread::start);
            start.countDown();
            for (Thread t : threads) {
                t.join();
            }
            primaries.forEach(Primary::close);

            long fenced = errors.stream().filter(e -> e.get() instanceof FencedException).count();
            assertThat(fenced).as("round %d: %s", round, errors).isEqualTo(1);
            int winner = errors.get(0).get() == null ? 0 : 1;
            assertThat(errors.get(winner).get()).isNull();
            assertThat(stored.get(winner).get()).isEqualTo(30);
            Path restored = Restore.run(storage, dir.resolve("r" + round + ".db"), RestoreTarget.latest()).path();
            assertThat(queryLong(restored, "select count(*) from t where who = '" + winner + "'")).isEqualTo(30);
            assertThat(queryLong(restored, "select count(*) from t where who <> '" + winner + "'"))
                    .as("nothing of the loser is visible").isZero();
        }
    }

    @Test
    void open_twoPrimariesBootstrappingOneStorage_oneIsFenced() {
        MemoryStorage storage = new MemoryStorage();
        io.walship.testing.SqliteCli.run(dir.resolve("x.db"), "create table x(a);");
        try (Primary first = Primary.open(storage, dir.resolve("y.db"), PrimaryOptions.durable())) {
            // storage now has a snapshot at 0 of y.db: x.db is rebuilt, not bootstrapped
            try (Primary second = Primary.open(storage, dir.resolve("x.db"), PrimaryOptions.durable())) {
                assertThat(second.txid()).isZero();
            }
        }
        assertThat(dir.resolve("x.db")).exists();
    }
}
