package io.walship.bench;

import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.storage.fs.FileSystemStorage;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.sqlite.SQLiteConfig;

/**
 * The child process of the {@code big_txn_*} measurements, run on a capped heap: commits one
 * transaction of {@code mib} MiB of random 64 KiB blobs, first on plain sqlite-jdbc (WAL,
 * synchronous=NORMAL), then on a walship primary (ASYNC, file storage), and prints
 * {@code RESULT <sqlite commit ms> <walship commit ms> <commit to stored ms> <peak heap bytes>}.
 * The peak is the largest heap in use seen by a 5 ms sampler during the walship transaction,
 * garbage included: an upper bound of what capture and flush need.
 *
 * <p>Arguments: scratch directory, MiB.
 */
public final class BigTransactionWriter {
    private BigTransactionWriter() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int mib = Integer.parseInt(args[1]);
        String fill = "with recursive c(i) as (select 1 union all select i + 1 from c where i < "
                + (((long) mib << 20) / (64 << 10)) + ") insert into t(b) select randomblob(65536) from c";

        long sqliteMillis;
        try (Connection plain = BenchDatabase.plain(dir.resolve("plain.db"), SQLiteConfig.SynchronousMode.NORMAL)) {
            exec(plain, "create table t(id integer primary key, b blob)");
            plain.setAutoCommit(false);
            long started = System.nanoTime();
            exec(plain, fill);
            plain.commit();
            sqliteMillis = (System.nanoTime() - started) / 1_000_000;
        }

        // No checkpoint after the write, so the write call is SQLite's commit and what follows is capture.
        PrimaryOptions options = PrimaryOptions.builder().durability(Durability.ASYNC)
                .checkpointFrames(Integer.MAX_VALUE).build();
        try (Primary primary = Primary.open(FileSystemStorage.open(dir.resolve("storage")), dir.resolve("walship.db"),
                options)) {
            primary.write(conn -> exec(conn, "create table t(id integer primary key, b blob)")).get();
            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            System.gc();
            AtomicLong peak = new AtomicLong(memory.getHeapMemoryUsage().getUsed());
            AtomicBoolean done = new AtomicBoolean();
            Thread sampler = new Thread(() -> {
                while (!done.get()) {
                    peak.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "heap-sampler");
            sampler.start();
            long started = System.nanoTime();
            primary.write(conn -> exec(conn, fill));
            long committed = System.nanoTime();
            primary.flush().get();
            long stored = System.nanoTime();
            done.set(true);
            sampler.join();
            System.out.println("RESULT " + sqliteMillis + " " + (committed - started) / 1_000_000 + " "
                    + (stored - committed) / 1_000_000 + " " + peak.get());
        }
    }

    private static void exec(Connection conn, String sql) throws SQLException {
        try (Statement s = conn.createStatement()) {
            s.execute(sql);
        }
    }
}
