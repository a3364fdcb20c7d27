package io.walship.bench;

import io.walship.Ack;
import io.walship.Durability;
import io.walship.Primary;
import io.walship.PrimaryOptions;
import io.walship.storage.fs.FileSystemStorage;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.Random;

/**
 * The child process of the {@code reopen_after_crash_ms} measurement: opens the primary of the
 * restore run's database, commits {@code transactions} single-row inserts that it never uploads
 * (ASYNC, an hour's flush interval, no checkpoint), prints {@code DONE <txid>} and waits for the
 * SIGKILL that leaves them in the WAL.
 *
 * <p>Arguments: storage directory, database file, transactions.
 */
public final class CrashingWriter {
    private CrashingWriter() {
    }

    public static void main(String[] args) throws Exception {
        PrimaryOptions options = PrimaryOptions.builder().durability(Durability.ASYNC)
                .flushInterval(Duration.ofHours(1)).flushBytes(1L << 40).maxPendingBytes(1L << 40)
                .checkpointFrames(Integer.MAX_VALUE).snapshotAfterLogBytes(0).build();
        Primary primary = Primary.open(FileSystemStorage.open(Path.of(args[0])), Path.of(args[1]), options);
        int transactions = Integer.parseInt(args[2]);
        Random random = new Random(11);
        Ack<Void> last = null;
        for (int i = 0; i < transactions; i++) {
            byte[] body = new byte[600];
            random.nextBytes(body);
            last = primary.write(conn -> {
                try (PreparedStatement insert = conn.prepareStatement(
                        "insert into blob_rows(note, body) values (?, ?)")) {
                    insert.setString(1, Long.toHexString(random.nextLong()));
                    insert.setBytes(2, body);
                    insert.executeUpdate();
                }
            });
        }
        System.out.println("DONE " + last.txid());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
