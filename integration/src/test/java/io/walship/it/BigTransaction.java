package io.walship.it;

import static io.walship.testing.Rows.exec;

import io.walship.Ack;
import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.replica.Replica;
import io.walship.replica.ReplicaOptions;
import io.walship.storage.Storage;
import io.walship.storage.fs.FileSystemStorage;
import io.walship.storage.s3.S3Storage;
import java.net.URI;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A child process for the big-transaction tests, run with a capped heap. Every line it prints
 * is an event the test waits for; a failure prints {@code FAILED <exception>}.
 *
 * <p>{@code write STORAGE DB MIB STEPS}: opens a primary (DURABLE) and runs the steps in order,
 * one transaction each, waiting for each ack: {@code setup} creates {@code t(id, b)} and
 * {@code meta(n)} (txid 1); {@code fill} inserts MIB MiB of random 64 KiB blobs in one
 * transaction; {@code huge} inserts three zero blobs of 800 MB (2.4 GB, meant for a database of
 * 64 KiB pages); {@code thin} deletes every tenth row; {@code vacuum} runs VACUUM, which rewrites
 * the whole database in one transaction. Every step keeps {@code meta.n = count(*) from t}.
 * With no steps it opens, flushes and closes: a restart after a kill.
 *
 * <p>{@code follow STORAGE REPLICA TXID}: opens a replica and follows until TXID while two
 * readers check {@code meta.n = count(*)} on every read, then prints how many reads saw what.
 *
 * <p>STORAGE is {@code file:DIR} or {@code s3:ENDPOINT|BUCKET} (credentials from the
 * environment, as the AWS default chain reads them).
 */
public final class BigTransaction {
    static final int BLOB_BYTES = 64 << 10;

    private BigTransaction() {
    }

    public static void main(String[] args) {
        try {
            if (args[0].equals("write")) {
                write(storage(args[1]), Path.of(args[2]), Integer.parseInt(args[3]),
                        args.length > 4 ? List.of(args[4].split(",")) : List.of());
            } else {
                follow(storage(args[1]), Path.of(args[2]), Long.parseLong(args[3]));
            }
        } catch (Throwable e) {
            System.out.println("FAILED " + e);
            System.out.flush();
            System.exit(1);
        }
        System.exit(0);
    }

    static Storage storage(String spec) {
        if (spec.startsWith("file:")) {
            return FileSystemStorage.open(Path.of(spec.substring(5)));
        }
        String[] parts = spec.substring(3).split("\\|");
        return S3Storage.builder(parts[1]).endpoint(URI.create(parts[0])).region("us-east-1").pathStyle(true).open();
    }

    private static void write(Storage storage, Path db, int mib, List<String> steps) throws Exception {
        PrimaryOptions options = PrimaryOptions.builder().durability(Durability.DURABLE).build();
        try (Primary primary = Primary.open(storage, db, options)) {
            say("OPENED " + primary.openOutcome().kind() + " " + primary.txid());
            for (String step : steps) {
                Ack<Void> ack = primary.write(conn -> {
                    switch (step) {
                        case "setup":
                            exec(conn, "create table t(id integer primary key, b blob)");
                            exec(conn, "create table meta(n integer)");
                            exec(conn, "insert into meta values (0)");
                            break;
                        case "fill":
                            exec(conn, "with recursive c(i) as (select 1 union all select i + 1 from c where i < "
                                    + rows(mib) + ") insert into t(b) select randomblob(" + BLOB_BYTES + ") from c");
                            exec(conn, "update meta set n = (select count(*) from t)");
                            break;
                        case "huge": // 2.4 GB of zeros: past every 2 GiB offset, in a database of 64 KiB pages
                            exec(conn, "insert into t(b) values (zeroblob(800000000)), (zeroblob(800000000)),"
                                    + " (zeroblob(800000000))");
                            exec(conn, "update meta set n = (select count(*) from t)");
                            break;
                        case "thin":
                            exec(conn, "delete from t where id % 10 = 0");
                            exec(conn, "update meta set n = (select count(*) from t)");
                            break;
                        case "vacuum":
                            conn.setAutoCommit(true);
                            exec(conn, "VACUUM");
                            break;
                        default:
                            throw new IllegalArgumentException("unknown step " + step);
                    }
                });
                say("COMMITTED " + step + " " + ack.txid());
                ack.get();
                say("ACKED " + step + " " + ack.txid());
            }
            say("FLUSHED " + primary.flush().get());
        }
        say("CLOSED");
    }

    static long rows(int mib) {
        return ((long) mib << 20) / BLOB_BYTES;
    }

    private static void follow(Storage storage, Path path, long target) throws Exception {
        ReplicaOptions options = ReplicaOptions.builder().pollInterval(Duration.ofMillis(50)).build();
        try (Replica replica = Replica.open(storage, path, options)) {
            say("OPENED " + replica.txid());
            replica.follow();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong reads = new AtomicLong();
            AtomicLong filledReads = new AtomicLong();
            AtomicReference<String> violation = new AtomicReference<>();
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 2; r++) {
                Thread reader = new Thread(() -> {
                    while (!stop.get() && violation.get() == null) {
                        try {
                            long[] seen = replica.read(conn -> {
                                try (Statement s = conn.createStatement();
                                     ResultSet rs = s.executeQuery(
                                             "select (select count(*) from t), (select n from meta)")) {
                                    rs.next();
                                    return new long[] {rs.getLong(1), rs.getLong(2)};
                                }
                            });
                            if (seen[0] != seen[1]) {
                                violation.set("count(*) " + seen[0] + " but meta.n " + seen[1]);
                            }
                            reads.incrementAndGet();
                            if (seen[0] > 0) {
                                filledReads.incrementAndGet();
                            }
                        } catch (Exception e) {
                            violation.set(e.toString());
                        }
                    }
                }, "reader-" + r);
                reader.start();
                readers.add(reader);
            }
            boolean reached = replica.awaitTxid(target, Duration.ofMinutes(10));
            stop.set(true);
            for (Thread reader : readers) {
                reader.join();
            }
            if (!reached) {
                throw new IllegalStateException("replica stopped at txid " + replica.txid() + " short of " + target
                        + ", last error " + replica.lastError());
            }
            say("FOLLOWED " + replica.txid() + " reads " + reads.get() + " filled " + filledReads.get()
                    + " violation " + violation.get());
        }
    }

    private static void say(String line) {
        System.out.println(line);
        System.out.flush();
    }
}
