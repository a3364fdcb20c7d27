package io.walship.testing;

import static io.walship.testing.Rows.exec;
import static org.assertj.core.api.Assertions.assertThat;

import io.walship.Primary;
import io.walship.restore.Restore;
import io.walship.restore.RestoreResult;
import io.walship.restore.RestoreTarget;
import io.walship.storage.Storage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A workload whose every state is known: table {@code t(id, v, pad)}, each transaction inserting a
 * row and updating a random older one, with the row count and the sum of {@code v} after each txid
 * kept in Java. Restores at any txid are checked against it, and with the {@code sqlite3}-independent
 * integrity check. Thread-safe for one writer.
 */
public final class CheckedHistory {
    private static final Duration BOUND = Duration.ofSeconds(30);

    private final Random random;
    /** Row count and sum of v after each txid. */
    private final Map<Long, long[]> expected = new ConcurrentHashMap<>();
    private final Map<Long, Long> rows = new ConcurrentHashMap<>();
    private final AtomicInteger restores = new AtomicInteger();
    private long sum;

    public CheckedHistory(long seed) {
        this.random = new Random(seed);
    }

    /** Creates the table: the history's first checked state (no rows). */
    public long createTable(Primary primary) throws Exception {
        long txid = primary.write(conn -> exec(conn, "create table t(id integer primary key, v integer, pad blob)"))
                .get(BOUND);
        expected.put(txid, new long[] {0, 0});
        return txid;
    }

    /** One transaction: a new row and an update of a random old one; its ack awaited (one segment each in DURABLE). */
    public synchronized long writeOne(Primary primary) throws Exception {
        long txid = writeOneUnacked(primary).get(BOUND);
        return txid;
    }

    /** As {@link #writeOne}, returning once SQLite committed, the ack not awaited. */
    public synchronized io.walship.Ack<Void> writeOneUnacked(Primary primary) throws Exception {
        long id = rows.size() + 1;
        long value = random.nextInt(1_000_000);
        long updated = 1 + random.nextInt((int) id);
        long newValue = random.nextInt(1_000_000);
        io.walship.Ack<Void> ack = primary.write(conn -> {
            exec(conn, "insert into t(id, v, pad) values (" + id + ", " + value + ", randomblob(300))");
            exec(conn, "update t set v = " + newValue + " where id = " + updated);
        });
        rows.put(id, value);
        sum += value;
        sum += newValue - rows.put(updated, newValue);
        expected.put(ack.txid(), new long[] {rows.size(), sum});
        return ack;
    }

    /** Whether the state after {@code txid} is known (written by this history). */
    public boolean knows(long txid) {
        return expected.containsKey(txid);
    }

    /** Restores {@code txid} from {@code from} into {@code dir} and checks rows, sum and integrity; deletes the file. */
    public RestoreResult assertRestoresExactly(Storage from, long txid, Path dir) throws Exception {
        Path file = dir.resolve("restore-" + restores.incrementAndGet() + ".db");
        RestoreResult result = Restore.run(from, file, RestoreTarget.txid(txid));
        assertThat(result.txid()).isEqualTo(txid);
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + file)) {
            assertState(conn, txid);
            try (var st = conn.createStatement(); var rs = st.executeQuery("pragma integrity_check")) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo("ok");
            }
        }
        Files.delete(file);
        return result;
    }

    /** Checks that {@code conn} reads the state this history had after {@code txid}. */
    public void assertState(Connection conn, long txid) throws java.sql.SQLException {
        long[] state = expected.get(txid);
        assertThat(state).as("a state written at txid %d", txid).isNotNull();
        assertThat(Rows.queryLong(conn, "select count(*) from t")).as("rows at txid %d", txid).isEqualTo(state[0]);
        assertThat(Rows.queryLong(conn, "select coalesce(sum(v), 0) from t")).as("sum at txid %d", txid)
                .isEqualTo(state[1]);
    }
}
