package io.walship.replica;

import static io.walship.testing.Rows.exec;
import static io.walship.testing.Rows.queryLong;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.ReadConnection;
import io.walship.metrics.WalshipMeter;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.testing.Worker;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.jdbi.v3.core.Jdbi;
import org.jooq.DSLContext;
import org.jooq.Record;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replica.dataSource() and Primary.dataSource() as the JDBC libraries applications use them see
 * them: whole transactions on every read while the replica follows a writing primary, and the
 * txid each connection reads.
 */
class ReplicaDataSourceTest {
    private static final Duration BOUND = Duration.ofSeconds(30);
    private static final int WRITES = 300;
    /** Each write moves money between two accounts and logs it: the sum never changes, the log grows by one. */
    private static final String INVARIANT = "select (select sum(balance) from account), (select n from meta),"
            + " (select count(*) from moves)";

    @TempDir
    Path dir;

    @Test
    void hikariJdbiAndJooq_readWhileTheReplicaFollowsAWritingPrimary_seeOnlyWholeTransactions() throws Exception {
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            long setUp = primary.write(conn -> {
                exec(conn, "create table account(id integer primary key, balance integer)");
                exec(conn, "create table meta(n integer)");
                exec(conn, "create table moves(id integer primary key, amount integer, note text)");
                exec(conn, "insert into account values (1, 600), (2, 400)");
                exec(conn, "insert into meta values (0)");
            }).get();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"))) {
                replica.follow();
                AtomicBoolean writing = new AtomicBoolean(true);
                Worker writer = Worker.start("writer", () -> {
                    try {
                        for (int i = 1; i <= WRITES; i++) {
                            int amount = i % 7 - 3;
                            String note = "x".repeat(i % 50);
                            primary.write(conn -> {
                                exec(conn, "update account set balance = balance - " + amount + " where id = 1");
                                exec(conn, "insert into moves(amount, note) values (" + amount + ", '" + note + "')");
                                exec(conn, "update account set balance = balance + " + amount + " where id = 2");
                                exec(conn, "update meta set n = n + 1");
                            }).get();
                        }
                    } finally {
                        writing.set(false);
                    }
                });
                HikariConfig config = new HikariConfig();
                config.setDataSource(replica.dataSource());
                config.setMaximumPoolSize(2); // below the replica's four read connections
                config.setPoolName("replica");
                try (HikariDataSource hikari = new HikariDataSource(config)) {
                    Jdbi jdbi = Jdbi.create(replica.dataSource());
                    DSLContext jooq = DSL.using(replica.dataSource(), SQLDialect.SQLITE);
                    List<Worker> readers = List.of(
                            Worker.start("hikari", () -> readUntil(writing, hikari, setUp)),
                            Worker.start("jdbi", () -> {
                                long reads = 0;
                                while (writing.get() || reads == 0) {
                                    List<Long> row = jdbi.withHandle(h -> h.createQuery(INVARIANT)
                                            .map((rs, ctx) -> List.of(rs.getLong(1), rs.getLong(2), rs.getLong(3)))
                                            .one());
                                    assertThat(row.get(0)).isEqualTo(1000);
                                    assertThat(row.get(1)).isEqualTo(row.get(2));
                                    reads++;
                                }
                            }),
                            Worker.start("jooq", () -> {
                                long reads = 0;
                                while (writing.get() || reads == 0) {
                                    Record row = jooq.resultQuery(INVARIANT).fetchOne();
                                    assertThat(row.get(0, Long.class)).isEqualTo(1000);
                                    assertThat(row.get(1, Long.class)).isEqualTo(row.get(2, Long.class));
                                    reads++;
                                }
                            }));
                    writer.join(BOUND);
                    for (Worker reader : readers) {
                        reader.join(BOUND);
                    }
                    assertThat(replica.awaitTxid(primary.txid(), BOUND)).isTrue();
                    try (Connection conn = hikari.getConnection()) {
                        assertThat(queryLong(conn, "select count(*) from moves")).isEqualTo(WRITES);
                    }
                }
            }
        }
    }

    /**
     * Reads in transactions through Hikari: within one, two statements see one state, and the
     * connection's txid is exactly the state read (one logged move per txid after the set-up).
     */
    private static void readUntil(AtomicBoolean writing, DataSource ds, long setUp) throws SQLException {
        long reads = 0;
        long lastTxid = 0;
        while (writing.get() || reads == 0) {
            try (Connection conn = ds.getConnection()) {
                conn.setAutoCommit(false);
                long moves = queryLong(conn, "select count(*) from moves");
                long sum = queryLong(conn, "select sum(balance) from account");
                long n = queryLong(conn, "select n from meta");
                long txid = conn.unwrap(ReadConnection.class).txid();
                conn.commit();
                assertThat(sum).isEqualTo(1000);
                assertThat(n).as("second statement of the transaction").isEqualTo(moves);
                assertThat(moves).as("rows at txid %d", txid).isEqualTo(txid - setUp);
                assertThat(txid).isGreaterThanOrEqualTo(lastTxid);
                lastTxid = txid;
                reads++;
            }
        }
    }

    /**
     * Regression: a statement run while a result set of the same connection is still open (a query
     * per row of another) waited for a batch that waited for the open result set, five seconds
     * each time, until SQLite's busy timeout failed the batch.
     */
    @Test
    void queryPerRowOfAnOpenResultSet_whileBatchesApply_neitherWaitsForTheOther() throws Exception {
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> {
                exec(conn, "create table t(id integer primary key, x)");
                exec(conn, "insert into t(x) values (1), (2), (3), (4), (5)");
            }).get();
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"),
                    ReplicaOptions.builder().meterRegistry(registry).build())) {
                replica.follow();
                AtomicBoolean writing = new AtomicBoolean(true);
                Worker writer = Worker.start("writer", () -> {
                    try {
                        for (int i = 0; i < 100; i++) {
                            primary.write(conn -> exec(conn, "update t set x = x + 1 where id = 1")).get();
                        }
                    } finally {
                        writing.set(false);
                    }
                });
                long started = System.nanoTime();
                int outerRows = 0;
                while (writing.get()) {
                    try (Connection conn = replica.dataSource().getConnection();
                         Statement outer = conn.createStatement();
                         ResultSet rows = outer.executeQuery("select id from t")) {
                        while (rows.next()) {
                            Thread.sleep(1); // let a batch start waiting for this read
                            assertThat(queryLong(conn, "select count(*) from t where id = " + rows.getLong(1)))
                                    .isEqualTo(1);
                            outerRows++;
                        }
                    }
                }
                writer.join(BOUND);
                assertThat(replica.awaitTxid(primary.txid(), BOUND)).isTrue();
                assertThat(outerRows).isPositive();
                assertThat(registry.find(WalshipMeter.REPLICA_ERRORS.meterName()).counters())
                        .as("no batch failed busy").isEmpty();
                assertThat(Duration.ofNanos(System.nanoTime() - started)).as("no five-second stalls")
                        .isLessThan(Duration.ofSeconds(5));
            }
        }
    }

    @Test
    void connections_refuseWritesAndStayReadOnly_andUnwrapToReadConnection() throws Exception {
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            long txid = primary.write(conn -> exec(conn, "create table t(x)")).get();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"));
                 Connection conn = replica.dataSource().getConnection()) {
                conn.setReadOnly(false);
                assertThat(conn.isReadOnly()).isTrue();
                assertThatThrownBy(() -> exec(conn, "insert into t values (1)")).isInstanceOf(SQLException.class)
                        .hasMessageContaining("readonly");
                assertThat(conn.isWrapperFor(ReadConnection.class)).isTrue();
                assertThat(conn.unwrap(ReadConnection.class).txid()).isEqualTo(txid);
                assertThat(replica.dataSource().isWrapperFor(DataSource.class)).isTrue();
            }
            try (Connection conn = primary.dataSource().getConnection()) {
                assertThatThrownBy(() -> exec(conn, "insert into t values (1)")).isInstanceOf(SQLException.class);
                assertThat(conn.unwrap(ReadConnection.class).txid()).isEqualTo(txid);
            }
        }
    }

    @Test
    void getConnection_everyConnectionLent_failsTransientlyAfterTheLoginTimeout_andWorksOnceOneIsBack()
            throws Exception {
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"),
                    ReplicaOptions.builder().readConnections(1).build())) {
                DataSource ds = replica.dataSource();
                ds.setLoginTimeout(1);
                Connection only = ds.getConnection();
                assertThatThrownBy(ds::getConnection).isInstanceOf(SQLTransientConnectionException.class)
                        .hasMessageContaining("no read connection came free within 1 s")
                        .hasMessageContaining("connections=1");
                only.close();
                only.close(); // twice is harmless
                assertThat(only.isClosed()).isTrue();
                assertThatThrownBy(() -> only.createStatement()).isInstanceOf(SQLException.class)
                        .hasMessageContaining("closed");
                try (Connection again = ds.getConnection()) {
                    assertThat(queryLong(again, "select count(*) from t")).isZero();
                }
            }
        }
    }

    /**
     * Regression: a result set left open by a borrower would keep SQLite's SHARED lock, and every apply out, for good.
     */
    @Test
    void close_withAResultSetLeftOpen_closesItSoTheReplicaGoesOnApplying() throws Exception {
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> {
                exec(conn, "create table t(x)");
                exec(conn, "insert into t values (1), (2), (3)");
            }).get();
            try (Replica replica = Replica.open(storage, dir.resolve("replica.db"),
                    ReplicaOptions.builder().readConnections(1).build())) {
                replica.follow();
                Connection conn = replica.dataSource().getConnection();
                Statement statement = conn.createStatement();
                ResultSet open = statement.executeQuery("select x from t");
                assertThat(open.next()).isTrue();
                conn.close();
                assertThat(statement.isClosed()).isTrue();
                long txid = primary.write(c -> exec(c, "insert into t values (4)")).get();
                assertThat(replica.awaitTxid(txid, BOUND)).isTrue();
                try (Connection next = replica.dataSource().getConnection()) {
                    assertThat(queryLong(next, "select count(*) from t")).isEqualTo(4);
                    assertThat(next.unwrap(ReadConnection.class).txid()).isEqualTo(txid);
                }
            }
        }
    }

    @Test
    void primaryDataSource_throughHikari_readsCommittedRows_withATxidThatIsALowerBound() throws Exception {
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.async())) {
            long setUp = primary.write(conn -> exec(conn, "create table t(x)")).txid();
            HikariConfig config = new HikariConfig();
            config.setDataSource(primary.dataSource());
            config.setMaximumPoolSize(2);
            try (HikariDataSource hikari = new HikariDataSource(config)) {
                AtomicLong written = new AtomicLong();
                for (int i = 0; i < 50; i++) {
                    primary.write(conn -> exec(conn, "insert into t values (1)"));
                    written.incrementAndGet();
                    try (Connection conn = hikari.getConnection()) {
                        long rows = queryLong(conn, "select count(*) from t");
                        long txid = conn.unwrap(ReadConnection.class).txid();
                        assertThat(rows).isEqualTo(written.get());
                        assertThat(txid - setUp).isLessThanOrEqualTo(rows);
                    }
                }
            }
        }
    }

    @Test
    void closedReplica_refusesNewConnections() throws Exception {
        Storage storage = FileSystemStorage.open(dir.resolve("storage"));
        try (Primary primary = Primary.open(storage, dir.resolve("primary.db"), PrimaryOptions.durable())) {
            primary.write(conn -> exec(conn, "create table t(x)")).get();
            Replica replica = Replica.open(storage, dir.resolve("replica.db"));
            DataSource ds = replica.dataSource();
            Connection lent = ds.getConnection();
            replica.close();
            lent.close(); // after the replica: nothing to give back, no error
            assertThatThrownBy(ds::getConnection).isInstanceOf(SQLException.class).hasMessageContaining("closed");
        }
    }
}
