package io.walship.it;

import io.walship.Ack;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.storage.fs.FileSystemStorage;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/**
 * A child process for {@link FoldedWalCrashTest}: opens a primary (ASYNC, nothing uploaded or
 * folded on its own), creates {@code t(x)} if missing, inserts {@code first..last} one
 * transaction each, and with {@code fold} stores them and folds the WAL with
 * {@link Primary#checkpoint()}; then prints {@code DONE <txid>} and waits to be killed. With
 * {@code fold-reader-held} a reader holds a read mark on the WAL's last frame through the fold,
 * and the child inserts {@code last + 1 .. last + 10} after it: SQLite cannot start the WAL over
 * while the reader holds its mark, so they follow the folded frames.
 *
 * <p>Arguments: storage directory, database file, first, last, fold|nofold|fold-reader-held.
 */
public final class FoldThenWait {
    private FoldThenWait() {
    }

    public static void main(String[] args) throws Exception {
        int first = Integer.parseInt(args[2]);
        int last = Integer.parseInt(args[3]);
        PrimaryOptions options = PrimaryOptions.builder().flushInterval(Duration.ofHours(1)).flushBytes(1L << 40)
                .maxPendingBytes(1L << 40).checkpointFrames(1_000_000).build();
        Primary primary = Primary.open(FileSystemStorage.open(Path.of(args[0])), Path.of(args[1]), options);
        Ack<Void> ack = primary.write(conn -> {
            try (Statement s = conn.createStatement()) {
                s.execute("create table if not exists t(x)");
            }
        });
        for (int i = first; i <= last; i++) {
            ack = insert(primary, i);
        }
        if (args[4].equals("fold")) {
            fold(primary);
        } else if (args[4].equals("fold-reader-held")) {
            Connection reader = DriverManager.getConnection("jdbc:sqlite:" + args[1]);
            reader.setAutoCommit(false);
            try (Statement s = reader.createStatement(); ResultSet rs = s.executeQuery("select count(*) from t")) {
                rs.next(); // the read mark: held until the kill
            }
            fold(primary);
            for (int i = last + 1; i <= last + 10; i++) {
                ack = insert(primary, i);
            }
        }
        System.out.println("DONE " + ack.txid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    private static Ack<Void> insert(Primary primary, int value) throws SQLException {
        return primary.write(conn -> {
            try (Statement s = conn.createStatement()) {
                s.executeUpdate("insert into t values (" + value + ")");
            }
        });
    }

    private static void fold(Primary primary) throws Exception {
        primary.flush().get();
        if (!primary.checkpoint()) {
            throw new IllegalStateException("the checkpoint did not fold the WAL");
        }
    }
}
