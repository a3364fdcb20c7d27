package io.walship.bench;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.walship.Durability;
import io.walship.Primary;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.sqlite.SQLiteConfig;

/**
 * One writer, small transactions: plain sqlite-jdbc in WAL mode against a walship primary in
 * ASYNC mode, both at {@code synchronous=NORMAL}, on a database prefilled to about 10 MB.
 * {@code async_write_ratio} = walship ops/s / plain ops/s for the "insert" workload;
 * {@code walship-metrics} is the same primary recording into a Prometheus registry.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class WriteBenchmark {
    /**
     * sqlite: plain sqlite-jdbc; walship: an ASYNC primary; walship-metrics: one with a Prometheus
     * registry; walship-subscribed4: one with four subscribers reading every transaction's pages;
     * walship-encrypted: one encrypting what it stores (AES-256-GCM).
     */
    @Param({"sqlite", "walship", "walship-metrics", "walship-subscribed4", "walship-encrypted"})
    public String engine;

    /** insert: one row per transaction; batch100: 100 rows; update: one indexed update. */
    @Param({"insert", "batch100", "update"})
    public String workload;

    @Param({"10485760"})
    public long prefillBytes;

    private Path dir;
    private Connection plain;
    private Primary primary;
    private PreparedStatement insert;
    private PreparedStatement update;
    private final Random random = new Random(42);
    private long maxId;

    @Setup(Level.Trial)
    public void open() throws SQLException {
        dir = BenchDatabase.tempDir("write");
        Connection conn;
        if (engine.equals("sqlite")) {
            plain = BenchDatabase.plain(dir.resolve("plain.db"), SQLiteConfig.SynchronousMode.NORMAL);
            BenchDatabase.fill(plain, prefillBytes, new Random(1));
            conn = plain;
        } else {
            primary = engine.equals("walship-encrypted")
                    ? BenchDatabase.primary(dir, Durability.ASYNC, EncryptionCost.encryption())
                    : BenchDatabase.primary(dir, Durability.ASYNC, engine.equals("walship-metrics")
                    ? new PrometheusMeterRegistry(PrometheusConfig.DEFAULT) : null);
            primary.write(c -> {
                BenchDatabase.createSchema(c);
                BenchDatabase.fill(c, prefillBytes, new Random(1));
            });
            if (engine.equals("walship-subscribed4")) {
                for (int i = 0; i < 4; i++) {
                    primary.subscribe(primary.txid() + 1, txn -> txn.readPages((pgno, image) -> { }));
                }
            }
            // the writer connection outlives each write: statements prepared on it stay valid,
            // though the connection lent to a write refuses calls after it
            primary.write(this::prepare);
        }
        if (plain != null) {
            prepare(plain);
        }
    }

    private void prepare(Connection conn) throws SQLException {
        maxId = BenchDatabase.maxId(conn);
        insert = conn.prepareStatement(BenchDatabase.INSERT);
        update = conn.prepareStatement(BenchDatabase.UPDATE);
    }

    @TearDown(Level.Trial)
    public void close() throws SQLException {
        insert.close();
        update.close();
        if (plain != null) {
            plain.close();
        }
        if (primary != null) {
            primary.close();
        }
        BenchDatabase.delete(dir);
    }

    @Benchmark
    public void write() throws SQLException {
        if (plain != null) {
            if (workload.equals("batch100")) {
                plain.setAutoCommit(false);
                work();
                plain.commit();
                plain.setAutoCommit(true);
            } else {
                work();
            }
        } else {
            primary.write(c -> work());
        }
    }

    private void work() throws SQLException {
        switch (workload) {
            case "insert":
                BenchDatabase.bindRow(insert, random);
                insert.executeUpdate();
                break;
            case "batch100":
                for (int i = 0; i < 100; i++) {
                    BenchDatabase.bindRow(insert, random);
                    insert.executeUpdate();
                }
                break;
            case "update":
                BenchDatabase.bindUpdate(update, random, maxId);
                update.executeUpdate();
                break;
            default:
                throw new IllegalArgumentException(workload);
        }
    }
}
