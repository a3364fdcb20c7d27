package io.walship.replica;

import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.SqlWork;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.Await;
import io.walship.testing.LiveThreads;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replica.onApplied: every txid once and in order, the right table names, and never in the way of applying. */
class AppliedListenerTest {
    private static final Duration BOUND = Duration.ofSeconds(30);

    @TempDir
    Path dir;
    private Storage storage;

    @BeforeEach
    void storage() throws Exception {
        storage = FileSystemStorage.open(dir.resolve("storage"));
    }

    /** Runs {@code work} on the primary and returns the tables the replica's listener was told it changed. */
    private static Set<String> tablesOf(Primary primary, Replica replica, List<AppliedBatch> seen, SqlWork work)
            throws Exception {
        long before = primary.txid();
        long txid = primary.write(work).get();
        if (txid == before) {
            return Set.of(); // nothing written (a delete that matched no row): no transaction
        }
        assertThat(replica.awaitTxid(txid, BOUND)).isTrue();
        Await.until("listener reaches txid " + txid, BOUND,
                () -> !seen.isEmpty() && seen.get(seen.size() - 1).lastTxid() == txid);
        Set<String> tables = new TreeSet<>();
        for (AppliedBatch batch : seen) {
            if (batch.firstTxid() > before) {
                tables.addAll(batch.tables());
            }
        }
        return tables;
    }

    @Test
    void listener_namesTheTablesOfInsertsUpdatesDeletesDdlAndVacuum() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table seed(x)")).get();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
                replica.follow();
                List<AppliedBatch> seen = new CopyOnWriteArrayList<>();
                replica.onApplied(seen::add);

                assertThat(tablesOf(primary, replica, seen, conn -> {
                    exec(conn, "create table a(id integer primary key, v)");
                    exec(conn, "create table b(id integer primary key, v text)");
                    exec(conn, "create index b_v on b(v)");
                })).containsExactly("a", "b", "sqlite_schema");
                assertThat(tablesOf(primary, replica, seen, conn -> exec(conn, "insert into a values (1, 'one')")))
                        .containsExactly("a");
                assertThat(tablesOf(primary, replica, seen, conn -> exec(conn, "insert into b values (1, 'x')")))
                        .as("an index page names its table").containsExactly("b");
                assertThat(tablesOf(primary, replica, seen, conn -> exec(conn, "update a set v = 'uno' where id = 1")))
                        .containsExactly("a");
                assertThat(tablesOf(primary, replica, seen, conn -> exec(conn, "delete from b where id = 1")))
                        .containsExactly("b");
                assertThat(tablesOf(primary, replica, seen, conn -> exec(conn,
                        "insert into a values (2, zeroblob(20000))"))).as("overflow chain").containsExactly("a");
                assertThat(tablesOf(primary, replica, seen, conn -> exec(conn,
                        "update a set v = randomblob(20000) where id = 2")))
                        .as("same-size update rewriting overflow pages").containsExactly("a");
                assertThat(tablesOf(primary, replica, seen, conn -> exec(conn,
                        series(10, 3000) + "insert into b select value, hex(randomblob(40)) from s")))
                        .as("page splits").containsExactly("b");
                assertThat(tablesOf(primary, replica, seen, conn -> exec(conn, "delete from a")))
                        .as("pages freed").containsExactly("a");
                assertThat(tablesOf(primary, replica, seen, conn -> exec(conn,
                        series(5000, 5100) + "insert into b select value, hex(randomblob(400)) from s")))
                        .as("pages taken from the freelist a filled").containsExactly("b");
                assertThat(tablesOf(primary, replica, seen, conn -> exec(conn,
                        "create table c(k text primary key, v) without rowid")))
                        .containsExactly("c", "sqlite_schema");
                assertThat(tablesOf(primary, replica, seen, conn -> exec(conn,
                        series(1, 500) + "insert into c select 'k' || value, value from s")))
                        .containsExactly("c");
                assertThat(tablesOf(primary, replica, seen, conn -> exec(conn, "drop table a")))
                        .containsExactly("a", "sqlite_schema");
                assertThat(tablesOf(primary, replica, seen, conn -> {
                    conn.setAutoCommit(true);
                    exec(conn, "vacuum");
                })).as("vacuum moves every page").containsExactly("b", "c", "seed", "sqlite_schema");
                assertThat(tablesOf(primary, replica, seen, conn -> exec(conn, "update c set v = -v where v < 10")))
                        .as("after vacuum").containsExactly("c");
                assertEveryTxidOnceInOrder(seen, seen.get(0).firstTxid(), primary.txid());
                // the first build, then one per schema change: three DDL batches and the vacuum
                assertThat(replica.tableMapRebuilds()).isEqualTo(5);
            }
        }
    }

    /**
     * A random mix of writes to five tables (rows of every size, indexes, deletes that free pages
     * and inserts that take them back), each transaction's tables known to the writer: every
     * batch names exactly the tables its transactions wrote.
     */
    @Test
    void listener_randomWritesToSeveralTables_namesExactlyTheTablesWritten() throws Exception {
        Random random = new Random(17);
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> {
                for (int t = 0; t < 5; t++) {
                    exec(conn, "create table t" + t + "(id integer primary key, v, w text)");
                    if (t % 2 == 0) {
                        exec(conn, "create index t" + t + "_w on t" + t + "(w)");
                    }
                }
            }).get();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
                replica.follow();
                List<AppliedBatch> seen = new CopyOnWriteArrayList<>();
                replica.onApplied(seen::add);
                for (int round = 0; round < 150; round++) {
                    Set<String> written = new TreeSet<>();
                    List<String> statements = new ArrayList<>();
                    for (int n = 1 + random.nextInt(2); n > 0; n--) {
                        String table = "t" + random.nextInt(5);
                        written.add(table);
                        statements.add(randomWrite(random, table));
                    }
                    Set<String> named = tablesOf(primary, replica, seen, conn -> {
                        for (String sql : statements) {
                            exec(conn, sql);
                        }
                    });
                    // an update or delete that matched nothing writes no page: such a table may be missing
                    assertThat(written).as("round %d: %s", round, statements).containsAll(named);
                    assertThat(named).as("round %d: %s", round, statements).containsAll(changed(statements));
                }
                assertEveryTxidOnceInOrder(seen, seen.get(0).firstTxid(), primary.txid());
                assertThat(replica.tableMapRebuilds()).as("built once, then kept up to date page by page").isEqualTo(1);
            }
        }
    }

    /** The tables of statements certain to change a row: inserts (an update or delete may match none). */
    private static Set<String> changed(List<String> statements) {
        Set<String> tables = new TreeSet<>();
        for (String sql : statements) {
            String[] words = sql.replaceFirst("^with recursive .*? where value < \\d+\\) ", "").split(" ");
            if (words[0].equals("insert")) {
                tables.add(words[2].replaceFirst("\\(.*", ""));
            }
        }
        return tables;
    }

    private static String randomWrite(Random random, String table) {
        switch (random.nextInt(4)) {
            case 0:
                return series(1, 1 + random.nextInt(40)) + "insert into " + table + "(v, w) select randomblob("
                        + sizes(random) + "), hex(randomblob(" + random.nextInt(60) + ")) from s";
            case 1:
                return "update " + table + " set v = randomblob(" + sizes(random) + ")";
            case 2:
                return "delete from " + table + " where id % " + (2 + random.nextInt(3)) + " = 0";
            default:
                return "insert into " + table + "(v, w) values (randomblob(" + (5000 + random.nextInt(30000))
                        + "), 'big')";
        }
    }

    /** A CTE {@code s(value)} counting from {@code from} to {@code to}, to put before an insert. */
    private static String series(int from, int to) {
        return "with recursive s(value) as (select " + from + " union all select value + 1 from s where value < " + to
                + ") ";
    }

    private static int sizes(Random random) {
        return random.nextInt(10) == 0 ? 3000 + random.nextInt(9000) : random.nextInt(300);
    }

    private static void assertEveryTxidOnceInOrder(List<AppliedBatch> seen, long first, long last) {
        long next = first;
        for (AppliedBatch batch : seen) {
            assertThat(batch.firstTxid()).as("batch after txid %d", next - 1).isEqualTo(next);
            assertThat(batch.firstCommit()).isBeforeOrEqualTo(batch.lastCommit());
            next = batch.lastTxid() + 1;
        }
        assertThat(next - 1).isEqualTo(last);
    }

    @Test
    void sleepingListener_doesNotHoldBackApplying_andLaterGetsEveryTxidOnce() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            long start = primary.write(conn -> exec(conn, "create table t(x)")).get();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
                replica.follow();
                List<AppliedBatch> slow = new CopyOnWriteArrayList<>();
                List<AppliedBatch> fast = new CopyOnWriteArrayList<>();
                replica.onApplied(batch -> {
                    try {
                        Thread.sleep(2_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    slow.add(batch);
                });
                replica.onApplied(fast::add);
                long last = 0;
                for (int i = 0; i < 40; i++) {
                    last = primary.write(conn -> exec(conn, "insert into t values (1)")).get();
                    // forty batches behind a listener sleeping 2 s each would take 80 s
                    assertThat(replica.awaitTxid(last, Duration.ofSeconds(5))).as("txid %d", last).isTrue();
                }
                long end = last;
                Await.until("fast listener sees txid " + end, BOUND,
                        () -> !fast.isEmpty() && fast.get(fast.size() - 1).lastTxid() == end);
                Await.until("slow listener catches up to txid " + end, BOUND,
                        () -> !slow.isEmpty() && slow.get(slow.size() - 1).lastTxid() == end);
                assertThat(slow.size()).as("missed batches come as one").isLessThan(fast.size());
                assertEveryTxidOnceInOrder(slow, start + 1, end);
                assertEveryTxidOnceInOrder(fast, start + 1, end);
                assertThat(slow.get(slow.size() - 1).tables()).containsExactly("t");
            }
        }
    }

    @Test
    void failingListener_getsTheNextBatch_andRemovedListenerGetsNoMore() throws Exception {
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
                replica.follow();
                AtomicInteger calls = new AtomicInteger();
                Consumer<AppliedBatch> failing = batch -> {
                    calls.incrementAndGet();
                    throw new IllegalStateException("listener bug");
                };
                replica.onApplied(failing);
                long first = primary.write(conn -> exec(conn, "insert into t values (1)")).get();
                Await.until("first call", BOUND, () -> calls.get() == 1);
                long second = primary.write(conn -> exec(conn, "insert into t values (2)")).get();
                assertThat(second).isEqualTo(first + 1);
                Await.until("second call", BOUND, () -> calls.get() == 2);
                assertThat(replica.removeOnApplied(failing)).isTrue();
                assertThat(replica.removeOnApplied(failing)).isFalse();
                // its delivery thread ends: from then on nothing can call it, whatever the machine's load
                Await.until("removed listener's thread ended", BOUND,
                        () -> LiveThreads.named("walship-listener-replica.db-1") == 0);
                long third = primary.write(conn -> exec(conn, "insert into t values (3)")).get();
                assertThat(replica.awaitTxid(third, BOUND)).isTrue();
                assertThat(calls.get()).isEqualTo(2);
            }
        }
    }
}
