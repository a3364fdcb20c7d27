package io.walship.it;

import io.walship.Ack;
import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.Walship;
import io.walship.storage.fs.FileSystemStorage;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A child process for {@link ManyDatabasesCrashTest}: one runtime with {@code databases}
 * primaries (even ones DURABLE, odd ones ASYNC, small checkpoints so that checkpoints run too),
 * and four threads inserting rows {@code (id)} with ids from {@code firstId} into databases drawn
 * at random, until killed. Prints {@code OPENING <db>} before it opens each database, {@code OPEN} once every
 * database is open, {@code WROTE <db> <id>}
 * once a write returned (committed locally) and {@code ACK <db> <id>} once it is stored.
 *
 * <p>Arguments: storage directory, database directory, databases, first id, seed.
 */
public final class ManyDatabaseWriter {
    private ManyDatabaseWriter() {
    }

    static PrimaryOptions options(int database) {
        return PrimaryOptions.builder().durability(database % 2 == 0 ? Durability.DURABLE : Durability.ASYNC)
                .flushInterval(Duration.ofMillis(200)).checkpointFrames(100).build();
    }

    static String name(int database) {
        return "db-" + database;
    }

    public static void main(String[] args) throws Exception {
        Path storage = Path.of(args[0]);
        Path databases = Path.of(args[1]);
        int count = Integer.parseInt(args[2]);
        AtomicLong ids = new AtomicLong(Long.parseLong(args[3]));
        long seed = Long.parseLong(args[4]);
        PrintStream out = System.out;
        Walship walship = Walship.open(FileSystemStorage.open(storage), new Walship.Threads(2, 4, 1, 1));
        List<Primary> primaries = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.println("OPENING " + i);
            out.flush();
            Primary primary = walship.openPrimary(name(i), databases.resolve(name(i) + ".db"), options(i));
            primary.write(conn -> {
                try (Statement s = conn.createStatement()) {
                    s.execute("create table if not exists t(id integer primary key, v blob)");
                }
            });
            primaries.add(primary);
        }
        out.println("OPEN");
        out.flush();
        for (int w = 0; w < 4; w++) {
            Random random = new Random(seed + w);
            Thread writer = new Thread(() -> {
                try {
                    while (true) {
                        int i = random.nextInt(count);
                        long id = ids.getAndIncrement();
                        // some rows span several pages, so that transactions differ in size
                        int bytes = random.nextInt(10) == 0 ? 20_000 : 100;
                        Ack<Void> ack = primaries.get(i).write(conn -> {
                            try (Statement s = conn.createStatement()) {
                                s.executeUpdate("insert into t values (" + id + ", randomblob(" + bytes + "))");
                            }
                        });
                        out.println("WROTE " + i + " " + id);
                        ack.stored().thenRun(() -> out.println("ACK " + i + " " + id));
                        if (i % 2 == 0) {
                            ack.get();
                        }
                    }
                } catch (Exception e) {
                    out.println("ERROR " + e);
                }
            }, "writer-" + w);
            writer.start();
        }
        Thread.sleep(Long.MAX_VALUE);
    }
}
