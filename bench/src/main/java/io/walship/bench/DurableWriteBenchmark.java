package io.walship.bench;

import io.walship.Durability;
import io.walship.Primary;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.sqlite.SQLiteConfig;

/**
 * Durable writes, one row per transaction. Plain SQLite makes each commit durable by fsyncing
 * (WAL, {@code synchronous=FULL}, one connection); walship makes it durable by storing its
 * segment (DURABLE mode, file storage) and acknowledging after the store, with group commit
 * across 16 writer threads. {@code durable_write_ratio_16} = walship16 / sqliteFull.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class DurableWriteBenchmark {

    /** Plain SQLite, synchronous=FULL, one connection used by one thread. */
    @State(Scope.Benchmark)
    public static class Plain {
        Path dir;
        Connection conn;
        PreparedStatement insert;

        @Setup(Level.Trial)
        public void open() throws SQLException {
            dir = BenchDatabase.tempDir("durable-plain");
            conn = BenchDatabase.plain(dir.resolve("plain.db"), SQLiteConfig.SynchronousMode.FULL);
            insert = conn.prepareStatement(BenchDatabase.INSERT);
        }

        @TearDown(Level.Trial)
        public void close() throws SQLException {
            insert.close();
            conn.close();
            BenchDatabase.delete(dir);
        }
    }

    /** A DURABLE walship primary on file storage, shared by the benchmark threads. */
    @State(Scope.Benchmark)
    public static class Walship {
        Path dir;
        Primary primary;

        @Setup(Level.Trial)
        public void open() throws SQLException, InterruptedException {
            dir = BenchDatabase.tempDir("durable-walship");
            primary = BenchDatabase.primary(dir, Durability.DURABLE);
            primary.write(BenchDatabase::createSchema).get();
        }

        @TearDown(Level.Trial)
        public void close() {
            primary.close();
            BenchDatabase.delete(dir);
        }
    }

    private static final Random RANDOM = new Random(7);

    @Benchmark
    @Threads(1)
    public void sqliteFull(Plain plain) throws SQLException {
        BenchDatabase.bindRow(plain.insert, RANDOM);
        plain.insert.executeUpdate();
    }

    @Benchmark
    @Threads(16)
    public long walship16(Walship walship) throws SQLException, InterruptedException {
        return walship.primary.write(conn -> {
            try (PreparedStatement insert = conn.prepareStatement(BenchDatabase.INSERT)) {
                BenchDatabase.bindRow(insert, ThreadLocalRandom.current());
                insert.executeUpdate();
            }
        }).get();
    }

    @Benchmark
    @Threads(1)
    public long walship1(Walship walship) throws SQLException, InterruptedException {
        return walship16(walship);
    }
}
