package io.walship.it;

import io.walship.Ack;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.storage.fs.FileSystemStorage;
import java.nio.file.Path;
import java.sql.Statement;
import java.time.Duration;

/**
 * A child process for {@link FoldedWalCrashTest}: opens a primary (ASYNC, nothing uploaded or
 * folded on its own), creates {@code t(x)} if missing, inserts {@code first..last} one
 * transaction each, and with {@code fold} stores them and folds the WAL with
 * {@link Primary#checkpoint()}; then prints {@code DONE <txid>} and waits to be killed.
 *
 * <p>Arguments: storage directory, database file, first, last, fold|nofold.
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
            int value = i;
            ack = primary.write(conn -> {
                try (Statement s = conn.createStatement()) {
                    s.executeUpdate("insert into t values (" + value + ")");
                }
            });
        }
        if (args[4].equals("fold")) {
            primary.flush().get();
            if (!primary.checkpoint()) {
                throw new IllegalStateException("the checkpoint did not fold the WAL");
            }
        }
        System.out.println("DONE " + ack.txid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
