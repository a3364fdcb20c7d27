package io.walship.it;

import io.walship.Ack;
import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.storage.ForwardingStorage;
import io.walship.storage.PutResult;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The child process of {@link PrimaryCrashTest}: writes rows as fast as it can from several
 * threads, prints {@code WROTE <txid> <row id>} as soon as each row's {@code write} returns
 * (committed, not yet stored) and {@code ACK <txid> <row id>} once it is stored. A maintenance
 * thread checkpoints and snapshots at random moments. Opening the primary (a reopen after the
 * previous kill), every storage put, checkpoint and snapshot is announced with a
 * {@code BEGIN <phase>} line and, when it returns, the same {@code END <phase>} line, so the test
 * can kill the process inside the phase it aims at. {@code OPENED <kind> <fileRead>} says how the
 * open took up the file. It never stops by itself; the test kills it with SIGKILL.
 *
 * <p>Arguments: storage directory, database file, DURABLE|ASYNC, first row id, threads.
 */
public final class CrashWorkload {
    private static final PrintStream out = System.out;

    private CrashWorkload() {
    }

    /** The payload row {@code id} always has: the reference model of the table. */
    static String payload(long id) {
        return ("row " + id + " ").repeat(1 + (int) (id % 40));
    }

    public static void main(String[] args) throws Exception {
        Path storageDir = Path.of(args[0]);
        Path db = Path.of(args[1]);
        Durability durability = Durability.valueOf(args[2]);
        AtomicLong nextId = new AtomicLong(Long.parseLong(args[3]));
        int threads = Integer.parseInt(args[4]);
        // big checkpoints (up to ~8 MB of WAL) so a kill can land inside one
        PrimaryOptions options = PrimaryOptions.builder().durability(durability)
                .flushInterval(Duration.ofMillis(20)).checkpointFrames(2000).snapshotAfterLogBytes(256 << 10).build();
        Primary primary = announce("open", () -> Primary.open(new AnnouncingStorage(
                FileSystemStorage.open(storageDir)), db, options));
        print("OPENED " + primary.openOutcome().kind() + " " + primary.openOutcome().fileRead());
        primary.write(conn -> {
            try (Statement s = conn.createStatement()) {
                s.execute("create table if not exists t(id integer primary key, payload text)");
            }
        }).get();
        print("OPEN " + primary.txid());
        for (int t = 0; t < threads; t++) {
            new Thread(() -> {
                try {
                    while (true) {
                        long id = nextId.getAndIncrement();
                        Ack<Void> ack = primary.write(conn -> {
                            try (PreparedStatement ps = conn.prepareStatement("insert into t values (?, ?)")) {
                                ps.setLong(1, id);
                                ps.setString(2, payload(id));
                                ps.executeUpdate();
                            }
                        });
                        print("WROTE " + ack.txid() + " " + id);
                        print("ACK " + ack.get() + " " + id);
                    }
                } catch (Exception e) {
                    print("ERROR " + e);
                }
            }, "writer-" + t).start();
        }
        Random random = new Random();
        try {
            for (long round = 0; ; round++) {
                Thread.sleep(5 + random.nextInt(30));
                if (round % 2 == 0) {
                    announce("checkpoint", primary::checkpoint);
                } else {
                    announce("snapshot", primary::snapshot);
                }
            }
        } catch (Exception e) {
            print("ERROR " + e);
        }
    }

    private interface Phase<T> {
        T run() throws Exception;
    }

    private static <T> T announce(String phase, Phase<T> work) throws Exception {
        print("BEGIN " + phase);
        T result = work.run();
        print("END " + phase);
        return result;
    }

    private static void print(String line) {
        synchronized (out) {
            out.println(line);
            out.flush();
        }
    }

    /** File storage that announces every put. */
    private static final class AnnouncingStorage extends ForwardingStorage {
        AnnouncingStorage(Storage delegate) {
            super(delegate);
        }

        @Override
        protected PutResult put(String key, Supplier<PutResult> call) {
            try {
                return announce("put " + key, call::get);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
