package io.walship.it;

import io.walship.Ack;
import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.storage.fs.FileSystemStorage;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The child process of {@link PrimaryCrashTest}: writes rows as fast as it can from several
 * threads and prints {@code ACK <txid> <row id>} once each row's transaction is stored.
 * It never stops by itself; the test kills it with SIGKILL.
 *
 * <p>Arguments: storage directory, database file, DURABLE|ASYNC, first row id, threads.
 */
public final class CrashWorkload {
    private CrashWorkload() {
    }

    public static void main(String[] args) throws Exception {
        Path storageDir = Path.of(args[0]);
        Path db = Path.of(args[1]);
        Durability durability = Durability.valueOf(args[2]);
        AtomicLong nextId = new AtomicLong(Long.parseLong(args[3]));
        int threads = Integer.parseInt(args[4]);
        PrintStream out = System.out;
        PrimaryOptions options = PrimaryOptions.builder().durability(durability)
                .flushInterval(Duration.ofMillis(20)).checkpointFrames(64).snapshotAfterLogBytes(256 << 10).build();
        Primary primary = Primary.open(FileSystemStorage.open(storageDir), db, options);
        primary.write(conn -> {
            try (Statement s = conn.createStatement()) {
                s.execute("create table if not exists t(id integer primary key, payload text)");
            }
        }).get();
        out.println("OPEN " + primary.txid());
        out.flush();
        for (int t = 0; t < threads; t++) {
            Thread thread = new Thread(() -> {
                try {
                    while (true) {
                        long id = nextId.getAndIncrement();
                        Ack<Void> ack = primary.write(conn -> {
                            try (PreparedStatement ps = conn.prepareStatement("insert into t values (?, ?)")) {
                                ps.setLong(1, id);
                                ps.setString(2, ("row " + id + " ").repeat(1 + (int) (id % 40)));
                                ps.executeUpdate();
                            }
                        });
                        long txid = ack.get();
                        synchronized (out) {
                            out.println("ACK " + txid + " " + id);
                            out.flush();
                        }
                    }
                } catch (Exception e) {
                    synchronized (out) {
                        out.println("ERROR " + e);
                        out.flush();
                    }
                }
            });
            thread.start();
        }
    }
}
