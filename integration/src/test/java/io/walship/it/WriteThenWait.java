package io.walship.it;

import io.walship.Ack;
import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.storage.fs.FileSystemStorage;
import java.nio.file.Path;
import java.sql.Statement;
import java.time.Duration;

/**
 * A child process for restart tests: opens a primary, creates {@code t(x)}, inserts
 * {@code 1..rows} one transaction each (in DURABLE mode waiting for each ack), prints
 * {@code DONE <txid>} and waits to be killed. In ASYNC mode nothing is uploaded before the kill
 * (an hour's flush interval), and no mode checkpoints: the WAL holds every transaction.
 *
 * <p>Arguments: storage directory, database file, DURABLE|ASYNC, rows.
 */
public final class WriteThenWait {
    private WriteThenWait() {
    }

    public static void main(String[] args) throws Exception {
        Durability durability = Durability.valueOf(args[2]);
        int rows = Integer.parseInt(args[3]);
        PrimaryOptions options = PrimaryOptions.builder().durability(durability).flushInterval(Duration.ofHours(1))
                .flushBytes(1L << 40).maxPendingBytes(1L << 40).checkpointFrames(1_000_000).build();
        Primary primary = Primary.open(FileSystemStorage.open(Path.of(args[0])), Path.of(args[1]), options);
        Ack<Void> ack = primary.write(conn -> {
            try (Statement s = conn.createStatement()) {
                s.execute("create table t(x)");
            }
        });
        for (int i = 1; i <= rows; i++) {
            if (durability == Durability.DURABLE) {
                ack.get();
            }
            int value = i;
            ack = primary.write(conn -> {
                try (Statement s = conn.createStatement()) {
                    s.executeUpdate("insert into t values (" + value + ")");
                }
            });
        }
        if (durability == Durability.DURABLE) {
            ack.get();
        }
        System.out.println("DONE " + ack.txid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
